import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  WorkspaceError,
  changedFiles,
  cleanRun,
  createWorktrees,
  currentBranch,
  gitVersion,
  removeWorktrees,
  repoToplevel,
  resolveRef,
  runSlug,
  sessionBranch,
} from '../../electron/engine/workspace/index.ts';
import { git, gitProcessEnv } from '../fixtures/repo.ts';

let tmp: string;
let repo: string;

function makeRepo(name = 'repo', commit = true): string {
  const dir = join(tmp, name);
  mkdirSync(dir);
  execFileSync('git', ['init', '-q', '-b', 'main', dir], { env: gitProcessEnv() });
  if (commit) {
    writeFileSync(join(dir, 'README.md'), '# hello\n');
    mkdirSync(join(dir, 'src'));
    writeFileSync(join(dir, 'src', 'a.ts'), 'export const a = 1;\n');
    git(dir, 'add', '.');
    git(dir, 'commit', '-qm', 'first');
  }
  return realpathSync(dir);
}

function worktreePaths(r: string): string[] {
  return git(r, 'worktree', 'list', '--porcelain')
    .split('\n')
    .filter((l) => l.startsWith('worktree '))
    .map((l) => l.slice('worktree '.length));
}

function flotillaBranches(r: string): string[] {
  const out = git(r, 'for-each-ref', '--format=%(refname:short)', 'refs/heads/flotilla/');
  return out ? out.split('\n') : [];
}

beforeEach(() => {
  tmp = realpathSync(mkdtempSync(join(tmpdir(), 'flotilla-ws-')));
  repo = makeRepo();
});
afterEach(() => {
  rmSync(tmp, { recursive: true, force: true });
});

describe('repository facts', () => {
  it('reports the git version', async () => {
    const v = await gitVersion();
    expect(v).not.toBeNull();
    expect(v!.version).toMatch(/^\d+\.\d+/);
    const [major, minor] = v!.version.split('.').map(Number) as [number, number];
    expect(v!.supportsMergeTree).toBe(major > 2 || (major === 2 && minor >= 38));
  });

  it('finds the toplevel from a subdirectory', async () => {
    expect(await repoToplevel(join(repo, 'src'))).toBe(repo);
  });

  it('explains a folder that is not a repository', async () => {
    const plain = join(tmp, 'plain');
    mkdirSync(plain);
    const err = await repoToplevel(plain).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkspaceError);
    expect(err).toMatchObject({ code: 'not_a_repo', name: 'WorkspaceError' });
    expect((err as Error).message).toBe(
      `${plain} is not a git repository — run \`git init\` there, or point \`repo:\` / --repo at a repository`,
    );
    await expect(repoToplevel(join(tmp, 'missing'))).rejects.toMatchObject({
      code: 'not_a_repo',
      message: expect.stringMatching(/does not exist/),
    });
  });

  it('resolves refs to full commit ids and explains bad ones', async () => {
    const head = git(repo, 'rev-parse', 'HEAD');
    expect(await resolveRef(repo, 'main')).toBe(head);
    expect(await resolveRef(repo, 'HEAD')).toBe(head);
    expect(await resolveRef(repo, head.slice(0, 8))).toBe(head);
    git(repo, 'tag', '-a', 'v1', '-m', 'annotated');
    expect(await resolveRef(repo, 'v1')).toBe(head); // a tag object peels to its commit

    const err = await resolveRef(repo, 'xyz').catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'bad_ref',
      message: `base 'xyz' is not a commit in ${repo} — use a branch, tag or commit that exists (git branch -a)`,
    });
    await expect(resolveRef(repo, '--all')).rejects.toMatchObject({ code: 'bad_ref' });
    await expect(resolveRef(repo, `${head}^{tree}`)).rejects.toMatchObject({ code: 'bad_ref' });
  });

  it('explains a repository without commits', async () => {
    const empty = makeRepo('empty', false);
    const err = await resolveRef(empty, 'main').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'bad_ref' });
    expect((err as Error).message).toMatch(/has no commits yet — commit something first/);
    expect(await currentBranch(empty)).toBe('main');
  });

  it('reports the current branch, or null when detached', async () => {
    expect(await currentBranch(repo)).toBe('main');
    git(repo, 'checkout', '-q', '--detach');
    expect(await currentBranch(repo)).toBeNull();
    await expect(currentBranch(join(tmp))).rejects.toMatchObject({ code: 'not_a_repo' });
  });

  it('says git is missing when it is not on PATH', async () => {
    const saved = process.env.PATH;
    process.env.PATH = join(tmp, 'no-bin');
    try {
      expect(await gitVersion()).toBeNull();
      await expect(repoToplevel(repo)).rejects.toMatchObject({
        code: 'git_missing',
        message: expect.stringMatching(/git is not installed/),
      });
    } finally {
      process.env.PATH = saved;
    }
  });
});

