import { readFileSync, rmSync, unlinkSync, writeFileSync, renameSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { git, makeRepo, tempDir } from '../fixtures/repo.ts';
import {
  MergeRefused,
  commitSession,
  exportPatch,
  fileDiff,
  mergeTree,
  sessionChanges,
  snapshotCommit,
  squashMerge,
  type ChangedFile,
} from '../../electron/engine/workspace/index.ts';

const cleanup: string[] = [];
afterAll(() => {
  for (const d of cleanup) rmSync(d, { recursive: true, force: true });
});

const lines = (n: number, tag = 'line'): string => Array.from({ length: n }, (_, i) => `${tag} ${i + 1}`).join('\n') + '\n';

function repoWith(files: Record<string, string>): { repo: string; base: string } {
  const repo = makeRepo(files);
  cleanup.push(repo);
  return { repo, base: git(repo, 'rev-parse', 'HEAD') };
}

let slot = 0;
/** A session worktree on flotilla/test/<n> at base. */
function session(repo: string, base: string): string {
  const dir = tempDir('flotilla-wt-');
  cleanup.push(dir);
  const wt = join(dir, 'wt');
  git(repo, 'worktree', 'add', '-q', '-b', `flotilla/test/${++slot}`, wt, base);
  return wt;
}

const write = (dir: string, path: string, content: string | Buffer): void => writeFileSync(join(dir, path), content);
const read = (dir: string, path: string): string => readFileSync(join(dir, path), 'utf8');
const byPath = (files: ChangedFile[]): Record<string, ChangedFile> => Object.fromEntries(files.map((f) => [f.path, f]));

async function refusal(p: Promise<unknown>): Promise<MergeRefused> {
  try {
    await p;
  } catch (err) {
    if (err instanceof MergeRefused) return err;
    throw err;
  }
  throw new Error('expected MergeRefused');
}

describe('sessionChanges', () => {
  it('reports committed, staged, unstaged, untracked, renamed, deleted and binary changes, not ignored files', async () => {
    const { repo, base } = repoWith({
      '.gitignore': '*.log\n',
      'a.txt': lines(10),
      'b.txt': lines(5),
      'c.txt': lines(5),
      'old.txt': lines(30, 'keep me'),
      'mv.txt': lines(30, 'move me'),
      'del.txt': lines(4),
      'img.bin': '\0\x01\x02binary\0',
      'dir/x.txt': 'x\n',
    });
    const wt = session(repo, base);
    // committed on the branch: one line changed, two added
    write(wt, 'a.txt', lines(10).replace('line 3\n', 'LINE 3\n') + 'extra 1\nextra 2\n');
    git(wt, 'commit', '-qam', 'edit a');
    // staged
    write(wt, 'b.txt', lines(5) + 'more\n');
    git(wt, 'add', 'b.txt');
    // unstaged: two lines removed
    write(wt, 'c.txt', lines(3));
    // untracked, ignored
    write(wt, 'new.txt', 'one\ntwo\nthree\n');
    write(wt, 'debug.log', 'noise\n');
    // git mv, and plain mv + edit
    git(wt, 'mv', 'old.txt', 'renamed.txt');
    renameSync(join(wt, 'mv.txt'), join(wt, 'moved.txt'));
    write(wt, 'moved.txt', read(wt, 'moved.txt') + 'edited after the move\n');
    // deletion, binary change, new binary
    unlinkSync(join(wt, 'del.txt'));
    write(wt, 'img.bin', Buffer.from([0, 1, 2, 3, 0, 9, 9]));
    write(wt, 'pic.png', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0x0d]));

    const files = await sessionChanges(wt, base);
    const m = byPath(files);
    expect(files.map((f) => f.path)).toEqual([...files.map((f) => f.path)].sort());
    expect(Object.keys(m).sort()).toEqual(
      ['a.txt', 'b.txt', 'c.txt', 'del.txt', 'img.bin', 'moved.txt', 'new.txt', 'pic.png', 'renamed.txt'].sort(),
    );
    expect(m['a.txt']).toEqual({ path: 'a.txt', oldPath: null, status: 'modified', added: 3, removed: 1, binary: false });
    expect(m['b.txt']).toMatchObject({ status: 'modified', added: 1, removed: 0 });
    expect(m['c.txt']).toMatchObject({ status: 'modified', added: 0, removed: 2 });
    expect(m['new.txt']).toEqual({ path: 'new.txt', oldPath: null, status: 'untracked', added: 3, removed: 0, binary: false });
    expect(m['renamed.txt']).toEqual({ path: 'renamed.txt', oldPath: 'old.txt', status: 'renamed', added: 0, removed: 0, binary: false });
    expect(m['moved.txt']).toMatchObject({ oldPath: 'mv.txt', status: 'renamed', added: 1, removed: 0 });
    expect(m['del.txt']).toEqual({ path: 'del.txt', oldPath: null, status: 'deleted', added: 0, removed: 4, binary: false });
    expect(m['img.bin']).toEqual({ path: 'img.bin', oldPath: null, status: 'modified', added: null, removed: null, binary: true });
    expect(m['pic.png']).toMatchObject({ status: 'untracked', added: null, removed: null, binary: true });
    expect(m['debug.log']).toBeUndefined();
    expect(m['old.txt']).toBeUndefined();
    expect(m['mv.txt']).toBeUndefined();
  });

  it('is empty for an untouched session and reports paths in subdirectories with forward slashes', async () => {
    const { repo, base } = repoWith({ 'src/deep/a.ts': 'export {};\n' });
    const wt = session(repo, base);
    expect(await sessionChanges(wt, base)).toEqual([]);
    write(wt, 'src/deep/a.ts', 'export const a = 1;\n');
    expect((await sessionChanges(wt, base)).map((f) => f.path)).toEqual(['src/deep/a.ts']);
  });

  it('names the worktree when it is not one', async () => {
    const dir = tempDir();
    cleanup.push(dir);
    await expect(sessionChanges(dir, 'HEAD')).rejects.toThrow(dir);
  });
});

