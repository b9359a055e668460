// No process outlives its test file. Every test file runs in its own forked worker; this guard, after the file's own
// hooks, lists what that worker started and left running — its descendants by parent pid, and any process carrying the
// worker's mark in its environment (set here, inherited by everything it spawns, so a detached engine whose parent
// has exited is still found) — waits a few seconds for them to exit, then kills them and fails, naming each.
import { readFileSync, readdirSync } from 'node:fs';
import { afterAll } from 'vitest';

const MARK_VAR = 'FLOTILLA_TEST_WORKER';
const mark = `${MARK_VAR}=${process.pid}`;
process.env[MARK_VAR] = String(process.pid);

/** How long a file's processes may take to exit after its last hook (a browser or an agent shutting down). */
const GRACE_MS = 10_000;

interface Proc {
  pid: number;
  ppid: number;
  zombie: boolean;
  marked: boolean;
  cmd: string;
}

function read(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

function processes(): Proc[] {
  const out: Proc[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = read(`/proc/${name}/stat`);
    if (!stat) continue;
    // pid (comm) state ppid …: comm may hold spaces and parentheses, so read after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const environ = read(`/proc/${name}/environ`) ?? '';
    const cmd = (read(`/proc/${name}/cmdline`) ?? '').split('\0').filter(Boolean).join(' ');
    out.push({ pid: Number(name), ppid: Number(rest[1]), zombie: rest[0] === 'Z', marked: environ.split('\0').includes(mark), cmd });
  }
  return out;
}

/** Live processes this worker started: by the tree under it, and by the mark. */
export function leftovers(): Proc[] {
  const all = processes();
  const mine = new Set<number>([process.pid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of all) if (!mine.has(p.pid) && mine.has(p.ppid)) mine.add(p.pid), (grew = true);
  }
  return all.filter((p) => p.pid !== process.pid && !p.zombie && (mine.has(p.pid) || p.marked));
}

if (process.platform === 'linux') {
  afterAll(async () => {
    const until = Date.now() + GRACE_MS;
    let left = leftovers();
    while (left.length > 0 && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 100));
      left = leftovers();
    }
    if (left.length === 0) return;
    for (const p of left) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    const list = left.map((p) => `  pid ${p.pid} (parent ${p.ppid}): ${p.cmd.slice(0, 200)}`).join('\n');
    throw new Error(`this test file left ${left.length} process(es) running (killed now):\n${list}`);
  }, GRACE_MS + 5_000);
}
