// Reviewing and landing a session: one file's diff, the whole session as a patch, committing in the session's worktree,
// and squash-merging into a branch of the user's repository — computed first, then the branch moves in one step.
import { resolve } from 'node:path';
import type { FileDiff } from '../../shared/contract.ts';
import { GitCommandError, git } from './git.ts';
import { WorkspaceError, checkRev, fromGit, run, tryRun } from './errors.ts';
import { identityEnv, mergeTree, parseRaw, snapshotCommit, snapshotTree } from './changes.ts';
import { canonical } from './paths.ts';

// Diff output that is the same whatever the user's diff configuration (prefixes, colours, external tools, relative).
const DIFF_OPTS = ['--no-color', '--no-ext-diff', '--no-textconv', '--no-relative', '--src-prefix=a/', '--dst-prefix=b/'];
const ZERO = /^0+$/;

export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const [v, unit] = n < 1e6 ? [n / 1e3, 'KB'] : n < 1e9 ? [n / 1e6, 'MB'] : [n / 1e9, 'GB'];
  const s = v < 10 ? v.toFixed(1) : String(Math.round(v));
  return `${s.replace(/\.0$/, '')} ${unit}`;
}

function normalizePath(path: string): string {
  const p = path.replace(/\\/g, '/').replace(/^(\.\/)+/, '');
  if (!p || p.startsWith('/') || /^[a-zA-Z]:/.test(p) || p.split('/').includes('..')) {
    throw new WorkspaceError('git_failed', `file path '${path}' must be relative to the worktree root (e.g. src/app.ts)`);
  }
  return p;
}

/** Base vs the worktree's current content (committed, staged, unstaged and untracked) of one file. */
export async function fileDiff(worktree: string, baseCommit: string, path: string, opts: { maxBytes?: number } = {}): Promise<FileDiff> {
  checkRev(baseCommit, 'base commit');
  const p = normalizePath(path);
  const maxBytes = opts.maxBytes ?? 200_000;
  const snap = await snapshotTree(worktree);
  const raw = await run(worktree, ['diff-tree', '-r', '-z', '-M', '--raw', baseCommit, snap.tree], {
    what: `diff of ${p} in ${worktree}`,
  });
  const entry = parseRaw(raw).find((e) => e.path === p) ?? parseRaw(raw).find((e) => e.oldPath === p);
  if (!entry) return { path: p, binary: false, truncated: false, note: null, diff: '' };
  const paths = entry.oldPath ? [entry.oldPath, entry.path] : [entry.path];
  const diff = await run(worktree, ['--literal-pathspecs', 'diff', ...DIFF_OPTS, '-M', baseCommit, snap.tree, '--', ...paths], {
    what: `diff of ${p} in ${worktree}`,
  });
  const header = diff.split('\n@@', 1)[0]!;
  if (/^Binary files .* differ$/m.test(header)) {
    const shas = [entry.oldSha, entry.newSha];
    const sizes = (
      await run(worktree, ['cat-file', '--batch-check=%(objectsize)'], { input: shas.filter((s) => !ZERO.test(s)).join('\n') + '\n' })
    )
      .split('\n')
      .filter(Boolean)
      .map(Number);
    const before = ZERO.test(entry.oldSha) ? null : sizes.shift()!;
    const after = ZERO.test(entry.newSha) ? null : sizes.shift()!;
    const note = `binary file: ${before === null ? 'new' : formatBytes(before)} → ${after === null ? 'deleted' : formatBytes(after)}`;
    return { path: entry.path, binary: true, truncated: false, note, diff };
  }
  const total = Buffer.byteLength(diff);
  if (total <= maxBytes)
    return { path: entry.path, binary: false, truncated: false, note: null, diff, ...(await fullTexts(worktree, entry)) };
  let cut = Buffer.from(diff).subarray(0, maxBytes).toString('utf8');
  const nl = cut.lastIndexOf('\n');
  cut = nl >= 0 ? cut.slice(0, nl + 1) : '';
  // A cut inside a multi-byte character decodes to U+FFFD; lastIndexOf('\n') above already dropped that partial line.
  return {
    path: entry.path,
    binary: false,
    truncated: true,
    note: `diff truncated at ${formatBytes(maxBytes)} (of ${formatBytes(total)})`,
    diff: cut,
  };
}

const MAX_FULL_TEXT = 256 * 1024;

/** Both sides of a text file, for highlighting with context and expanding unchanged lines; {} when one is too large. */
async function fullTexts(
  worktree: string,
  e: { oldSha: string; newSha: string },
): Promise<{ oldText?: string | null; newText?: string | null }> {
  const shas = [e.oldSha, e.newSha].filter((s) => !ZERO.test(s));
  if (shas.length === 0) return {};
  const sizes = (await run(worktree, ['cat-file', '--batch-check=%(objectsize)'], { input: `${shas.join('\n')}\n` }))
    .split('\n')
    .filter(Boolean)
    .map(Number);
  if (sizes.some((n) => !(n <= MAX_FULL_TEXT))) return {};
  const blob = (sha: string) =>
    ZERO.test(sha) ? Promise.resolve(null) : run(worktree, ['cat-file', 'blob', sha], { what: `file contents ${sha}` });
  const [oldText, newText] = await Promise.all([blob(e.oldSha), blob(e.newSha)]);
  return { oldText, newText };
}