describe('snapshotCommit', () => {
  it('captures tracked and untracked state without touching the index, files or branch', async () => {
    const { repo, base } = repoWith({ '.gitignore': '*.log\n', 'a.txt': lines(3), 'b.txt': 'b\n' });
    const wt = session(repo, base);
    write(wt, 'a.txt', 'changed\n');
    write(wt, 'b.txt', 'staged\n');
    git(wt, 'add', 'b.txt');
    write(wt, 'b.txt', 'staged then edited\n');
    write(wt, 'untracked.txt', 'hello\n');
    write(wt, 'ignored.log', 'x\n');
    const indexPath = git(wt, 'rev-parse', '--path-format=absolute', '--git-path', 'index');
    const statusBefore = git(wt, 'status', '--porcelain');
    const indexBefore = readFileSync(indexPath);
    const head = git(wt, 'rev-parse', 'HEAD');

    const snap = await snapshotCommit(wt);

    expect(git(wt, 'status', '--porcelain')).toBe(statusBefore);
    expect(readFileSync(indexPath).equals(indexBefore)).toBe(true);
    expect(git(wt, 'rev-parse', 'HEAD')).toBe(head);
    expect(snap).not.toBe(head);
    expect(git(wt, 'rev-parse', `${snap}^`)).toBe(head);
    expect(git(wt, 'show', `${snap}:untracked.txt`)).toBe('hello');
    expect(git(wt, 'show', `${snap}:a.txt`)).toBe('changed');
    expect(git(wt, 'show', `${snap}:b.txt`)).toBe('staged then edited');
    expect(git(wt, 'ls-tree', '--name-only', snap).split('\n')).not.toContain('ignored.log');
    expect(read(wt, 'b.txt')).toBe('staged then edited\n');
  });

  it('returns HEAD when nothing changed', async () => {
    const { repo, base } = repoWith({ 'a.txt': 'a\n' });
    const wt = session(repo, base);
    expect(await snapshotCommit(wt)).toBe(base);
  });
});

