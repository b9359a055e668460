import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConflictDetector } from '../../electron/engine/workspace/conflicts.ts';
import type { ConflictWarning } from '../../electron/shared/contract.ts';
import { WorktreeWatcher } from '../../electron/engine/workspace/watcher.ts';
import { waitFor } from '../fixtures/wait.ts';
import { git, gitProcessEnv } from '../fixtures/repo.ts';

const LINES = Array.from({ length: 20 }, (_, i) => `line ${i + 1}`);

let tmp: string;
let repo: string;
let base: string;
const detectors: ConflictDetector[] = [];

function makeRepo(): void {
  repo = join(tmp, 'repo');
  mkdirSync(repo);
  execFileSync('git', ['init', '-q', '-b', 'main', repo], { env: gitProcessEnv() });
  writeFileSync(join(repo, 'shared.txt'), LINES.join('\n') + '\n');
  writeFileSync(join(repo, 'a.txt'), 'a\n');
  writeFileSync(join(repo, 'b.txt'), 'b\n');
  mkdirSync(join(repo, 'src'));
  writeFileSync(join(repo, 'src', 'x.ts'), 'export const x = 1;\n');
  git(repo, 'add', '.');
  git(repo, 'commit', '-qm', 'first');
  base = git(repo, 'rev-parse', 'HEAD');
}

function worktree(slot: number): string {
  const dir = join(tmp, 'wt', String(slot));
  git(repo, 'worktree', 'add', '-q', '-b', `flotilla/run/${slot}`, dir, base);
  return dir;
}

function editLine(file: string, lineNo: number, text: string): void {
  const lines = [...LINES];
  lines[lineNo - 1] = text;
  writeFileSync(file, lines.join('\n') + '\n');
}

function detector(opts: Partial<ConstructorParameters<typeof ConflictDetector>[0]> = {}): ConflictDetector {
  const d = new ConflictDetector({ repo, baseCommit: base, baseBranch: 'main', watch: false, debounceMs: 20, ...opts });
  detectors.push(d);
  return d;
}

const brief = (ws: ConflictWarning[]): string[] => ws.map((w) => `${w.kind} ${w.path} ${w.sessions.join(',')}`);

/** The next 'warnings' event that satisfies `pred`; `timeoutMs` only bounds a failure (generous: busy machines are slow). */
function nextWarnings(d: ConflictDetector, pred: (ws: ConflictWarning[]) => boolean, timeoutMs: number): Promise<ConflictWarning[]> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      d.off('warnings', on);
      reject(new Error(`no matching 'warnings' event within ${timeoutMs} ms; have ${JSON.stringify(brief(d.warnings()))}`));
    }, timeoutMs);
    const on = (ws: ConflictWarning[]): void => {
      if (!pred(ws)) return;
      clearTimeout(t);
      d.off('warnings', on);
      resolve(ws);
    };
    d.on('warnings', on);
  });
}

beforeEach(() => {
  tmp = realpathSync(mkdtempSync(join(tmpdir(), 'flotilla-conflicts-')));
  makeRepo();
});

