// bench/conflicts: how fast the conflict detector notices, on 10 real worktrees of one repository.
//  1. latency: a file written in one of 10 worktrees (a line another session also changed) → the 'warnings' event;
//     baseline in the same run: the same write → the first raw fs.watch event on that worktree.
//  2. a full rescan of 10 sessions × 200 changed files; baseline: one `git status --porcelain -uall` per worktree,
//     run the same way (4 at a time), which is the least any rescan must do.
//
//   npx tsx bench/conflicts.ts [--sessions 10] [--files 200]
import { parseArgs } from 'node:util';
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, watch, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ConflictDetector } from '../electron/engine/workspace/index.ts';
import { git, makeRepo, tempDir } from '../test/fixtures/repo.ts';

const exec = promisify(execFile);
const { values } = parseArgs({ options: { sessions: { type: 'string', default: '10' }, files: { type: 'string', default: '200' } } });
const N = Number(values.sessions);
const FILES = Number(values.files);

const base = Array.from({ length: 20 }, (_, i) => `line ${i + 1}`).join('\n') + '\n';
const repo = makeRepo({ 'shared.txt': base, 'README.md': '# bench\n' });
const baseCommit = git(repo, 'rev-parse', 'HEAD');
const root = tempDir('flotilla-bench-wt-');
const worktrees = Array.from({ length: N }, (_, i) => {
  const dir = join(root, String(i + 1));
  git(repo, 'worktree', 'add', '-q', '-b', `bench/${i + 1}`, dir, baseCommit);
  return dir;
});
const editLine = (file: string, n: number, text: string) => {
  const lines = readFileSync(file, 'utf8').split('\n');
  lines[n - 1] = text;
  writeFileSync(file, lines.join('\n'));
};
worktrees.forEach((w, i) => {
  mkdirSync(join(w, 'gen'));
  for (let f = 0; f < FILES; f++) writeFileSync(join(w, 'gen', `s${i}-f${f}.txt`), `file ${f} of session ${i}\n`);
});
editLine(join(worktrees[0]!, 'shared.txt'), 5, 'session one');

async function limited<T>(items: T[], n: number, fn: (t: T) => Promise<unknown>): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (queue.length) await fn(queue.shift()!);
    }),
  );
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

// --- 2. full rescan vs git status baseline -----------------------------------------------------------------------------
const d = new ConflictDetector({ repo, baseCommit, baseBranch: 'main', watch: true, debounceMs: 300 });
worktrees.forEach((w, i) => d.addSession(`s${i + 1}`, w));
await d.settled();
const rescans: number[] = [];
const statuses: number[] = [];
for (let round = 0; round < 3; round++) {
  let t = performance.now();
  await limited(worktrees, 4, (w) => exec('git', ['status', '--porcelain', '-uall'], { cwd: w, maxBuffer: 64 << 20 }));
  statuses.push(performance.now() - t);
  t = performance.now();
  await d.rescanAll();
  rescans.push(performance.now() - t);
}
if (d.changes('s2').length !== FILES) throw new Error(`expected ${FILES} changes in session 2, got ${d.changes('s2').length}`);

// --- 1. write → warning latency vs raw fs.watch latency ------------------------------------------------------------------
const latencies: number[] = [];
const rawLatencies: number[] = [];
for (let round = 0; round < 3; round++) {
  const target = worktrees[1 + round]!;
  const raw = new Promise<number>((resolve) => {
    const w = watch(target, () => {
      w.close();
      resolve(performance.now());
    });
  });
  const warned = new Promise<number>((resolve) => {
    const on = (ws: { sessions: string[] }[]) => {
      if (ws.some((x) => x.sessions.includes(`s${2 + round}`))) {
        d.off('warnings', on);
        resolve(performance.now());
      }
    };
    d.on('warnings', on);
  });
  const t0 = performance.now();
  editLine(join(target, 'shared.txt'), 5, `session ${2 + round}`);
  rawLatencies.push((await raw) - t0);
  latencies.push((await warned) - t0);
  await d.settled();
}
const kinds = d.warnings().map((w) => w.kind);
d.close();

console.log(
  `bench/conflicts: ${N} worktrees × ${FILES} changed files (git ${git(repo, '--version').split(' ')[2]}, Node ${process.version})`,
);
console.log(
  `write in one worktree → conflict warning:  median ${median(latencies).toFixed(0)} ms  (${latencies.map((x) => x.toFixed(0)).join(', ')}; debounce 300 ms)   target < 1000 ms`,
);
console.log(`  baseline, the same write → raw fs.watch event:  median ${median(rawLatencies).toFixed(1)} ms`);
console.log(
  `full rescan, ${N} sessions × ${FILES} files:  median ${median(rescans).toFixed(0)} ms  (${rescans.map((x) => x.toFixed(0)).join(', ')})   target < 2000 ms`,
);
console.log(
  `  baseline, git status -uall in each worktree (4 at a time):  median ${median(statuses).toFixed(0)} ms;  ratio rescan / baseline ${(median(rescans) / median(statuses)).toFixed(2)}`,
);
console.log(`warnings at the end: ${kinds.join(', ')}`);
rmSync(root, { recursive: true, force: true });
rmSync(repo, { recursive: true, force: true });
process.exit(0);