describe('mergeTree', () => {
  it('is clean for different lines of one file and for disjoint files, and lists a same-line conflict', async () => {
    const { repo, base } = repoWith({ 'f.txt': lines(12), 'g.txt': 'g\n' });
    const s1 = session(repo, base);
    const s2 = session(repo, base);
    const s3 = session(repo, base);
    const s4 = session(repo, base);
    write(s1, 'f.txt', lines(12).replace('line 2\n', 'session one\n'));
    write(s2, 'f.txt', lines(12).replace('line 10\n', 'session two\n'));
    write(s3, 'f.txt', lines(12).replace('line 2\n', 'session three\n'));
    write(s4, 'g.txt', 'four\n');
    write(s4, 'h.txt', 'new\n');
    const [c1, c2, c3, c4] = await Promise.all([s1, s2, s3, s4].map((w) => snapshotCommit(w)));

    const overlap = await mergeTree(repo, c1!, c2!);
    expect(overlap.clean).toBe(true);
    expect(overlap.conflicts).toEqual([]);
    expect(git(repo, 'show', `${overlap.tree}:f.txt`)).toContain('session one\nline 3');
    expect(git(repo, 'show', `${overlap.tree}:f.txt`)).toContain('session two');

    const conflict = await mergeTree(repo, c1!, c3!);
    expect(conflict).toMatchObject({ clean: false, conflicts: ['f.txt'] });

    const disjoint = await mergeTree(repo, c1!, c4!);
    expect(disjoint.clean).toBe(true);
    expect(git(repo, 'show', `${disjoint.tree}:h.txt`)).toBe('new');
  });

  it('reports a bad commit with the command', async () => {
    const { repo, base } = repoWith({ 'a.txt': 'a\n' });
    await expect(mergeTree(repo, base, 'nope')).rejects.toThrow(/merge-tree/);
    await expect(mergeTree(repo, base, '--help')).rejects.toThrow(/not a valid commit/);
  });
});

describe('fileDiff', () => {
  it('diffs text (committed + uncommitted + untracked), binary with sizes, and truncates big diffs', async () => {
    const { repo, base } = repoWith({
      'a.txt': lines(5),
      'img.bin': Buffer.alloc(2100, 1).fill(0, 0, 10).toString('latin1'),
      'old.txt': lines(20, 'r'),
    });
    const wt = session(repo, base);
    write(wt, 'a.txt', lines(5).replace('line 2', 'LINE TWO'));
    git(wt, 'commit', '-qam', 'c');
    write(wt, 'a.txt', read(wt, 'a.txt') + 'uncommitted\n');
    write(wt, 'new.txt', 'fresh\n');
    write(wt, 'img.bin', Buffer.alloc(3400, 0));
    write(wt, 'big.txt', lines(60_000, 'a fairly long line of text'));
    git(wt, 'mv', 'old.txt', 'sub-renamed.txt');

    const a = await fileDiff(wt, base, 'a.txt');
    expect(a).toMatchObject({ path: 'a.txt', binary: false, truncated: false, note: null });
    expect(a.diff).toContain('--- a/a.txt');
    expect(a.diff).toContain('-line 2\n+LINE TWO');
    expect(a.diff).toContain('+uncommitted');

    const n = await fileDiff(wt, base, './new.txt');
    expect(n.diff).toContain('+fresh');
    expect(n.diff).toContain('new file mode');

    const b = await fileDiff(wt, base, 'img.bin');
    expect(b).toMatchObject({ binary: true, truncated: false, note: 'binary file: 2.1 KB → 3.4 KB' });

    const r = await fileDiff(wt, base, 'sub-renamed.txt');
    expect(r.diff).toContain('rename from old.txt');

    const big = await fileDiff(wt, base, 'big.txt');
    expect(big.truncated).toBe(true);
    expect(big.note).toMatch(/^diff truncated at 200 KB \(of \d(\.\d)? MB\)$/);
    expect(Buffer.byteLength(big.diff)).toBeLessThanOrEqual(200_000);
    expect(big.diff.endsWith('\n')).toBe(true);
    const small = await fileDiff(wt, base, 'big.txt', { maxBytes: 1000 });
    expect(Buffer.byteLength(small.diff)).toBeLessThanOrEqual(1000);

    expect(await fileDiff(wt, base, 'unchanged-or-missing.txt')).toEqual({
      path: 'unchanged-or-missing.txt',
      binary: false,
      truncated: false,
      note: null,
      diff: '',
    });
    await expect(fileDiff(wt, base, '../escape.txt')).rejects.toThrow(/relative to the worktree root/);
  });
});