afterEach(() => {
  for (const d of detectors.splice(0)) d.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('ConflictDetector', () => {
  it('reports nothing for disjoint changes, and reports each session’s changes', async () => {
    const [a, b] = [worktree(1), worktree(2)];
    // Sizes differ from the originals: changes.ts misses same-size edits made in the second of the last index write.
    writeFileSync(join(a, 'a.txt'), 'A, edited\n');
    writeFileSync(join(b, 'b.txt'), 'B, edited\n');
    writeFileSync(join(b, 'new.txt'), 'new\n');
    const d = detector();
    const seen: string[] = [];
    d.on('changes', (id: string) => seen.push(id));
    d.addSession('s1', a);
    d.addSession('s2', b);
    await d.rescanAll();
    expect(d.warnings()).toEqual([]);
    expect(d.changes('s1').map((f) => f.path)).toEqual(['a.txt']);
    expect(d.changes('s2').map((f) => `${f.status} ${f.path}`)).toEqual(['modified b.txt', 'untracked new.txt']);
    expect(seen.sort()).toEqual(['s1', 's2']);
  });

  it('different lines of one file: overlap only', async () => {
    const [a, b] = [worktree(1), worktree(2)];
    editLine(join(a, 'shared.txt'), 2, 'session one was here');
    editLine(join(b, 'shared.txt'), 18, 'session two was here');
    const d = detector();
    d.addSession('s1', a);
    d.addSession('s2', b);
    await d.rescanAll();
    expect(brief(d.warnings())).toEqual(['overlap shared.txt s1,s2']);
    const w = d.warnings()[0]!;
    expect(w.key).toBe('overlap:s1+s2:shared.txt');
    expect(Number.isNaN(Date.parse(w.since))).toBe(false);
  });

  it('the same line: conflict; it clears when one session reverts, and emits only on real changes', async () => {
    const [a, b] = [worktree(1), worktree(2)];
    editLine(join(a, 'shared.txt'), 5, 'five, the session-one way');
    editLine(join(b, 'shared.txt'), 5, 'five, as session two sees it');
    writeFileSync(join(b, 'b.txt'), 'B, edited\n');
    const d = detector();
    const events: string[][] = [];
    d.on('warnings', (ws: ConflictWarning[]) => events.push(brief(ws)));
    d.addSession('s1', a);
    d.addSession('s2', b);
    await d.rescanAll();
    expect(brief(d.warnings())).toEqual(['conflict shared.txt s1,s2']);
    const since = d.warnings()[0]!.since;

    // Nothing changed: a full rescan keeps the warning (same since) and emits nothing.
    const before = events.length;
    await new Promise((r) => setTimeout(r, 5));
    await d.rescanAll();
    expect(d.warnings()[0]!.since).toBe(since);
    expect(events.length).toBe(before);

    git(a, 'checkout', '--', 'shared.txt');
    d.touch('s1');
    await d.settled();
    expect(d.warnings()).toEqual([]);
    expect(events.at(-1)).toEqual([]);
  });

  it('intent on a file another session changed warns at once, then becomes a conflict once written', async () => {
    const [a, b] = [worktree(1), worktree(2)];
    editLine(join(a, 'shared.txt'), 5, 'session one');
    const d = detector();
    d.addSession('s1', a);
    d.addSession('s2', b);
    await d.rescanAll();
    expect(d.warnings()).toEqual([]);

    const events: string[][] = [];
    d.on('warnings', (ws: ConflictWarning[]) => events.push(brief(ws)));
    d.noteIntent('s2', join(b, 'shared.txt'), 'Edit');
    // Synchronous: no scan, no git.
    expect(brief(d.warnings())).toEqual(['intent shared.txt s1,s2']);
    expect(events).toEqual([['intent shared.txt s1,s2']]);
    expect(d.warnings()[0]!.detail).toContain('Edit');

    // Repeating the intent keeps the warning and its since; paths outside the worktree or in .git are ignored.
    const since = d.warnings()[0]!.since;
    d.noteIntent('s2', join(b, 'shared.txt'), 'Write');
    d.noteIntent('s2', join(a, 'a.txt'), 'Edit');
    d.noteIntent('s2', join(b, '.git'), 'Edit');
    d.noteIntent('s2', '/etc/hosts', 'Edit');
    expect(brief(d.warnings())).toEqual(['intent shared.txt s1,s2']);
    expect(d.warnings()[0]!.since).toBe(since);

    editLine(join(b, 'shared.txt'), 5, 'session two');
    d.touch('s2');
    await d.settled();
    expect(brief(d.warnings())).toEqual(['conflict shared.txt s1,s2']);
  });

  it('intent becomes an overlap after a non-conflicting write; intent on an untouched file is silent', async () => {
    const [a, b] = [worktree(1), worktree(2)];
    editLine(join(a, 'shared.txt'), 1, 'session one');
    const d = detector();
    d.addSession('s1', a);
    d.addSession('s2', b);
    await d.rescanAll();
    d.noteIntent('s2', join(b, 'b.txt'), 'Edit');
    expect(d.warnings()).toEqual([]);
    d.noteIntent('s2', join(b, 'shared.txt'), 'Edit');
    expect(brief(d.warnings())).toEqual(['intent shared.txt s1,s2']);
    editLine(join(b, 'shared.txt'), 20, 'session two');
    d.touch('s2');
    await d.settled();
    expect(brief(d.warnings())).toEqual(['overlap shared.txt s1,s2']);
  });

  it('intent warnings clear by themselves: intent expires, or the other session drops the file', async () => {
    const [a, b] = [worktree(1), worktree(2)];
    editLine(join(a, 'shared.txt'), 1, 'session one');
    const d = detector({ intentTtlMs: 150 });
    d.addSession('s1', a);
    d.addSession('s2', b);
    await d.rescanAll();
    // Two sessions both about to edit the same untouched file.
    d.noteIntent('s1', join(a, 'src', 'x.ts'), 'Edit');
    d.noteIntent('s2', join(b, 'src', 'x.ts'), 'Edit');
    d.noteIntent('s2', join(b, 'shared.txt'), 'Edit');
    expect(brief(d.warnings())).toEqual(['intent shared.txt s1,s2', 'intent src/x.ts s1,s2']);
    await nextWarnings(d, (ws) => ws.length === 0, 15_000); // expiry timer, no other event

    d.noteIntent('s2', join(b, 'shared.txt'), 'Edit');
    expect(brief(d.warnings())).toEqual(['intent shared.txt s1,s2']);
    git(a, 'checkout', '--', 'shared.txt');
    d.touch('s1');
    await d.settled();
    expect(d.warnings()).toEqual([]);
  });

  it('drift: the base branch moves with a conflicting commit', async () => {
    const a = worktree(1);
    const b = worktree(2);
    editLine(join(a, 'shared.txt'), 3, 'session one');
    writeFileSync(join(b, 'a.txt'), 'unrelated edit\n');
    const d = detector();
    d.addSession('s1', a);
    d.addSession('s2', b);
    await d.rescanAll();
    expect(d.warnings()).toEqual([]);

    editLine(join(repo, 'shared.txt'), 3, 'main moved on');
    git(repo, 'commit', '-qam', 'main edits line 3');
    d.setBaseBranchMoved();
    await d.settled();
    expect(brief(d.warnings())).toEqual(['drift shared.txt s1']);
    expect(d.warnings()[0]!.detail).toContain('main');

    // Session one adopts main's line: the drift goes away.
    editLine(join(a, 'shared.txt'), 3, 'main moved on');
    d.touch('s1');
    await d.settled();
    expect(d.warnings()).toEqual([]);
  });

  it('removeSession drops its warnings and the other sessions keep theirs', async () => {
    const [a, b, c] = [worktree(1), worktree(2), worktree(3)];
    editLine(join(a, 'shared.txt'), 5, 'one');
    editLine(join(b, 'shared.txt'), 5, 'two');
    editLine(join(c, 'shared.txt'), 15, 'three');
    const d = detector();
    d.addSession('s1', a);
    d.addSession('s2', b);
    d.addSession('s3', c);
    await d.rescanAll();
    expect(brief(d.warnings())).toEqual(['conflict shared.txt s1,s2', 'overlap shared.txt s1,s2,s3']);
    d.removeSession('s2');
    expect(d.warnings().some((w) => w.sessions.includes('s2'))).toBe(false);
    await d.settled();
    expect(brief(d.warnings())).toEqual(['overlap shared.txt s1,s3']);
    d.removeSession('s1');
    expect(d.warnings()).toEqual([]);
    expect(d.changes('s1')).toEqual([]);
  });

  it('git is serialized per worktree, bounded overall; a touch during a scan queues exactly one follow-up', async () => {
    const wts = [1, 2, 3, 4, 5, 6].map(worktree);
    wts.forEach((w, i) => editLine(join(w, 'shared.txt'), (i % 2) + 1, `session ${i}`));
    const d = detector({ maxConcurrentGit: 2, debounceMs: 0 });
    wts.forEach((w, i) => d.addSession(`s${i}`, w));
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < wts.length; i++) d.touch(`s${i}`);
      void d.rescanAll();
    }
    await d.rescanAll();
    expect(d.gitStats.maxPerWorktree).toBe(1);
    expect(d.gitStats.maxRunning).toBeLessThanOrEqual(2);
    expect(d.gitStats.maxRunning).toBe(2);
    expect(d.warnings().length).toBeGreaterThan(0);

    // One session, no overlaps (so one git operation per scan): a scan + 10 touches while it runs = 2 scans.
    const solo = detector({ debounceMs: 0 });
    const w = worktree(9);
    writeFileSync(join(w, 'a.txt'), 'solo, edited\n');
    solo.addSession('solo', w); // starts at once (debounce 0)
    for (let i = 0; i < 10; i++) solo.touch('solo');
    await solo.settled();
    expect(solo.gitStats.calls).toBe(3); // 2 scans + the base-branch lookup
    expect(solo.gitStats.maxPerWorktree).toBe(1);
  });

  it('the watcher rescans after a plain file write, without touch()', async () => {
    const [a, b] = [worktree(1), worktree(2)];
    editLine(join(a, 'shared.txt'), 5, 'one');
    const d = detector({ watch: true, debounceMs: 100 });
    d.addSession('s1', a);
    d.addSession('s2', b);
    await d.rescanAll();
    expect(d.warnings()).toEqual([]);
    await new Promise((r) => setTimeout(r, 50)); // let the async directory walk attach
    const t0 = Date.now();
    const got = nextWarnings(d, (ws) => ws.some((w) => w.kind === 'conflict'), 15_000);
    editLine(join(b, 'shared.txt'), 5, 'two');
    await got;
    expect(Date.now() - t0).toBeLessThan(1000);
    // A new subdirectory is picked up too.
    const got2 = nextWarnings(d, (ws) => ws.some((w) => w.path === 'deep/dir/f.txt'), 15_000);
    mkdirSync(join(a, 'deep', 'dir'), { recursive: true });
    writeFileSync(join(a, 'deep', 'dir', 'f.txt'), 'a\n');
    await new Promise((r) => setTimeout(r, 300));
    mkdirSync(join(b, 'deep', 'dir'), { recursive: true });
    writeFileSync(join(b, 'deep', 'dir', 'f.txt'), 'b\n');
    await got2;
  });
});

