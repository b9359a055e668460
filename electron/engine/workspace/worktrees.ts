// Worktrees: one git worktree and branch per session, created all-or-nothing and removed without leftovers.
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm, rmdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { GitCommandError, git } from './git.ts';
import { WorkspaceError, fromGit, run, tryRun } from './errors.ts';
import { repoToplevel } from './repo.ts';
import { canonical, isInside, samePath } from './paths.ts';

const SLUG_MAX = 40;

/** ASCII kebab-case of the run name plus the run id's first 6 characters: unique per run and valid inside a git ref. */
export function runSlug(name: string, runId: string): string {
  let base = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '') // accents → plain letters (é → e)
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  base = base.slice(0, SLUG_MAX).replace(/-+$/, '');
  if (!base) base = 'run';
  const id =
    runId
      .toLowerCase()
      .replace(/[^a-z0-9]/g, '')
      .slice(0, 6) || '000000';
  return `${base}-${id}`;
}

export function sessionBranch(slug: string, slot: number): string {
  return `flotilla/${slug}/${slot}`;
}

// ---------------------------------------------------------------------------------------------------------------------
// Worktrees

export interface WorktreeEntry {
  slot: number;
  branch: string;
  path: string;
}

interface ListedWorktree {
  path: string;
  branch: string | null;
  locked: boolean;
}

async function listWorktrees(repo: string): Promise<ListedWorktree[]> {
  const out = await run(repo, ['worktree', 'list', '--porcelain']);
  const list: ListedWorktree[] = [];
  let cur: ListedWorktree | null = null;
  for (const line of out.split('\n')) {
    if (line.startsWith('worktree ')) {
      cur = { path: resolve(line.slice('worktree '.length)), branch: null, locked: false };
      list.push(cur);
    } else if (cur && line.startsWith('branch ')) {
      cur.branch = line.slice('branch '.length).replace(/^refs\/heads\//, '');
    } else if (cur && (line === 'locked' || line.startsWith('locked '))) {
      cur.locked = true;
    }
  }
  return list;
}

async function branchesUnder(repo: string, prefix: string): Promise<string[]> {
  const out = await run(repo, ['for-each-ref', '--format=%(refname)', `refs/heads/${prefix}`]);
  return out
    .split('\n')
    .filter(Boolean)
    .map((r) => r.replace(/^refs\/heads\//, ''));
}

// Another run launching in the same repository, or the user's own git, can hold a lock or have a worktree entry
// half-written for a moment; those failures go away on retry.
const RETRYABLE =
  /\.lock'?:? File exists|Unable to create '.*\.lock'|cannot lock ref|could not lock|Another git process seems to be running|failed to read .*worktrees/i;
const RETRIES = 6;

async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/** Runs fn over items with at most `limit` in flight; stops starting new ones once `stop()` says so. */
async function pool<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
  stop: () => boolean = () => false,
): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    while (next < items.length && !stop()) {
      const item = items[next++]!;
      await fn(item);
    }
  });
  await Promise.all(workers);
}

/**
 * One worktree per slot at join(root, slot) on a new branch flotilla/<slug>/<slot> at baseCommit. All or nothing: on
 * any failure every worktree and branch this call made is removed again and a WorkspaceError names the first failed slot.
 */
