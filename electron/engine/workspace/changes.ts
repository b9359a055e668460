// What a session changed since its base commit, measured without touching the session's index or files: the worktree's
// current state is written into a throwaway index (a copy in a temp dir) and compared tree-to-tree with git's plumbing.
import { copyFile, mkdtemp, rm, stat, utimes } from 'node:fs/promises';
import { changedCopies, flagSecrets } from './copied.ts';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ChangeStatus, ChangedFile } from '../../shared/contract.ts';
import { GitCommandError, runGit } from './git.ts';
import { WorkspaceError, checkRev, fromGit, run, tryRun } from './errors.ts';

/**
 * Env for commands that write commits: the repository's own identity when one is configured (config or GIT_* env),
 * else "Flotilla <flotilla@localhost>" — for that call only.
 */
export async function identityEnv(cwd: string): Promise<NodeJS.ProcessEnv> {
  const out = (await tryRun(cwd, ['config', '-z', '--get-regexp', '^(user|author|committer)\\.(name|email)$'])) ?? '';
  const cfg = new Map<string, string>();
  for (const rec of out.split('\0')) {
    const nl = rec.indexOf('\n');
    if (nl > 0 && rec.slice(nl + 1).trim()) cfg.set(rec.slice(0, nl).toLowerCase(), rec.slice(nl + 1));
  }
  const env: NodeJS.ProcessEnv = {};
  const has = (v: string | undefined): boolean => !!v && !!v.trim();
  for (const role of ['author', 'committer'] as const) {
    const R = role.toUpperCase();
    if (!has(process.env[`GIT_${R}_NAME`]) && !cfg.has(`${role}.name`) && !cfg.has('user.name')) env[`GIT_${R}_NAME`] = 'Flotilla';
    if (!has(process.env[`GIT_${R}_EMAIL`]) && !cfg.has(`${role}.email`) && !cfg.has('user.email') && !has(process.env.EMAIL)) {
      env[`GIT_${R}_EMAIL`] = 'flotilla@localhost';
    }
  }
  return env;
}

// ---------------------------------------------------------------------------------------------------------------------
// Snapshots

export interface Snapshot {
  head: string;
  headTree: string;
  tree: string;
}

/**
 * The tree of the worktree's full current state (tracked + untracked-not-ignored), built in a temporary index. The
 * temp index starts as a copy of the real one (its stat cache makes `add -A` rehash only what changed; it also keeps
 * sparse-checkout and force-added entries right), or from HEAD when the worktree has no index yet.
 */
export async function snapshotTree(worktree: string): Promise<Snapshot> {
  const what = `snapshot of ${worktree}`;
  const out = await run(worktree, ['rev-parse', '--git-path', 'index', 'HEAD', 'HEAD^{tree}'], {
    what: `${worktree} must be a git worktree with a HEAD commit`,
  });
  const [indexPath, head, headTree] = out.split('\n').map((s) => s.trim());
  if (!indexPath || !head || !headTree) throw new WorkspaceError('git_failed', `${what}: unexpected \`git rev-parse\` output: ${out}`);
  const dir = await mkdtemp(join(tmpdir(), 'flotilla-index-'));
  const tmpIndex = join(dir, 'index');
  const env = { GIT_INDEX_FILE: tmpIndex };
  try {
    let copied = false;
    try {
      const realIndex = resolve(worktree, indexPath);
      await copyFile(realIndex, tmpIndex);
      // Keep the index's own mtime: git treats entries written in the same second as the index as "racily clean" and
      // rehashes them. A copy with a new mtime would hide a same-size edit made right after the last index write.
      const st = await stat(realIndex);
      await utimes(tmpIndex, st.atime, st.mtime);
      copied = true;
    } catch {
      // No index (fresh `worktree add --no-checkout`) or unreadable: start from HEAD instead.
    }
    if (!copied) await run(worktree, ['read-tree', head], { env, what });
    await run(worktree, ['add', '-A', '--ignore-errors'], { env, what });
    const tree = (await run(worktree, ['write-tree'], { env, what })).trim();
    return { head, headTree, tree };
  } finally {
    await rm(dir, { recursive: true, force: true }).catch(() => {});
  }
}

/**
 * A commit holding the worktree's full current state (tracked + untracked-not-ignored) whose parent is HEAD, built in a
 * temporary index: the worktree's real index, files and branch are never touched. HEAD itself when nothing differs.
 */
export async function snapshotCommit(worktree: string): Promise<string> {
  const snap = await snapshotTree(worktree);
  if (snap.tree === snap.headTree) return snap.head;
  const env = await identityEnv(worktree);
  const out = await run(worktree, ['commit-tree', snap.tree, '-p', snap.head, '-m', 'flotilla snapshot'], {
    env,
    what: `snapshot commit of ${worktree}`,
  });
  return out.trim();
}

// ---------------------------------------------------------------------------------------------------------------------
// Changes

export interface RawEntry {
  status: string;
  path: string;
  oldPath: string | null;
  oldSha: string;
  newSha: string;
}