describe('names', () => {
  it('makes ascii kebab-case slugs that are valid in a git ref', () => {
    expect(runSlug('Fix the flaky tests', 'ABCDEF12-3456')).toBe('fix-the-flaky-tests-abcdef');
    expect(runSlug('  Café  Ünïcode — naïve ', '0123456789')).toBe('cafe-unicode-naive-012345');
    expect(runSlug('日本語 🚀', 'abcdefgh')).toBe('run-abcdef');
    expect(runSlug('', 'abcdefgh')).toBe('run-abcdef');
    expect(runSlug('..lock/~^:?*[\\ @{', 'abcdefgh')).toBe('lock-abcdef');
    expect(runSlug('release.lock', 'abcdefgh')).toBe('release-lock-abcdef');
    const long = runSlug('a'.repeat(39) + ' b c d e f g h', 'abcdefgh');
    expect(long).toBe(`${'a'.repeat(39)}-abcdef`); // cut at 40, trailing dash dropped
    expect(runSlug('x'.repeat(100), 'abcdefgh').length).toBe(40 + 7);
    expect(runSlug('Same name', 'aaaaaa-1')).not.toBe(runSlug('Same name', 'bbbbbb-1'));
    for (const slug of [long, runSlug('日本語', 'x'), runSlug('..lock', 'y'), runSlug('a--b', 'z')]) {
      expect(slug).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(() => git(repo, 'check-ref-format', `refs/heads/${sessionBranch(slug, 12)}`)).not.toThrow();
    }
    expect(sessionBranch('fix-abcdef', 7)).toBe('flotilla/fix-abcdef/7');
  });
});

