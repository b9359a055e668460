// Facts about the user's repository: git's version, the top level, refs, the branch checked out.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { gitRaw } from './git.ts';
import { WorkspaceError, run, tryRun } from './errors.ts';

export async function gitVersion(): Promise<{ version: string; supportsMergeTree: boolean } | null> {
  let out: string;
  try {
    out = (await gitRaw(['--version'])).stdout;
  } catch {
    return null;
  }
  // "git version 2.39.5", "git version 2.39.3 (Apple Git-145)", "git version 2.45.1.windows.1"
  const m = /(\d+)\.(\d+)(?:\.(\d+))?/.exec(out);
  if (!m) return null;
  const major = Number(m[1]);
  const minor = Number(m[2]);
  return { version: m[0], supportsMergeTree: major > 2 || (major === 2 && minor >= 38) };
}

export async function repoToplevel(dir: string): Promise<string> {
  const abs = resolve(dir);
  if (!existsSync(abs)) {
    throw new WorkspaceError('not_a_repo', `${dir} does not exist — point \`repo:\` / --repo at a git repository`);
  }
  const top = await tryRun(abs, ['rev-parse', '--show-toplevel']);
  if (top?.trim()) return resolve(top.trim());
  if ((await tryRun(abs, ['rev-parse', '--is-bare-repository']))?.trim() === 'true') {
    throw new WorkspaceError(
      'not_a_repo',
      `${dir} is a bare git repository — sessions need a working tree: point \`repo:\` / --repo at a clone with a checkout`,
    );
  }
  throw new WorkspaceError(
    'not_a_repo',
    `${dir} is not a git repository — run \`git init\` there, or point \`repo:\` / --repo at a repository`,
  );
}

export async function resolveRef(repo: string, ref: string): Promise<string> {
  // A ref starting with '-' would be read as an option.
  if (ref && !ref.startsWith('-')) {
    const sha = await tryRun(repo, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
    if (sha !== null && /^[0-9a-f]{40,64}$/.test(sha.trim())) return sha.trim();
  }
  const anyRef = await tryRun(repo, ['for-each-ref', '--count=1', '--format=%(refname)']);
  if (anyRef === null) await repoToplevel(repo); // throws the helpful not_a_repo
  if ((await tryRun(repo, ['rev-parse', '--verify', '--quiet', 'HEAD'])) === null && !anyRef?.trim()) {
    throw new WorkspaceError('bad_ref', `${repo} has no commits yet — commit something first (base '${ref}' must be a commit)`);
  }
  throw new WorkspaceError('bad_ref', `base '${ref}' is not a commit in ${repo} — use a branch, tag or commit that exists (git branch -a)`);
}

export async function currentBranch(repo: string): Promise<string | null> {
  const out = await tryRun(repo, ['symbolic-ref', '--quiet', '--short', 'HEAD']);
  if (out === null) {
    // Exit 1 means detached HEAD; anything else (not a repo) deserves the real message.
    await repoToplevel(repo);
    return null;
  }
  return out.trim() || null;
}

/** Files that differ between baseCommit and the worktree as it is now: committed, staged, unstaged and untracked. */
export async function changedFiles(worktree: string, baseCommit: string): Promise<string[]> {
  const diff = await run(worktree, ['diff', '--name-only', '-z', '--no-renames', baseCommit, '--']);
  const untracked = await run(worktree, ['ls-files', '--others', '--exclude-standard', '-z']);
  const files = new Set([...diff.split('\0'), ...untracked.split('\0')].filter(Boolean));
  return [...files].sort();
}

/** The branch a run's base names: `HEAD` means the branch checked out at launch; a commit or tag names none. */
export async function baseBranchOf(repo: string, base: string): Promise<string | null> {
  if (base === 'HEAD') return currentBranch(repo).catch(() => null);
  const name = base.replace(/^refs\/heads\//, '');
  try {
    await resolveRef(repo, `refs/heads/${name}`);
    return name;
  } catch {
    return null;
  }
}