describe('exportPatch', () => {
  it('applies cleanly on the base commit, binary and renames included', async () => {
    const { repo, base } = repoWith({ 'a.txt': lines(5), 'img.bin': '\0\x01\x02', 'old.txt': lines(20, 'r'), 'gone.txt': 'bye\n' });
    const wt = session(repo, base);
    write(wt, 'a.txt', 'rewritten\n');
    git(wt, 'commit', '-qam', 'c');
    write(wt, 'img.bin', Buffer.from([0, 5, 5, 5, 0, 255]));
    write(wt, 'untracked.txt', 'u\n');
    git(wt, 'mv', 'old.txt', 'new-name.txt');
    unlinkSync(join(wt, 'gone.txt'));

    const patch = await exportPatch(wt, base);
    expect(patch).toContain('GIT binary patch');
    const dir = tempDir('flotilla-apply-');
    cleanup.push(dir);
    const fresh = join(dir, 'fresh');
    git(repo, 'worktree', 'add', '-q', '--detach', fresh, base);
    const file = join(dir, 'session.patch');
    writeFileSync(file, patch);
    git(fresh, 'apply', '--check', file);
    git(fresh, 'apply', '--index', file);
    expect(git(fresh, 'write-tree')).toBe(git(repo, 'rev-parse', `${await snapshotCommit(wt)}^{tree}`));
    expect(await exportPatch(session(repo, base), base)).toBe('');
  });
});

describe('commitSession', () => {
  it('commits everything in the worktree, then reports nothing to commit', async () => {
    const { repo, base } = repoWith({ '.gitignore': '*.log\n', 'a.txt': 'a\n' });
    const wt = session(repo, base);
    git(wt, 'config', 'user.name', 'Repo Person');
    git(wt, 'config', 'user.email', 'repo@example.invalid');
    write(wt, 'a.txt', 'changed\n');
    write(wt, 'b.txt', 'new\n');
    write(wt, 'x.log', 'ignored\n');
    const { commit } = await commitSession(wt, 'Session work\n\n#42 stays');
    expect(commit).toMatch(/^[0-9a-f]{40}$/);
    expect(git(wt, 'rev-parse', 'HEAD')).toBe(commit);
    expect(git(wt, 'rev-parse', 'HEAD^')).toBe(base);
    expect(git(wt, 'log', '-1', '--format=%an <%ae>|%B')).toBe('Repo Person <repo@example.invalid>|Session work\n\n#42 stays');
    expect(git(wt, 'status', '--porcelain')).toBe('');
    expect(git(wt, 'ls-files')).not.toContain('x.log');
    expect(await commitSession(wt, 'again')).toEqual({ commit: null });
  });

  it('falls back to Flotilla <flotilla@localhost> when no identity is configured', async () => {
    const { repo, base } = repoWith({ 'a.txt': 'a\n' });
    const wt = session(repo, base);
    const empty = join(tempDir(), 'gitconfig');
    cleanup.push(join(empty, '..'));
    writeFileSync(empty, '');
    const saved = { global: process.env.GIT_CONFIG_GLOBAL, nosys: process.env.GIT_CONFIG_NOSYSTEM };
    process.env.GIT_CONFIG_GLOBAL = empty;
    process.env.GIT_CONFIG_NOSYSTEM = '1';
    try {
      write(wt, 'a.txt', 'b\n');
      await commitSession(wt, 'anon');
    } finally {
      if (saved.global === undefined) delete process.env.GIT_CONFIG_GLOBAL;
      else process.env.GIT_CONFIG_GLOBAL = saved.global;
      if (saved.nosys === undefined) delete process.env.GIT_CONFIG_NOSYSTEM;
      else process.env.GIT_CONFIG_NOSYSTEM = saved.nosys;
    }
    expect(git(wt, 'log', '-1', '--format=%an <%ae>|%cn <%ce>')).toBe('Flotilla <flotilla@localhost>|Flotilla <flotilla@localhost>');
  });
});