describe('worktrees', () => {
  it('creates 10 worktrees in parallel on their own branches at the base commit, leaving the checkout alone', async () => {
    const base = await resolveRef(repo, 'main');
    // a later commit on main, so "at baseCommit" differs from "at main"; and an uncommitted change that must survive
    writeFileSync(join(repo, 'later.txt'), 'later\n');
    git(repo, 'add', 'later.txt');
    git(repo, 'commit', '-qm', 'later');
    writeFileSync(join(repo, 'README.md'), '# dirty but uncommitted\n');
    const statusBefore = git(repo, 'status', '--porcelain');
    const headBefore = git(repo, 'rev-parse', 'HEAD');
    const root = join(tmp, 'data', 'worktrees', 'run-1');
    const progress: number[] = [];
    const slots = Array.from({ length: 10 }, (_, i) => i + 1);

    const entries = await createWorktrees({
      repo,
      baseCommit: base,
      slug: 'fix-abcdef',
      slots,
      root,
      concurrency: 4,
      onProgress: (done, total, entry) => {
        expect(total).toBe(10);
        expect(slots).toContain(entry.slot);
        progress.push(done);
      },
    });

    expect(progress).toEqual(slots);
    expect(entries).toEqual(slots.map((slot) => ({ slot, branch: `flotilla/fix-abcdef/${slot}`, path: join(root, String(slot)) })));
    for (const e of entries) {
      expect(git(e.path, 'rev-parse', '--abbrev-ref', 'HEAD')).toBe(e.branch);
      expect(git(e.path, 'rev-parse', 'HEAD')).toBe(base);
      expect(git(e.path, 'status', '--porcelain')).toBe('');
      expect(readFileSync(join(e.path, 'src', 'a.ts'), 'utf8')).toBe('export const a = 1;\n');
      expect(readFileSync(join(e.path, 'README.md'), 'utf8')).toBe('# hello\n');
      expect(existsSync(join(e.path, 'later.txt'))).toBe(false);
    }
    expect(worktreePaths(repo).sort()).toEqual([repo, ...entries.map((e) => e.path)].sort());
    expect(flotillaBranches(repo).sort()).toEqual(entries.map((e) => e.branch).sort());
    // the user's checkout: same HEAD, same branch, same uncommitted change
    expect(git(repo, 'rev-parse', 'HEAD')).toBe(headBefore);
    expect(git(repo, 'status', '--porcelain')).toBe(statusBefore);
    expect(await currentBranch(repo)).toBe('main');

    expect(await changedFiles(entries[0]!.path, base)).toEqual([]);
    writeFileSync(join(entries[0]!.path, 'src', 'a.ts'), 'export const a = 2;\n');
    writeFileSync(join(entries[0]!.path, 'new file.txt'), 'untracked\n');
    writeFileSync(join(entries[0]!.path, 'committed.txt'), 'c\n');
    git(entries[0]!.path, 'add', 'committed.txt');
    git(entries[0]!.path, 'commit', '-qm', 'agent work');
    expect(await changedFiles(entries[0]!.path, base)).toEqual(['committed.txt', 'new file.txt', 'src/a.ts']);

    expect(await cleanRun(repo, 'fix-abcdef', root)).toEqual({ removedWorktrees: 10, removedBranches: 10 });
    expect(worktreePaths(repo)).toEqual([repo]);
    expect(flotillaBranches(repo)).toEqual([]);
    expect(existsSync(root)).toBe(false);
    expect(git(repo, 'status', '--porcelain')).toBe(statusBefore);
  });

  it('is all or nothing: a file in the way of slot 7 fails the call and leaves no worktree or branch behind', async () => {
    const base = await resolveRef(repo, 'HEAD');
    git(repo, 'branch', 'flotilla/other-run-aaaaaa/1'); // someone else's flotilla branch must survive
    const root = join(tmp, 'wt');
    mkdirSync(root);
    writeFileSync(join(root, '7'), 'not a directory');

    const err = await createWorktrees({
      repo,
      baseCommit: base,
      slug: 'half-abcdef',
      slots: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
      root,
      concurrency: 4,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkspaceError);
    expect(err).toMatchObject({ code: 'worktree_failed', slot: 7 });
    expect((err as Error).message).toMatch(new RegExp(`^slot 7: could not create worktree at ${join(root, '7')}: .*already exists`));

    expect(worktreePaths(repo)).toEqual([repo]);
    expect(flotillaBranches(repo)).toEqual(['flotilla/other-run-aaaaaa/1']);
    expect(readdirSync(root)).toEqual(['7']); // the user's file is untouched, nothing else remains
    expect(readFileSync(join(root, '7'), 'utf8')).toBe('not a directory');
    const admin = join(repo, '.git', 'worktrees');
    expect(existsSync(admin) ? readdirSync(admin) : []).toEqual([]);
  });

  it('is all or nothing: an existing branch for slot 7 fails the call and survives it', async () => {
    const base = await resolveRef(repo, 'HEAD');
    git(repo, 'branch', 'flotilla/dup-abcdef/7');
    const root = join(tmp, 'wt');

    const err = await createWorktrees({ repo, baseCommit: base, slug: 'dup-abcdef', slots: [1, 2, 3, 4, 5, 6, 7, 8], root }).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'worktree_failed', slot: 7 });
    expect((err as Error).message).toMatch(/^slot 7: could not create worktree at .*\/7: branch flotilla\/dup-abcdef\/7 already exists/);
    expect(worktreePaths(repo)).toEqual([repo]);
    expect(flotillaBranches(repo)).toEqual(['flotilla/dup-abcdef/7']);
    expect(existsSync(root)).toBe(false);
  });

  it('is all or nothing when checking out fails after every worktree was registered', async () => {
    // a required smudge filter that always fails: registration works, populating the files does not
    writeFileSync(join(repo, '.gitattributes'), '*.dat filter=boom\n');
    writeFileSync(join(repo, 'x.dat'), 'data\n');
    git(repo, 'add', '.');
    git(repo, 'commit', '-qm', 'filtered');
    git(repo, 'config', 'filter.boom.smudge', 'false');
    git(repo, 'config', 'filter.boom.required', 'true');
    const base = await resolveRef(repo, 'HEAD');
    const root = join(tmp, 'wt');

    const err = await createWorktrees({ repo, baseCommit: base, slug: 'boom-abcdef', slots: [3, 4, 5, 6, 7], root, concurrency: 2 }).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'worktree_failed', slot: 3 });
    expect((err as Error).message).toMatch(/^slot 3: could not create worktree at .*\/3: .*smudge filter boom failed/s);
    expect(worktreePaths(repo)).toEqual([repo]);
    expect(flotillaBranches(repo)).toEqual([]);
    expect(existsSync(root)).toBe(false);
  });

  it('refuses a root inside the repository and a base that is not a commit', async () => {
    const base = await resolveRef(repo, 'HEAD');
    await expect(createWorktrees({ repo, baseCommit: base, slug: 's-abcdef', slots: [1], root: join(repo, 'wt') })).rejects.toMatchObject({
      code: 'worktree_failed',
      message: expect.stringMatching(/inside the repository/),
    });
    await expect(
      createWorktrees({ repo, baseCommit: 'f'.repeat(40), slug: 's-abcdef', slots: [1], root: join(tmp, 'wt') }),
    ).rejects.toMatchObject({
      code: 'bad_ref',
    });
    expect(flotillaBranches(repo)).toEqual([]);
    expect(existsSync(join(tmp, 'wt'))).toBe(false);
  });

  it('removes given worktrees and branches, ignoring ones already gone', async () => {
    const base = await resolveRef(repo, 'HEAD');
    const root = join(tmp, 'wt');
    const entries = await createWorktrees({ repo, baseCommit: base, slug: 'rm-abcdef', slots: [1, 2, 3], root });
    writeFileSync(join(entries[0]!.path, 'dirty.txt'), 'uncommitted work');
    await removeWorktrees(repo, [
      entries[0]!,
      entries[1]!,
      { path: join(root, '99'), branch: 'flotilla/rm-abcdef/99' },
      { path: repo, branch: null }, // a shared-workspace session: the main checkout is never removed
    ]);
    expect(worktreePaths(repo).sort()).toEqual([repo, entries[2]!.path].sort());
    expect(flotillaBranches(repo)).toEqual(['flotilla/rm-abcdef/3']);
    expect(existsSync(entries[0]!.path)).toBe(false);
    // again: everything already gone is fine
    await removeWorktrees(repo, [entries[0]!, entries[1]!]);
  });

  it('cleanRun removes every worktree, branch and directory of the run, and only that run', async () => {
    const base = await resolveRef(repo, 'HEAD');
    const rootA = join(tmp, 'data', 'worktrees', 'a');
    const rootB = join(tmp, 'data', 'worktrees', 'b');
    const a = await createWorktrees({ repo, baseCommit: base, slug: 'a-aaaaaa', slots: [1, 2, 3, 4, 5], root: rootA });
    await createWorktrees({ repo, baseCommit: base, slug: 'b-bbbbbb', slots: [1, 2], root: rootB });
    // a worktree deleted by hand (still registered) and a stray slot directory git never knew
    rmSync(a[1]!.path, { recursive: true, force: true });
    mkdirSync(join(rootA, '9'));
    writeFileSync(join(rootA, '9', 'x'), 'x');
    git(a[2]!.path, 'commit', '--allow-empty', '-qm', 'agent commit');

    expect(await cleanRun(repo, 'a-aaaaaa', rootA)).toEqual({ removedWorktrees: 6, removedBranches: 5 });
    expect(existsSync(rootA)).toBe(false);
    expect(flotillaBranches(repo)).toEqual(['flotilla/b-bbbbbb/1', 'flotilla/b-bbbbbb/2']);
    expect(worktreePaths(repo).sort()).toEqual([repo, join(rootB, '1'), join(rootB, '2')].sort());
    expect(await cleanRun(repo, 'a-aaaaaa', rootA)).toEqual({ removedWorktrees: 0, removedBranches: 0 });

    expect(await cleanRun(repo, 'b-bbbbbb', rootB)).toEqual({ removedWorktrees: 2, removedBranches: 2 });
    expect(worktreePaths(repo)).toEqual([repo]);
    expect(flotillaBranches(repo)).toEqual([]);
    expect(git(repo, 'status', '--porcelain')).toBe('');
  });

  it('survives two runs launching into the same repository at once', async () => {
    const base = await resolveRef(repo, 'HEAD');
    const slots = Array.from({ length: 12 }, (_, i) => i + 1);
    const [a, b] = await Promise.all([
      createWorktrees({ repo, baseCommit: base, slug: 'x-aaaaaa', slots, root: join(tmp, 'wt-a'), concurrency: 4 }),
      createWorktrees({ repo, baseCommit: base, slug: 'y-bbbbbb', slots, root: join(tmp, 'wt-b'), concurrency: 4 }),
    ]);
    expect(a).toHaveLength(12);
    expect(b).toHaveLength(12);
    for (const e of [...a, ...b]) expect(git(e.path, 'rev-parse', '--abbrev-ref', 'HEAD')).toBe(e.branch);
    expect(worktreePaths(repo)).toHaveLength(25);
  });

  it('creates 24 worktrees with high concurrency without lock failures', async () => {
    const base = await resolveRef(repo, 'HEAD');
    const root = join(tmp, 'wt');
    const slots = Array.from({ length: 24 }, (_, i) => i + 1);
    const t = performance.now();
    const entries = await createWorktrees({ repo, baseCommit: base, slug: 'many-abcdef', slots, root, concurrency: 24 });
    console.log(`24 worktrees (concurrency 24): ${(performance.now() - t).toFixed(0)} ms`);
    expect(entries).toHaveLength(24);
    expect(worktreePaths(repo)).toHaveLength(25);
    expect(await cleanRun(repo, 'many-abcdef', root)).toEqual({ removedWorktrees: 24, removedBranches: 24 });
  });
});