export async function createWorktrees(opts: {
  repo: string;
  baseCommit: string;
  slug: string;
  slots: number[];
  root: string;
  concurrency?: number;
  onProgress?: (done: number, total: number, entry: WorktreeEntry) => void;
}): Promise<WorktreeEntry[]> {
  const { repo, baseCommit, slug, slots } = opts;
  const concurrency = opts.concurrency ?? 4;
  if (slots.length === 0) return [];
  if (new Set(slots).size !== slots.length || slots.some((s) => !Number.isInteger(s) || s < 1)) {
    throw new WorkspaceError('worktree_failed', `slots must be distinct positive integers, got ${slots.join(', ')}`);
  }
  const root = resolve(opts.root);
  const top = await repoToplevel(repo);
  if (isInside(root, top)) {
    // Worktrees inside the repository would show up as untracked files in the user's checkout.
    throw new WorkspaceError('worktree_failed', `worktree root ${root} is inside the repository ${top} — use a folder outside it`);
  }

  const plan: WorktreeEntry[] = slots.map((slot) => ({ slot, branch: sessionBranch(slug, slot), path: join(root, String(slot)) }));
  const failAt = (slot: number, path: string, why: string): WorkspaceError =>
    new WorkspaceError('worktree_failed', `slot ${slot}: could not create worktree at ${path}: ${why.trim()}`, slot);

  if ((await tryRun(top, ['rev-parse', '--verify', '--quiet', `${baseCommit}^{commit}`])) === null) {
    throw new WorkspaceError('bad_ref', `base commit ${baseCommit} is not a commit in ${top}`);
  }
  const existing = new Set(await branchesUnder(top, `flotilla/${slug}/`));
  const clash = plan.find((e) => existing.has(e.branch));
  if (clash) throw failAt(clash.slot, clash.path, `branch ${clash.branch} already exists`);
  const worktreesBefore = new Set((await listWorktrees(top)).map((w) => canonical(w.path)));

  const rootExisted = existsSync(root);
  try {
    await mkdir(root, { recursive: true });
  } catch (err) {
    throw failAt(plan[0]!.slot, plan[0]!.path, `cannot create ${root}: ${(err as Error).message}`);
  }

  // All branches in one ref transaction: either every branch exists afterwards or none does.
  const stdin = plan.map((e) => `create refs/heads/${e.branch} ${baseCommit}\n`).join('');
  try {
    await git(top, ['update-ref', '--stdin', '-m', `flotilla: branch for run ${slug}`], { input: stdin });
  } catch (err) {
    if (!rootExisted) await rmdir(root).catch(() => {});
    if (err instanceof GitCommandError && !err.missing) {
      const m = /refs\/heads\/flotilla\/[^/]+\/(\d+)/.exec(err.stderr);
      const e = plan.find((p) => m && p.slot === Number(m[1])) ?? plan[0]!;
      throw failAt(e.slot, e.path, err.stderr || err.message);
    }
    throw fromGit(err);
  }

  // Two phases. Registering a worktree writes .git/worktrees/<name>/ file by file, and a concurrent `worktree add` that
  // lists worktrees meanwhile dies on the half-written entry ("failed to read .git/worktrees/3/commondir"); so
  // registration (milliseconds each) runs one at a time. Populating the files is the slow part and touches only the
  // worktree's own index, so that runs in parallel. It is the same `reset --hard` that `worktree add` runs itself.
  const created: WorktreeEntry[] = [];
  const failures: { entry: WorktreeEntry; why: string }[] = [];
  const attempt = async (entry: WorktreeEntry, cwd: string, args: string[]): Promise<boolean> => {
    for (let i = 0; ; i++) {
      try {
        await git(cwd, args);
        return true;
      } catch (err) {
        const why = err instanceof GitCommandError ? (err.missing ? err.message : err.stderr || err.message) : String(err);
        if (err instanceof GitCommandError && !err.missing && RETRYABLE.test(why) && i < RETRIES) {
          await sleep(50 * 2 ** i + Math.random() * 50);
          continue;
        }
        failures.push({ entry, why });
        return false;
      }
    }
  };
  for (const entry of plan) {
    if (!(await attempt(entry, top, ['worktree', 'add', '--no-checkout', '--quiet', entry.path, entry.branch]))) break;
    created.push(entry);
  }
  let done = 0;
  if (failures.length === 0) {
    await pool(
      plan,
      concurrency,
      async (entry) => {
        if (!(await attempt(entry, entry.path, ['reset', '--hard', '--no-recurse-submodules', '--quiet']))) return;
        // `reset` skips the repo's post-checkout hook that `git worktree add` would run: run it as git would (old head
        // null, new head, branch checkout). Its exit status, as with git checkout, does not undo the checkout.
        await tryRun(entry.path, ['hook', 'run', '--ignore-missing', 'post-checkout', '--', '0'.repeat(40), baseCommit, '1']);
        done++;
        try {
          opts.onProgress?.(done, plan.length, entry);
        } catch {
          // A throwing progress callback must not leave half a run behind.
        }
      },
      () => failures.length > 0,
    );
  }

  if (failures.length === 0) return plan;

  failures.sort((a, b) => a.entry.slot - b.entry.slot);
  const first = failures[0]!;
  const cleanupProblems: string[] = [];
  try {
    // Also anything git registered for a failed slot before giving up (an interrupted add leaves a locked entry).
    const targets = new Set(plan.map((e) => canonical(e.path)));
    const stray = (await listWorktrees(top)).filter((w) => targets.has(canonical(w.path)) && !worktreesBefore.has(canonical(w.path)));
    const toRemove = new Map<string, string>();
    for (const e of created) toRemove.set(canonical(e.path), e.path);
    for (const w of stray) toRemove.set(canonical(w.path), w.path);
    await pool([...toRemove.values()], concurrency, async (p) => {
      const res = await tryRun(top, ['worktree', 'remove', '--force', '--force', p]);
      if (res === null && existsSync(p) && created.some((e) => e.path === p)) {
        // Git refused, but this directory is one we made a moment ago.
        await rm(p, { recursive: true, force: true }).catch((e: Error) => cleanupProblems.push(`${p}: ${e.message}`));
      }
    });
    await tryRun(top, ['worktree', 'prune']);
    const ours = plan.map((e) => e.branch).filter((b) => !existing.has(b));
    const left = new Set(await branchesUnder(top, `flotilla/${slug}/`));
    const del = ours.filter((b) => left.has(b));
    if (del.length && (await tryRun(top, ['branch', '-D', ...del])) === null) cleanupProblems.push(`branches ${del.join(', ')}`);
    if (!rootExisted) await rmdir(root).catch(() => {});
  } catch (err) {
    cleanupProblems.push((err as Error).message);
  }
  const note = cleanupProblems.length ? ` (cleanup also failed: ${cleanupProblems.join('; ')})` : '';
  const err = failAt(first.entry.slot, first.entry.path, first.why);
  err.message += note;
  throw err;
}