describe('squashMerge', () => {
  function setup(): { repo: string; base: string; wt: string; branch: string } {
    const { repo, base } = repoWith({ 'a.txt': lines(10), 'b.txt': 'b\n', 'c.txt': 'c\n' });
    const wt = session(repo, base);
    return { repo, base, wt, branch: git(wt, 'rev-parse', '--abbrev-ref', 'HEAD') };
  }
  const state = (repo: string): string[] => [
    git(repo, 'rev-parse', 'HEAD'),
    git(repo, 'status', '--porcelain'),
    git(repo, 'rev-parse', 'main'),
  ];

  it('lands committed and uncommitted session work as one commit on the checked-out target, files updated', async () => {
    const { repo, base, wt, branch } = setup();
    write(wt, 'a.txt', lines(10).replace('line 1\n', 'session line 1\n'));
    git(wt, 'commit', '-qam', 'session commit');
    write(wt, 'b.txt', 'uncommitted\n');
    write(wt, 'new.txt', 'untracked\n');
    unlinkSync(join(wt, 'c.txt'));
    // The user moved on meanwhile (a different line of the same file).
    write(repo, 'a.txt', lines(10).replace('line 9\n', 'user line 9\n'));
    git(repo, 'commit', '-qam', 'user commit');
    const userTip = git(repo, 'rev-parse', 'HEAD');
    const sessionTip = git(repo, 'rev-parse', branch);
    const sessionStatus = git(wt, 'status', '--porcelain');

    const res = await squashMerge({ repo, target: 'main', worktree: wt, message: 'Merge session 1' });

    expect(res.files).toBe(4);
    expect(git(repo, 'rev-parse', 'HEAD')).toBe(res.commit);
    expect(git(repo, 'rev-parse', 'HEAD^@')).toBe(userTip); // one parent: the target's old tip
    expect(git(repo, 'rev-list', '--count', `${userTip}..main`)).toBe('1');
    expect(git(repo, 'log', '-1', '--format=%s')).toBe('Merge session 1');
    expect(git(repo, 'status', '--porcelain')).toBe('');
    expect(read(repo, 'a.txt')).toContain('session line 1\n');
    expect(read(repo, 'a.txt')).toContain('user line 9\n');
    expect(read(repo, 'b.txt')).toBe('uncommitted\n');
    expect(read(repo, 'new.txt')).toBe('untracked\n');
    expect(existsSync(join(repo, 'c.txt'))).toBe(false);
    // The session is untouched.
    expect(git(repo, 'rev-parse', branch)).toBe(sessionTip);
    expect(git(wt, 'status', '--porcelain')).toBe(sessionStatus);
    expect(git(repo, 'merge-base', '--is-ancestor', base, 'main')).toBe('');
  });

  it('refuses a conflicting merge and leaves the user repository as it was', async () => {
    const { repo, wt } = setup();
    write(wt, 'a.txt', lines(10).replace('line 5\n', 'session five\n'));
    write(repo, 'a.txt', lines(10).replace('line 5\n', 'user five\n'));
    git(repo, 'commit', '-qam', 'user');
    write(repo, 'scratch.txt', 'user untracked\n');
    const before = state(repo);
    const err = await refusal(squashMerge({ repo, target: 'main', worktree: wt, message: 'm' }));
    expect(err.reason).toBe('conflict');
    expect(err.paths).toEqual(['a.txt']);
    expect(err.message).toMatch(/a\.txt/);
    expect(state(repo)).toEqual(before);
    expect(read(repo, 'a.txt')).toContain('user five');
  });

  it('refuses when the target checkout has uncommitted or staged changes, keeping them', async () => {
    const { repo, wt } = setup();
    write(wt, 'b.txt', 'session\n');
    write(repo, 'c.txt', 'user edit\n');
    const before = state(repo);
    const err = await refusal(squashMerge({ repo, target: 'main', worktree: wt, message: 'm' }));
    expect(err.reason).toBe('dirty');
    expect(err.paths).toEqual(['c.txt']);
    expect(err.message).toMatch(/commit or stash/);
    expect(state(repo)).toEqual(before);
    expect(read(repo, 'c.txt')).toBe('user edit\n');

    git(repo, 'checkout', '-q', '--', 'c.txt');
    write(repo, 'staged.txt', 'staged\n');
    git(repo, 'add', 'staged.txt');
    expect((await refusal(squashMerge({ repo, target: 'main', worktree: wt, message: 'm' }))).reason).toBe('dirty');
    git(repo, 'rm', '-q', '--cached', 'staged.txt');

    // An untracked file of the user's that the merge would overwrite.
    write(wt, 'new.txt', 'session version\n');
    write(repo, 'new.txt', 'user version\n');
    const untracked = await refusal(squashMerge({ repo, target: 'main', worktree: wt, message: 'm' }));
    expect(untracked).toMatchObject({ reason: 'dirty', paths: ['new.txt'] });
    expect(read(repo, 'new.txt')).toBe('user version\n');

    // Unrelated untracked files do not block.
    unlinkSync(join(repo, 'new.txt'));
    const res = await squashMerge({ repo, target: 'main', worktree: wt, message: 'm' });
    expect(read(repo, 'staged.txt')).toBe('staged\n');
    expect(res.files).toBe(2);
  });

  it('refuses when there is nothing to merge, and for a target that is not a branch', async () => {
    const { repo, wt } = setup();
    const before = state(repo);
    expect((await refusal(squashMerge({ repo, target: 'main', worktree: wt, message: 'm' }))).reason).toBe('nothing');
    write(wt, 'b.txt', 'x\n');
    expect((await refusal(squashMerge({ repo, target: 'nope', worktree: wt, message: 'm' }))).reason).toBe('not_a_branch');
    expect((await refusal(squashMerge({ repo, target: '--force', worktree: wt, message: 'm' }))).reason).toBe('not_a_branch');
    expect(state(repo)).toEqual(before);
  });

  it('moves a branch that is not checked out anywhere with update-ref', async () => {
    const { repo, base, wt } = setup();
    git(repo, 'branch', 'release', base);
    write(wt, 'b.txt', 'for release\n');
    const before = state(repo);
    const res = await squashMerge({ repo, target: 'release', worktree: wt, message: 'Release it' });
    expect(res.files).toBe(1);
    expect(git(repo, 'rev-parse', 'release')).toBe(res.commit);
    expect(git(repo, 'rev-parse', 'release^')).toBe(base);
    expect(git(repo, 'show', 'release:b.txt')).toBe('for release');
    expect(state(repo)).toEqual(before);
  });
});

describe('timing (printed, not asserted)', () => {
  it('sessionChanges and snapshotCommit on 200 changed files', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 400; i++) files[`src/m${i % 20}/f${i}.ts`] = lines(50, `file ${i}`);
    const { repo, base } = repoWith(files);
    const wt = session(repo, base);
    for (let i = 0; i < 150; i++) write(wt, `src/m${i % 20}/f${i}.ts`, lines(50, `file ${i}`) + 'changed\n');
    for (let i = 0; i < 50; i++) write(wt, `src/m${i % 20}/new${i}.ts`, 'new\n');
    let t = performance.now();
    const changes = await sessionChanges(wt, base);
    const tChanges = performance.now() - t;
    t = performance.now();
    await snapshotCommit(wt);
    const tSnap = performance.now() - t;
    expect(changes).toHaveLength(200);
    console.log(`sessionChanges on 200 changed files (400 tracked): ${tChanges.toFixed(0)} ms; snapshotCommit: ${tSnap.toFixed(0)} ms`);
  });
});