/** The whole session (committed and not) as a binary-safe patch that `git apply` takes on the base commit. */
export async function exportPatch(worktree: string, baseCommit: string): Promise<string> {
  checkRev(baseCommit, 'base commit');
  const snap = await snapshotTree(worktree);
  return run(worktree, ['diff', ...DIFF_OPTS, '--binary', '--full-index', '-M', baseCommit, snap.tree], {
    what: `patch of ${worktree} against ${baseCommit}`,
  });
}

const LOCKED = /index\.lock|Unable to create .*\.lock|Another git process seems to be running/i;

/** An index-writing command; an agent's own git may hold index.lock for a moment. */
async function runLocked(
  cwd: string,
  args: readonly string[],
  opts: { env?: NodeJS.ProcessEnv; input?: string; what: string },
): Promise<string> {
  for (let i = 0; ; i++) {
    try {
      return (await git(cwd, args, { env: opts.env, input: opts.input })).stdout;
    } catch (err) {
      if (err instanceof GitCommandError && !err.missing && LOCKED.test(err.stderr) && i < 5) {
        await new Promise((r) => setTimeout(r, 50 * 2 ** i));
        continue;
      }
      throw fromGit(err, opts.what);
    }
  }
}

/** `git add -A` + commit in the session's worktree (hooks skipped). null when there is nothing to commit. */
export async function commitSession(worktree: string, message: string): Promise<{ commit: string | null }> {
  if (!message.trim()) throw new WorkspaceError('git_failed', `commit message for ${worktree} is empty — write one`);
  const what = `committing in ${worktree}`;
  await runLocked(worktree, ['add', '-A'], { what });
  if ((await tryRun(worktree, ['diff', '--cached', '--quiet'])) !== null) return { commit: null };
  const env = await identityEnv(worktree);
  await runLocked(worktree, ['commit', '--quiet', '--no-verify', '--cleanup=whitespace', '-F', '-'], { env, input: message, what });
  return { commit: (await run(worktree, ['rev-parse', 'HEAD'], { what })).trim() };
}

// ---------------------------------------------------------------------------------------------------------------------
// Squash merge

export type MergeRefusal = 'conflict' | 'dirty' | 'nothing' | 'not_a_branch';

export class MergeRefused extends Error {
  /** The wire's error code: merge_refused_conflict, …_dirty, …_nothing, …_not_a_branch. */
  readonly code: `merge_refused_${MergeRefusal}`;
  constructor(
    readonly reason: MergeRefusal,
    message: string,
    readonly paths: string[] = [],
  ) {
    super(message);
    this.name = 'MergeRefused';
    this.code = `merge_refused_${reason}`;
  }
}

function listPaths(paths: string[], max = 10): string {
  return paths.slice(0, max).join(', ') + (paths.length > max ? ` and ${paths.length - max} more` : '');
}

/** Where `branch` is checked out (main or linked worktree), if anywhere. */
async function checkoutOf(repo: string, branch: string): Promise<string | null> {
  const out = await run(repo, ['worktree', 'list', '--porcelain'], { what: `listing worktrees of ${repo}` });
  let path: string | null = null;
  for (const line of out.split('\n')) {
    if (line.startsWith('worktree ')) path = line.slice('worktree '.length);
    else if (line === `branch refs/heads/${branch}` && path) return resolve(path);
  }
  return null;
}

/** Untracked (ignored included) files in `checkout` that writing `paths` would overwrite or collide with. */
async function untrackedInTheWay(checkout: string, paths: string[]): Promise<string[]> {
  if (paths.length === 0) return [];
  const out = await run(checkout, ['ls-files', '--others', '--directory', '-z'], { what: `listing untracked files in ${checkout}` });
  const untracked = new Set<string>();
  const ancestors = new Set<string>();
  for (const u of out.split('\0').filter(Boolean)) {
    const clean = u.replace(/\/$/, '');
    untracked.add(clean);
    const parts = clean.split('/');
    for (let i = 1; i < parts.length; i++) ancestors.add(parts.slice(0, i).join('/'));
  }
  const hit: string[] = [];
  for (const p of paths) {
    const parts = p.split('/');
    const mine = parts.some((_, i) => untracked.has(parts.slice(0, i + 1).join('/')));
    if (mine || ancestors.has(p)) hit.push(p);
  }
  return hit;
}

/**
 * Squash-merges the session (its full current state) into branch `target` of the user's repository as one new commit
 * on the target's tip. Everything is computed with merge-tree/commit-tree first; the branch then moves in one step
 * (a fast-forward of the checkout that has it, or update-ref when none does). Refusals throw MergeRefused.
 */