/**
 * Force-removes the given worktrees (uncommitted work in them is lost) and deletes their branches. Paths git does not
 * know and branches that do not exist are skipped; the main checkout and its branch are never touched.
 */
export async function removeWorktrees(repo: string, entries: { path: string; branch: string | null }[]): Promise<void> {
  const top = await repoToplevel(repo);
  const listed = await listWorktrees(top);
  const main = listed[0]?.path ?? top;
  const problems: string[] = [];
  const registered = new Set(listed.map((w) => canonical(w.path)));
  const paths = entries.map((e) => e.path).filter((p) => !samePath(p, main) && registered.has(canonical(p)));
  await pool(paths, 4, async (p) => {
    try {
      await git(top, ['worktree', 'remove', '--force', '--force', p]);
    } catch (err) {
      const why = err instanceof GitCommandError ? err.stderr : String(err);
      if (!/is not a working tree|does not exist/i.test(why)) problems.push(fromGit(err).message);
    }
  });
  await tryRun(top, ['worktree', 'prune']);
  const mainBranch = listed[0]?.branch ?? null;
  const wanted = [...new Set(entries.map((e) => e.branch).filter((b): b is string => !!b && b !== mainBranch))];
  for (const b of wanted) {
    // A branch that is already gone is what the caller wanted anyway.
    if ((await tryRun(top, ['rev-parse', '--verify', '--quiet', `refs/heads/${b}`])) === null) continue;
    try {
      await git(top, ['branch', '-D', b]);
    } catch (err) {
      problems.push(fromGit(err).message);
    }
  }
  if (problems.length) throw new WorkspaceError('git_failed', problems.join('\n'));
}

/** Everything of one run: its worktrees (under root, or on its branches), its branches, leftover slot directories. */
export async function cleanRun(repo: string, slug: string, root: string): Promise<{ removedWorktrees: number; removedBranches: number }> {
  const absRoot = resolve(root);
  let top: string | null = null;
  try {
    top = await repoToplevel(repo);
  } catch (err) {
    // A deleted repository leaves only directories behind; those can still go.
    if (!(err instanceof WorkspaceError && err.code === 'not_a_repo')) throw err;
  }
  if (top && isInside(top, absRoot)) {
    throw new WorkspaceError('git_failed', `refusing to clean ${absRoot}: it contains the repository ${top}`);
  }

  let removedWorktrees = 0;
  let removedBranches = 0;
  const problems: string[] = [];
  const prefix = `flotilla/${slug}/`;
  if (top) {
    const listed = await listWorktrees(top);
    const [main, ...others] = listed;
    const mine = others.filter((w) => isInside(w.path, absRoot) || (w.branch?.startsWith(prefix) ?? false));
    await pool(mine, 4, async (w) => {
      if ((await tryRun(top!, ['worktree', 'remove', '--force', '--force', w.path])) !== null) removedWorktrees++;
      else if (existsSync(w.path) && isInside(w.path, absRoot)) {
        await rm(w.path, { recursive: true, force: true });
        removedWorktrees++;
      } else if (!existsSync(w.path))
        removedWorktrees++; // registered but already deleted; prune drops it
      else problems.push(`could not remove worktree ${w.path}`);
    });
    await tryRun(top, ['worktree', 'prune']);
    for (const b of await branchesUnder(top, prefix)) {
      if (b === main?.branch) {
        problems.push(`branch ${b} is checked out in ${main.path} — switch that checkout to another branch, then clean again`);
        continue;
      }
      if ((await tryRun(top, ['branch', '-D', b])) !== null) removedBranches++;
      else problems.push(`could not delete branch ${b}`);
    }
  }

  // Slot directories git no longer knows (an interrupted add, a deleted repository). Only numeric names: root may be
  // mistyped, and we never delete what we cannot recognise as ours.
  if (existsSync(absRoot)) {
    for (const name of await readdir(absRoot)) {
      if (!/^\d+$/.test(name)) continue;
      const p = join(absRoot, name);
      if ((await stat(p).catch(() => null))?.isDirectory()) {
        await rm(p, { recursive: true, force: true });
        removedWorktrees++;
      }
    }
    await rmdir(absRoot).catch(() => {});
  }
  if (problems.length) throw new WorkspaceError('git_failed', problems.join('\n'));
  return { removedWorktrees, removedBranches };
}