/** `diff-tree -r -z --raw` output: ":<modes> <shas> <STATUS>\0<path>\0" (two paths for renames and copies). */
export function parseRaw(out: string): RawEntry[] {
  const tok = out.split('\0');
  const entries: RawEntry[] = [];
  for (let i = 0; i < tok.length; i++) {
    const meta = tok[i]!;
    if (!meta.startsWith(':')) continue;
    const [, , oldSha = '', newSha = '', status = ''] = meta.slice(1).split(' ');
    if (status[0] === 'R' || status[0] === 'C') {
      entries.push({ status: status[0]!, oldPath: tok[i + 1]!, path: tok[i + 2]!, oldSha, newSha });
      i += 2;
    } else {
      entries.push({ status: status[0]!, oldPath: null, path: tok[i + 1]!, oldSha, newSha });
      i += 1;
    }
  }
  return entries;
}

/** `--numstat -z`: "<a>\t<r>\t<path>\0", or "<a>\t<r>\t\0<old>\0<new>\0" for renames; "-" counts mean binary. */
export function parseNumstat(out: string): Map<string, { added: number | null; removed: number | null }> {
  const tok = out.split('\0');
  const map = new Map<string, { added: number | null; removed: number | null }>();
  for (let i = 0; i < tok.length; i++) {
    const t = tok[i]!;
    const m = /^(-|\d+)\t(-|\d+)\t([\s\S]*)$/.exec(t);
    if (!m) continue;
    let path = m[3]!;
    if (path === '') {
      path = tok[i + 2] ?? '';
      i += 2;
    }
    map.set(path, { added: m[1] === '-' ? null : Number(m[1]), removed: m[2] === '-' ? null : Number(m[2]) });
  }
  return map;
}

const STATUS: Record<string, ChangeStatus> = { A: 'added', M: 'modified', D: 'deleted', R: 'renamed', C: 'added', T: 'typechange' };

/** Changed paths between two tree-ishes with rename detection, counts and binary flags: two git processes. */
export async function diffTrees(cwd: string, from: string, to: string): Promise<ChangedFile[]> {
  const base = ['diff-tree', '-r', '-z', '-M', '--no-ext-diff', '--no-textconv'];
  const [raw, num] = await Promise.all([
    run(cwd, [...base, '--raw', from, to], { what: `comparing ${from} with ${to}` }),
    run(cwd, [...base, '--numstat', from, to], { what: `comparing ${from} with ${to}` }),
  ]);
  const counts = parseNumstat(num);
  return parseRaw(raw).map((e) => {
    const c = counts.get(e.path) ?? { added: null, removed: null };
    const binary = c.added === null && c.removed === null;
    return {
      path: e.path,
      oldPath: e.status === 'R' ? e.oldPath : null,
      status: STATUS[e.status] ?? 'modified',
      added: c.added,
      removed: c.removed,
      binary,
    };
  });
}

/**
 * Everything the session changed since base: commits on its branch + staged + unstaged + untracked-not-ignored, one
 * entry per path, renames detected, deletions included. About six git processes whatever the number of files.
 */
export async function sessionChanges(worktree: string, baseCommit: string): Promise<ChangedFile[]> {
  checkRev(baseCommit, 'base commit');
  const [snap, untrackedOut] = await Promise.all([
    snapshotTree(worktree),
    run(worktree, ['ls-files', '--others', '--exclude-standard', '-z'], { what: `listing untracked files in ${worktree}` }),
  ]);
  const untracked = new Set(untrackedOut.split('\0').filter(Boolean));
  const files = await diffTrees(worktree, baseCommit, snap.tree);
  for (const f of files) if (f.status === 'added' && untracked.has(f.path)) f.status = 'untracked';
  const tracked = new Set(files.map((f) => f.path));
  for (const c of changedCopies(worktree)) if (!tracked.has(c.path)) files.push(c);
  flagSecrets(files);
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

// ---------------------------------------------------------------------------------------------------------------------
// Merging

/** `git merge-tree --write-tree` of two commits (merge base found by git): clean with its tree, or the conflicted paths. */
export async function mergeTree(repo: string, a: string, b: string): Promise<{ clean: boolean; tree: string | null; conflicts: string[] }> {
  checkRev(a, 'commit');
  checkRev(b, 'commit');
  const args = ['merge-tree', '--write-tree', '--name-only', '-z', a, b];
  let r: { code: number; stdout: string; stderr: string };
  try {
    r = await runGit(repo, args, { okExits: [0, 1] });
  } catch (err) {
    throw fromGit(err);
  }
  const { code, stdout, stderr } = r;
  // "<tree>\0" then, when conflicted, "<path>\0"… "\0" and the informational messages.
  const tok = stdout.split('\0');
  const tree = /^[0-9a-f]{40,64}$/.test(tok[0] ?? '') ? tok[0]! : null;
  // Exit 1 without a tree is git refusing (e.g. "nope - not something we can merge"), not a conflict.
  if (!tree)
    throw fromGit(
      new GitCommandError(args, repo, code, stderr || stdout, false),
      `merging ${a} with ${b} (both must be commits of ${repo})`,
    );
  if (code === 0) return { clean: true, tree, conflicts: [] };
  const conflicts: string[] = [];
  for (let i = 1; i < tok.length && tok[i] !== ''; i++) if (!conflicts.includes(tok[i]!)) conflicts.push(tok[i]!);
  return { clean: false, tree, conflicts };
}