export async function squashMerge(opts: {
  repo: string;
  target: string;
  worktree: string;
  message: string;
}): Promise<{ commit: string; files: number }> {
  const { repo, worktree, message } = opts;
  const target = opts.target.replace(/^refs\/heads\//, '');
  if (!message.trim()) throw new WorkspaceError('git_failed', 'merge commit message is empty — write one');
  const notBranch = (why: string): MergeRefused => new MergeRefused('not_a_branch', why);
  if (!target || target.startsWith('-') || (await tryRun(repo, ['check-ref-format', `refs/heads/${target}`])) === null) {
    throw notBranch(`'${opts.target}' is not a valid branch name — pass a local branch of ${repo} (git branch)`);
  }
  const [tipOut, repoCommon, wtCommon, checkout] = await Promise.all([
    tryRun(repo, ['rev-parse', '--verify', '--quiet', `refs/heads/${target}^{commit}`]),
    run(repo, ['rev-parse', '--path-format=absolute', '--git-common-dir'], { what: `${repo} must be a git repository` }),
    run(worktree, ['rev-parse', '--path-format=absolute', '--git-common-dir'], {
      what: `session worktree ${worktree} must be a git worktree`,
    }),
    checkoutOf(repo, target),
  ]);
  const oldTip = tipOut?.trim();
  if (!oldTip) throw notBranch(`'${target}' is not a branch of ${repo} — pass an existing local branch (git branch)`);
  if (canonical(repoCommon.trim()) !== canonical(wtCommon.trim())) {
    throw new WorkspaceError(
      'git_failed',
      `session worktree ${worktree} does not belong to the repository ${repo} — merge it into its own repository`,
    );
  }
  if (checkout && canonical(checkout) === canonical(worktree)) {
    throw notBranch(`'${target}' is the session's own branch (checked out in ${worktree}) — pick the branch to merge into, e.g. main`);
  }

  const snapshot = await snapshotCommit(worktree);
  const merged = await mergeTree(repo, oldTip, snapshot);
  if (!merged.clean || !merged.tree) {
    throw new MergeRefused(
      'conflict',
      `merging the session into ${target} would conflict in ${listPaths(merged.conflicts)} — nothing was changed; ` +
        `resolve in the session (or merge ${target} into it) and try again`,
      merged.conflicts,
    );
  }
  const tipTree = (await run(repo, ['rev-parse', `${oldTip}^{tree}`])).trim();
  if (merged.tree === tipTree) {
    throw new MergeRefused('nothing', `nothing to merge: ${target} already has all of the session's changes`);
  }
  const changed = parseRaw(await run(repo, ['diff-tree', '-r', '-z', '-M', '--raw', tipTree, merged.tree]));

  if (checkout) {
    const status = await run(checkout, ['status', '--porcelain=v1', '-z', '--untracked-files=no'], {
      what: `checking ${checkout} for uncommitted changes`,
    });
    const dirty: string[] = [];
    const tok = status.split('\0');
    for (let i = 0; i < tok.length; i++) {
      const t = tok[i]!;
      if (t.length < 4) continue;
      dirty.push(t.slice(3));
      if (t[0] === 'R' || t[0] === 'C') i++; // "XY new\0old\0"
    }
    if (dirty.length) {
      throw new MergeRefused(
        'dirty',
        `${checkout} has uncommitted changes in ${listPaths(dirty)} — commit or stash them (git stash), then merge again; nothing was changed`,
        dirty,
      );
    }
    const inTheWay = await untrackedInTheWay(
      checkout,
      changed.filter((e) => e.status !== 'D').map((e) => e.path),
    );
    if (inTheWay.length) {
      throw new MergeRefused(
        'dirty',
        `untracked files in ${checkout} would be overwritten by the merge: ${listPaths(inTheWay)} — move or delete them, then merge again; nothing was changed`,
        inTheWay,
      );
    }
  }

  const env = await identityEnv(repo);
  const commit = (
    await run(repo, ['commit-tree', merged.tree, '-p', oldTip, '-F', '-'], {
      env,
      input: message,
      what: `creating the merge commit in ${repo}`,
    })
  ).trim();

  if (checkout) {
    try {
      await git(checkout, ['merge', '--ff-only', '--no-autostash', '--no-stat', '--quiet', commit]);
    } catch (err) {
      if (err instanceof GitCommandError && !err.missing) {
        const why = err.stderr.trim();
        if (/would be overwritten|untracked working tree files|local changes/i.test(why)) {
          throw new MergeRefused('dirty', `${checkout} changed while merging: ${why} — nothing was changed; clean it up and merge again`);
        }
        throw new WorkspaceError(
          'git_failed',
          `fast-forwarding ${target} in ${checkout} to the merge commit ${commit} failed: ${why} — ${target} was not moved; try again`,
        );
      }
      throw fromGit(err);
    }
  } else {
    await run(repo, ['update-ref', '-m', `flotilla: squash-merge into ${target}`, `refs/heads/${target}`, commit, oldTip], {
      what: `moving ${target} to ${commit} (it may have moved meanwhile — try again)`,
    });
  }
  return { commit, files: changed.length };
}
