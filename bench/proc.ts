// What the benches read from /proc: Chromium's processes, their memory (PSS) and CPU time, and the machine's CPU time.
import { readFileSync, readdirSync, readlinkSync, realpathSync } from 'node:fs';

/** USER_HZ on Linux: /proc's CPU times are in these ticks. */
export const TICKS_PER_SEC = 100;

/** Every process running the Chromium binary (only the bench's browser runs here; its zygote children included). */
export function chromiumPids(exe: string): number[] {
  const realExe = realpathSync(exe);
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number)
    .filter((pid) => {
      try {
        // The zygote and renderers are started as /proc/self/exe: compare the binary, not argv[0].
        return readlinkSync(`/proc/${pid}/exe`) === realExe;
      } catch {
        return false;
      }
    });
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