describe('WorktreeWatcher', () => {
  it('debounces bursts into one call, ignores .git, closes quietly when the directory goes', async () => {
    const dir = join(tmp, 'w');
    mkdirSync(join(dir, 'sub'), { recursive: true });
    writeFileSync(join(dir, '.git'), 'gitdir: elsewhere\n');
    let calls = 0;
    const w = new WorktreeWatcher(dir, () => calls++, { debounceMs: 80 });
    await w.ready;
    writeFileSync(join(dir, '.git'), 'gitdir: elsewhere too\n');
    await new Promise((r) => setTimeout(r, 200));
    expect(calls).toBe(0);
    for (let i = 0; i < 5; i++) {
      writeFileSync(join(dir, 'sub', `f${i}.txt`), String(i));
      await new Promise((r) => setTimeout(r, 10));
    }
    await new Promise((r) => setTimeout(r, 250));
    expect(calls).toBe(1);
    rmSync(dir, { recursive: true, force: true });
    await new Promise((r) => setTimeout(r, 250));
    expect(calls).toBe(1);
    expect(w.watchedDirs).toBe(0);
    w.close();
    // A directory that does not exist: no throw, nothing watched.
    const gone = new WorktreeWatcher(join(tmp, 'nope'), () => calls++);
    expect(gone.watchedDirs).toBe(0);
    gone.close();
  });
});

