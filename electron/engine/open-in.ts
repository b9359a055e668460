// "Open in editor" and "Open terminal here" for a session's worktree: the user's own tools, started detached on the
// engine's machine (where the worktree is). The editor is settings' `ui.editor`, else $VISUAL, else $EDITOR, else VS
// Code; an editor that runs in a terminal (vim, nano, helix…) opens inside the terminal. The terminal is `ui.terminal`,
// else $TERMINAL, else the desktop's own. The choice is a plain function; errors say what to set.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { EngineError } from './errors.ts';
import { findOnPath } from './templates/index.ts';

export interface Launch {
  command: string;
  args: string[];
  cwd: string;
}

export interface OpenEnv {
  platform: NodeJS.Platform;
  env: NodeJS.ProcessEnv;
  /** Is this program on PATH (default: findOnPath over env.PATH). */
  has?: (program: string) => boolean;
}

/** A command line split like a shell would for simple cases: spaces, single and double quotes, backslash escapes. */
export function splitCommandLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: '"' | "'" | null = null;
  let any = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"' && i + 1 < line.length) cur += line[++i];
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      any = true;
    } else if (c === '\\' && i + 1 < line.length) cur += line[++i];
    else if (/\s/.test(c)) {
      if (cur || any) out.push(cur);
      cur = '';
      any = false;
    } else cur += c;
  }
  if (quote) throw new Error(`unclosed ${quote} in '${line}'`);
  if (cur || any) out.push(cur);
  return out;
}

const TERMINAL_EDITORS = new Set(['vi', 'vim', 'nvim', 'nano', 'emacs', 'micro', 'hx', 'helix', 'kak', 'joe', 'ne', 'mg', 'pico', 'ed']);

/** Linux terminals in the order tried, each with how it takes a directory and a command to run. */
const LINUX_TERMINALS: { name: string; dir: (d: string) => string[]; exec: string[] }[] = [
  { name: 'x-terminal-emulator', dir: () => [], exec: ['-e'] },
  { name: 'gnome-terminal', dir: (d) => [`--working-directory=${d}`], exec: ['--'] },
  { name: 'konsole', dir: (d) => ['--workdir', d], exec: ['-e'] },
  { name: 'xfce4-terminal', dir: (d) => [`--working-directory=${d}`], exec: ['-x'] },
  { name: 'kitty', dir: (d) => ['--directory', d], exec: [] },
  { name: 'alacritty', dir: (d) => ['--working-directory', d], exec: ['-e'] },
  { name: 'wezterm', dir: (d) => ['start', '--cwd', d], exec: ['--'] },
  { name: 'foot', dir: (d) => [`--working-directory=${d}`], exec: [] },
  { name: 'xterm', dir: () => [], exec: ['-e'] },
];

function hasOf(o: OpenEnv): (p: string) => boolean {
  return o.has ?? ((p) => findOnPath(p, o.env.PATH) !== null);
}

/** The terminal to open in `dir`, optionally running `run` in it. */
export function terminalLaunch(dir: string, o: OpenEnv & { configured?: string }, run: string[] = []): Launch {
  const has = hasOf(o);
  const own = o.configured ?? o.env.TERMINAL;
  if (own) {
    const [command, ...args] = splitCommandLine(own);
    const name = path.basename(command!);
    const known = LINUX_TERMINALS.find((t) => t.name === name);
    return { command: command!, args: [...args, ...(known && run.length ? known.exec : run.length ? ['-e'] : []), ...run], cwd: dir };
  }
  if (o.platform === 'darwin') {
    if (run.length)
      return {
        command: 'osascript',
        args: ['-e', `tell application "Terminal" to do script "cd ${dir.replace(/"/g, '\\"')} && ${run.join(' ').replace(/"/g, '\\"')}"`],
        cwd: dir,
      };
    return { command: 'open', args: ['-a', 'Terminal', dir], cwd: dir };
  }
  if (o.platform === 'win32')
    return { command: 'cmd.exe', args: ['/c', 'start', '', 'cmd.exe', '/k', ...(run.length ? run : [])], cwd: dir };
  const t = LINUX_TERMINALS.find((x) => has(x.name));
  if (!t)
    throw new EngineError(
      'no_terminal',
      'no terminal program found (tried x-terminal-emulator, gnome-terminal, konsole, kitty, alacritty, xterm…) — set $TERMINAL, or the terminal command in Settings → Interface',
    );
  return { command: t.name, args: [...t.dir(dir), ...(run.length ? [...t.exec, ...run] : [])], cwd: dir };
}

