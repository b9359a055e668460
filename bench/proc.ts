// What the benches read from /proc: Chromium's processes, their memory (PSS) and CPU time, and the machine's CPU time.
import { readFileSync, readdirSync, readlinkSync, realpathSync } from 'node:fs';

/** USER_HZ on Linux: /proc's CPU times are in these ticks. */
export const TICKS_PER_SEC = 100;

/**
 * The bench's Chromium processes: descendants of this process whose binary is Chromium's (by the resolved path, or by
 * name: Debian's /usr/bin/chromium is a script that execs /usr/lib/chromium/chromium, and the zygote and renderers are
 * started as /proc/self/exe). Throws when there are none: a bench that cannot measure must say so, not print zeros.
 */
export function chromiumPids(exe: string): number[] {
  const realExe = realpathSync(exe);
  const parent = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      // /proc/<pid>/stat: "pid (comm) state ppid …" — comm may hold spaces and parentheses: read after the last ')'.
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone
    }
  }
  const mine = (pid: number): boolean => {
    for (let p = parent.get(pid), hops = 0; p !== undefined && hops < 64; p = parent.get(p), hops++) if (p === process.pid) return true;
    return false;
  };
  const pids = [...parent.keys()].filter((pid) => {
    if (!mine(pid)) return false;
    try {
      const bin = readlinkSync(`/proc/${pid}/exe`);
      return bin === realExe || /(?:^|\/)(?:chromium|chrome|headless_shell)[^/]*$/.test(bin);
    } catch {
      return false;
    }
  });
  if (pids.length === 0)
    throw new Error(`no Chromium process found under this bench (looked for ${realExe} and chromium/chrome binaries) — cannot measure`);
  return pids;
}

/** Proportional set size of the processes, in MB (/proc/<pid>/smaps_rollup). */
export function pssMb(pids: number[]): number {
  let kb = 0;
  for (const pid of pids) {
    try {
      kb += Number(/^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
    } catch {
      // gone
    }
  }
  return kb / 1024;
}

/** User + system CPU ticks of the processes (their threads included). */
export function cpuTicks(pids: number[]): number {
  let t = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      t += Number(f[11]) + Number(f[12]);
    } catch {
      // gone
    }
  }
  return t;
}

/** CPU ticks the whole machine spent busy (every core; idle and iowait excluded), from /proc/stat. */
export function machineBusyTicks(): number {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = f;
  return user + nice + system + irq + softirq + steal;
}