describe('WorktreeWatcher and .gitignore', () => {
  it('does not watch what git ignores (at the start, and directories that appear later); a write elsewhere still counts', async () => {
    const dir = join(tmp, 'ignoring');
    mkdirSync(join(dir, 'src'), { recursive: true });
    mkdirSync(join(dir, 'dist', 'deep'), { recursive: true });
    mkdirSync(join(dir, 'pkg', '.venv', 'lib'), { recursive: true });
    execFileSync('git', ['init', '-q', dir]);
    writeFileSync(join(dir, '.gitignore'), 'dist/\nout/\n');
    writeFileSync(join(dir, 'pkg', '.gitignore'), '.venv/\n'); // a nested .gitignore counts too
    writeFileSync(join(dir, 'dist', 'deep', 'bundle.js'), 'x');
    writeFileSync(join(dir, 'pkg', '.venv', 'lib', 'site.py'), 'x');
    let calls = 0;
    const w = new WorktreeWatcher(dir, () => calls++, { debounceMs: 40 });
    await w.ready;
    expect(w.isWatching('src')).toBe(true);
    expect(w.isWatching('pkg')).toBe(true);
    for (const ignored of ['dist', 'dist/deep', 'pkg/.venv', 'pkg/.venv/lib']) expect(w.isWatching(ignored), ignored).toBe(false);
    expect(w.isIgnored('dist')).toBe(true);

    // Directories made after the start: out/ is ignored, lib/ is not.
    mkdirSync(join(dir, 'out'));
    mkdirSync(join(dir, 'lib'));
    await waitFor(() => w.isWatching('lib') && w.isIgnored('out'), 'the new directories to be looked at');
    expect(w.isWatching('out')).toBe(false);
    const before = calls;
    writeFileSync(join(dir, 'lib', 'a.ts'), 'export {}');
    await waitFor(() => calls > before, 'a write in lib/ to count');
    expect(w.failure).toBeNull();
    w.close();
  });
});