/** The editor to open `dir` with. */
export function editorLaunch(dir: string, o: OpenEnv & { configured?: string; terminal?: string }): Launch {
  const has = hasOf(o);
  const line = o.configured ?? o.env.VISUAL ?? o.env.EDITOR ?? (has('code') ? 'code' : null);
  if (!line)
    throw new EngineError(
      'no_editor',
      'no editor configured — set $VISUAL or $EDITOR (e.g. export VISUAL="code --wait"), or the editor command in Settings → Interface',
    );
  const [command, ...args] = splitCommandLine(line);
  // "code --wait" makes sense for git, not here: the worktree opens and the call returns.
  const own = args.filter((a) => a !== '--wait' && a !== '-w');
  if (TERMINAL_EDITORS.has(path.basename(command!))) return terminalLaunch(dir, { ...o, configured: o.terminal }, [command!, ...own, dir]);
  return { command: command!, args: [...own, dir], cwd: dir };
}

/**
 * A worktree on a host (flotilla hosts): VS Code's Remote-SSH opens it where `code` is here (vscode-remote URI); a
 * terminal runs `ssh -t <destination>` into it. Otherwise the error says what to run.
 */
export function remoteLaunch(destination: string, dir: string, app: 'editor' | 'terminal', o: OpenEnv & { terminal?: string }): Launch {
  const has = hasOf(o);
  const home = o.env.HOME ?? '/';
  if (app === 'editor') {
    if (!has('code'))
      throw new EngineError(
        'no_editor',
        `the worktree is on ${destination} — open it with VS Code's Remote-SSH (code --remote ssh-remote+${destination} ${dir}), or in a terminal: ssh -t ${destination} 'cd ${dir} && exec $SHELL -l'`,
      );
    return { command: 'code', args: ['--folder-uri', `vscode-remote://ssh-remote+${destination}${dir}`], cwd: home };
  }
  return terminalLaunch(home, { ...o, configured: o.terminal }, [
    'ssh',
    '-t',
    destination,
    `cd '${dir.replace(/'/g, `'"'"'`)}' && exec "$SHELL" -l`,
  ]);
}

/** The user's environment for their own tools, without the provider keys and tokens the engine holds. */
export function appEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(env))
    if (!/(_API_KEY|_AUTH_TOKEN)$/.test(k) && !k.startsWith('FLOTILLA_') && k !== 'ELECTRON_RUN_AS_NODE') out[k] = v;
  return out;
}

/** Opens a session's worktree in the editor or a terminal; answers the program started. */
export async function openWorktree(
  dir: string,
  app: 'editor' | 'terminal',
  o: OpenEnv & { editor?: string; terminal?: string },
): Promise<{ command: string; path: string }> {
  const l = app === 'editor' ? editorLaunch(dir, { ...o, configured: o.editor }) : terminalLaunch(dir, { ...o, configured: o.terminal });
  await startDetachedApp(l, appEnv(o.env));
  return { command: [l.command, ...l.args].join(' '), path: dir };
}

/** Starts a launch detached (it outlives the engine); rejects with a clear error when the program cannot start. */
export function startDetachedApp(l: Launch, env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(l.command, l.args, { cwd: l.cwd, env, detached: true, stdio: 'ignore' });
    child.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new EngineError(
          'open_failed',
          err.code === 'ENOENT'
            ? `'${l.command}' is not installed or not on PATH — install it, or choose another command in Settings → Interface`
            : `cannot start '${l.command}': ${err.message}`,
        ),
      ),
    );
    child.once('spawn', () => {
      child.unref();
      resolve();
    });
  });
}
