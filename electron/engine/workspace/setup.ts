// What a new worktree lacks that the user's checkout has: untracked files the repo's `.worktreeinclude` names
// (gitignore syntax, the convention Claude Code uses: `.env`, local config…) are copied in, and the template's `setup:`
// commands (e.g. `npm ci`) run in the worktree before its agent starts — in the session's own terminal, so their output
// shows in the tile. A failing command stops there: the agent is not started and the session ends "setup failed".
import { existsSync } from 'node:fs';
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { fromGit, run } from './errors.ts';
import { recordCopied } from './copied.ts';
import { GitCommandError, git } from './git.ts';

export const INCLUDE_FILE = '.worktreeinclude';
/** The wrapper's exit code when a setup command failed (the agent never ran). */
export const SETUP_FAILED_EXIT = 86;

/** Untracked paths of `repo` that `.worktreeinclude` matches (directories as a whole, with a trailing slash). */
export async function includedPaths(repo: string): Promise<string[]> {
  if (!existsSync(join(repo, INCLUDE_FILE))) return [];
  const out = await run(repo, ['ls-files', '-z', '--others', '--ignored', '--directory', `--exclude-from=${join(repo, INCLUDE_FILE)}`], {
    what: `reading ${INCLUDE_FILE} in ${repo}`,
  });
  return out.split('\0').filter(Boolean);
}

/**
 * Copies the included untracked files into each worktree (symlinks kept as links) — only those the worktree itself
 * ignores (Claude Code's rule: listed *and* ignored). A listed file ignored only by the checkout's uncommitted
 * .gitignore would be untracked in the worktree: part of the session's changes, committed, merged and pushed (a `.env`
 * with secrets). Answers what was copied and what was skipped.
 */
export async function copyIncluded(repo: string, worktrees: readonly string[]): Promise<{ copied: string[]; skipped: string[] }> {
  const paths = await includedPaths(repo);
  if (paths.length === 0 || worktrees.length === 0) return { copied: [], skipped: [] };
  // Every worktree is at the same commit: its ignore rules are the same. check-ignore exits 1 when none is ignored.
  const probe = worktrees[0]!;
  let out = '';
  try {
    out = (await git(probe, ['check-ignore', '-z', '--stdin'], { input: paths.join('\0') })).stdout;
  } catch (err) {
    if (!(err instanceof GitCommandError && err.exitCode === 1))
      throw fromGit(err, `checking which ${INCLUDE_FILE} files ${probe} ignores`);
  }
  const ignored = new Set(out.split('\0').filter(Boolean));
  const copied = paths.filter((p) => ignored.has(p) || ignored.has(p.replace(/\/$/, '')));
  const skipped = paths.filter((p) => !copied.includes(p));
  for (const wt of worktrees) {
    for (const p of copied)
      await cp(join(repo, p), join(wt, p), { recursive: true, force: false, errorOnExist: false, verbatimSymlinks: true });
    recordCopied(wt, copied);
  }
  return { copied, skipped };
}

const SCRIPT = [
  'n=$1; shift; i=0',
  'while [ "$i" -lt "$n" ]; do',
  '  i=$((i+1)); c=$1; shift',
  '  printf \'\\033[2m── setup %s/%s: %s ──\\033[0m\\r\\n\' "$i" "$n" "$c"',
  '  sh -c "$c" || { code=$?;',
  `    printf '\\r\\n\\033[31m── setup failed: %s exited %s — the agent was not started ──\\033[0m\\r\\n' "$c" "$code"; exit ${SETUP_FAILED_EXIT}; }`,
  'done',
  "printf '\\033[2m── setup done ──\\033[0m\\r\\n'",
  'exec "$@"',
].join('\n');

/** The agent's command line run after the setup commands, in one shell that becomes the agent (exec). */
export function withSetup(setup: readonly string[], command: string, args: readonly string[]): { command: string; args: string[] } {
  if (setup.length === 0) return { command, args: [...args] };
  return { command: 'sh', args: ['-c', SCRIPT, 'flotilla-setup', String(setup.length), ...setup, command, ...args] };
}
