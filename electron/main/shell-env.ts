// Apps started from a dock, Finder or a desktop launcher get a minimal environment (PATH=/usr/bin:/bin…): `claude`,
// `git` and `node` from the user's shell setup are not found. At start the app asks the user's login shell once for its
// environment (the `shell-env` approach) and hands that to the engine, and so to the agents.
import { spawn } from 'node:child_process';
import { userInfo } from 'node:os';

/** Variables of the app's own making that the shell's copy must not replace. */
const KEEP = new Set(['ELECTRON_RUN_AS_NODE', 'FLOTILLA_DETACHED', '_', 'SHLVL', 'PWD', 'OLDPWD']);
const MARK = '__FLOTILLA_ENV__';

/** Parses `env -0` output between two marks (whatever the shell's rc files print before or after is ignored). */
export function parseEnv0(out: string): Record<string, string> {
  const start = out.indexOf(MARK);
  const end = out.lastIndexOf(MARK);
  if (start < 0 || end <= start) return {};
  const env: Record<string, string> = {};
  for (const entry of out.slice(start + MARK.length, end).split('\0')) {
    const i = entry.indexOf('=');
    if (i > 0) env[entry.slice(0, i).replace(/^\n/, '')] = entry.slice(i + 1);
  }
  return env;
}

/**
 * The login shell's environment merged over `base` (the shell wins, except for KEEP); `base` unchanged when there is no
 * usable shell, it fails, or it takes longer than `timeoutMs` (a slow rc file must not keep the app from starting).
 * Windows: `base` as is (apps get the user's PATH there).
 */
export function loginShellEnv(base: NodeJS.ProcessEnv, opts: { shell?: string; timeoutMs?: number } = {}): Promise<NodeJS.ProcessEnv> {
  if (process.platform === 'win32') return Promise.resolve(base);
  let shell = opts.shell ?? base.SHELL;
  if (!shell) {
    try {
      shell = userInfo().shell ?? undefined;
    } catch {
      shell = undefined;
    }
  }
  if (!shell) return Promise.resolve(base);
  return new Promise((resolve) => {
    let out = '';
    let done = false;
    const finish = (env: NodeJS.ProcessEnv) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(env);
    };
    // Its own process group, so a hung rc file (and whatever it started) is killed whole on timeout.
    const child = spawn(shell!, ['-ilc', `printf '${MARK}'; command env -0; printf '${MARK}'`], {
      env: { ...base, DISABLE_AUTO_UPDATE: 'true' },
      stdio: ['ignore', 'pipe', 'ignore'],
      detached: true,
    });
    const timer = setTimeout(() => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
      finish(base);
    }, opts.timeoutMs ?? 5000);
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => (out += d));
    child.on('error', () => finish(base));
    child.on('close', (code) => {
      const got = code === 0 ? parseEnv0(out) : {};
      if (!got.PATH) return finish(base);
      const merged: NodeJS.ProcessEnv = { ...base };
      for (const [k, v] of Object.entries(got)) if (!KEEP.has(k)) merged[k] = v;
      finish(merged);
    });
  });
}