describe('timings (printed, not asserted)', () => {
  it('10 worktrees × 200 changed files: full rescanAll, and write-to-warnings latency', async () => {
    const wts = Array.from({ length: 10 }, (_, i) => worktree(i + 1));
    wts.forEach((w, i) => {
      mkdirSync(join(w, 'gen'));
      for (let f = 0; f < 200; f++) writeFileSync(join(w, 'gen', `s${i}-f${f}.txt`), `file ${f} of session ${i}\n`);
    });
    editLine(join(wts[0]!, 'shared.txt'), 5, 'session zero');
    const d = detector({ watch: true, debounceMs: 300 });
    wts.forEach((w, i) => d.addSession(`s${i}`, w));
    await d.settled();
    const t0 = performance.now();
    await d.rescanAll();
    const full = performance.now() - t0;
    expect(d.changes('s3').length).toBe(200);
    expect(d.warnings()).toEqual([]);
    await new Promise((r) => setTimeout(r, 200));

    const t1 = performance.now();
    const got = nextWarnings(d, (ws) => ws.length > 0, 30_000);
    editLine(join(wts[6]!, 'shared.txt'), 5, 'session six');
    await got;
    const latency = performance.now() - t1;
    console.log(
      `[timing] rescanAll 10×200 files: ${full.toFixed(0)} ms (git ops ${d.gitStats.calls}, max in flight ${d.gitStats.maxRunning}); ` +
        `write → 'warnings' latency (debounce 300 ms): ${latency.toFixed(0)} ms`,
    );
  });
});
