// Pushing a session's branch to a remote of the repository. Never prompts (a prompt would hang a headless engine):
// missing credentials, a rejected push and an unknown remote each fail with what to do.
import { GitCommandError, git } from './git.ts';
import { WorkspaceError, run } from './errors.ts';

export async function remotes(repo: string): Promise<string[]> {
  return (await run(repo, ['remote'], { what: `listing the remotes of ${repo}` }))
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
}

/** Pushes refs/heads/<branch> to <remote> (same name there); answers the pushed commit. */
export async function pushBranch(repo: string, branch: string, remote = 'origin'): Promise<string> {
  const known = await remotes(repo);
  if (!known.includes(remote))
    throw new WorkspaceError(
      'no_remote',
      `${repo} has no remote '${remote}'${known.length ? ` (it has: ${known.join(', ')})` : ' (it has none)'} — add it: git remote add ${remote} <url>, or push to one of those`,
    );
  const commit = (await run(repo, ['rev-parse', '--verify', `refs/heads/${branch}^{commit}`], { what: `session branch ${branch}` })).trim();
  try {
    await git(repo, ['push', '--porcelain', remote, `refs/heads/${branch}:refs/heads/${branch}`], {
      env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GCM_INTERACTIVE: 'never', GIT_ASKPASS: '', SSH_ASKPASS: '' },
    });
  } catch (err) {
    if (!(err instanceof GitCommandError) || err.missing) throw err;
    const why = err.stderr.trim();
    if (/rejected|non-fast-forward|fetch first/i.test(why))
      throw new WorkspaceError(
        'push_rejected',
        `${remote} refused ${branch}: ${why.split('\n').find((l) => /rejected|!/.test(l)) ?? why} — the remote branch has other commits; pull them into the session, or push under another name`,
      );
    if (/could not read (Username|Password)|Authentication failed|Permission denied|terminal prompts disabled|403/i.test(why))
      throw new WorkspaceError(
        'push_auth',
        `no credentials to push to ${remote}: ${why.split('\n')[0]} — set up a credential helper, an SSH key or a token for it (git push from a terminal once)`,
      );
    throw new WorkspaceError('git_failed', `pushing ${branch} to ${remote} failed: ${why}`);
  }
  return commit;
}
