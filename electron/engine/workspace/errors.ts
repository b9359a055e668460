// Workspace errors and the git helpers every workspace module uses: failures become a WorkspaceError whose code says
// what is wrong (not_a_repo, bad_ref, worktree_failed, git_missing, git_failed).
import { GitCommandError, git } from './git.ts';

export type WorkspaceErrorCode =
  | 'not_a_repo'
  | 'bad_ref'
  | 'worktree_failed'
  | 'git_missing'
  | 'git_failed'
  | 'no_remote'
  | 'push_rejected'
  | 'push_auth';

export class WorkspaceError extends Error {
  constructor(
    readonly code: WorkspaceErrorCode,
    message: string,
    readonly slot?: number,
  ) {
    super(message);
    this.name = 'WorkspaceError';
  }
}

export function fromGit(err: unknown, what?: string): WorkspaceError {
  if (err instanceof WorkspaceError) return err;
  const prefix = what ? `${what}: ` : '';
  if (err instanceof GitCommandError) return new WorkspaceError(err.missing ? 'git_missing' : 'git_failed', prefix + err.message);
  return new WorkspaceError('git_failed', prefix + (err instanceof Error ? err.message : String(err)));
}

/** git's stdout; any failure as a WorkspaceError (prefixed with `what` when given). */
export async function run(
  cwd: string,
  args: readonly string[],
  opts: { env?: NodeJS.ProcessEnv; input?: string; what?: string } = {},
): Promise<string> {
  try {
    return (await git(cwd, args, { env: opts.env, input: opts.input })).stdout;
  } catch (err) {
    throw fromGit(err, opts.what);
  }
}

/** Like run(), but a non-zero exit is an answer (null), not an error; a missing git still throws. */
export async function tryRun(cwd: string, args: readonly string[], opts: { env?: NodeJS.ProcessEnv } = {}): Promise<string | null> {
  try {
    return (await git(cwd, args, opts)).stdout;
  } catch (err) {
    if (err instanceof GitCommandError && !err.missing) return null;
    throw fromGit(err);
  }
}

/** A ref or commit from a caller: never something git would read as an option. */
export function checkRev(rev: string, what: string): void {
  if (!rev || rev.startsWith('-') || /[\s\0]/.test(rev)) {
    throw new WorkspaceError('bad_ref', `${what} '${rev}' is not a valid commit or branch name — pass a sha or branch name`);
  }
}
