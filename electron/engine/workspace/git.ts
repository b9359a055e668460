// Running git — the one place Flotilla starts a git process: no shell (paths and refs never need quoting), no prompts,
// English messages, no repository-locating variables inherited from a hook, and failures that say which command broke.
import { execFile } from 'node:child_process';

export interface GitResult {
  stdout: string;
  stderr: string;
}

/** A git command that exited non-zero (or could not start). `missing` means git itself is not installed. */
export class GitCommandError extends Error {
  constructor(
    readonly args: readonly string[],
    readonly cwd: string,
    readonly exitCode: number | null,
    readonly stderr: string,
    readonly missing: boolean,
  ) {
    super(
      missing
        ? 'git is not installed or not on PATH — install git 2.38 or newer'
        : `\`git ${args.join(' ')}\` failed in ${cwd} (exit ${exitCode ?? '?'}): ${stderr.trim() || '(no output)'}`,
    );
    this.name = 'GitCommandError';
  }
}

// Variables that would make git act on some other repository than the one we pass with `-C` (they are set when the
// engine itself runs from inside a git hook, e.g. a test run by a pre-commit hook).
const REPO_LOCATING_VARS = [
  'GIT_DIR',
  'GIT_WORK_TREE',
  'GIT_INDEX_FILE',
  'GIT_COMMON_DIR',
  'GIT_OBJECT_DIRECTORY',
  'GIT_ALTERNATE_OBJECT_DIRECTORIES',
  'GIT_PREFIX',
  'GIT_NAMESPACE',
  'GIT_CEILING_DIRECTORIES',
];

function gitEnv(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of REPO_LOCATING_VARS) delete env[k];
  // Never wait for a credential prompt nobody can see.
  env.GIT_TERMINAL_PROMPT = '0';
  // English messages whatever the user's locale, so lock errors can be recognised (LANGUAGE beats LC_MESSAGES).
  env.LANGUAGE = 'en';
  // Read-only commands (status) must not take index.lock and fight with the agents working in the same tree.
  env.GIT_OPTIONAL_LOCKS = '0';
  return { ...env, ...extra };
}

export interface GitOptions {
  env?: NodeJS.ProcessEnv;
  input?: string;
  /** Exit codes that are answers, not failures (`merge-tree` exits 1 on conflicts). Default: 0 only. */
  okExits?: readonly number[];
}

/**
 * `git -C cwd args…` (or plain `git args…` with cwd null: `--version`, where there may be no repository yet). Resolves
 * with the exit code when it is one of `okExits`; rejects with a GitCommandError otherwise.
 */
export function runGit(cwd: string | null, args: readonly string[], opts: GitOptions = {}): Promise<GitResult & { code: number }> {
  const okExits = opts.okExits ?? [0];
  const argv = cwd === null ? [...args] : ['-C', cwd, ...args];
  const where = cwd ?? process.cwd();
  return new Promise((resolve, reject) => {
    const child = execFile(
      'git',
      argv,
      { env: gitEnv(opts.env), maxBuffer: 64 * 1024 * 1024, windowsHide: true, encoding: 'utf8' },
      (err, stdout, stderr) => {
        if (!err) return resolve({ code: 0, stdout, stderr });
        const e = err as NodeJS.ErrnoException & { code?: string | number };
        if (e.code === 'ENOENT') return reject(new GitCommandError(args, where, null, '', true));
        const code = typeof e.code === 'number' ? e.code : null;
        if (code !== null && okExits.includes(code)) return resolve({ code, stdout, stderr });
        reject(new GitCommandError(args, where, code, stderr || e.message, false));
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

export function git(cwd: string, args: readonly string[], opts: { env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<GitResult> {
  return runGit(cwd, args, opts);
}

/** `git --version` and the like, without `-C` (there may be no repository yet). */
export function gitRaw(args: readonly string[]): Promise<GitResult> {
  return runGit(null, args);
}
