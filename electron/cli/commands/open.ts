import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { DATA_DIR, defineCommand, parsePort } from '../command.ts';

/** The OS's way of opening a URL in the default browser; a failure only means the user opens it by hand. */
function openBrowser(url: string): void {
  const [cmd, args] =
    process.platform === 'darwin'
      ? ['open', [url]]
      : process.platform === 'win32'
        ? ['cmd', ['/c', 'start', '', url]]
        : ['xdg-open', [url]];
  try {
    const child = spawn(cmd, args as string[], { detached: true, stdio: 'ignore' });
    child.on('error', () => process.stderr.write(`could not open a browser (${cmd}); open the URL above by hand\n`));
    child.unref();
  } catch {
    process.stderr.write('could not open a browser; open the URL above by hand\n');
  }
}

export const open = defineCommand({
  name: 'open',
  about:
    "The data dir's engine in the background: if one runs, print its URL; otherwise start one detached (it outlives this\nterminal; its sessions go on when the window closes), wait until it answers, print the URL, open the dashboard.",
  options: {
    'data-dir': DATA_DIR,
    port: { type: 'string', value: 'N', help: 'the port a new engine listens on (default: a free one)' },
    'no-browser': { type: 'boolean', default: false, help: 'print the URL only' },
  },
  example: 'flotilla open --no-browser',
  async run(o) {
    if (o.port !== undefined) parsePort(o.port);
    const { dataDirOf, root, uiUrl } = await import('../engine-access.ts');
    const { findEngine, startDetached } = await import('../../engine/daemon.ts');
    const dataDir = await dataDirOf(o);
    const flag = o['data-dir'] ? ` --data-dir ${dataDir}` : '';
    let info = await findEngine(dataDir);
    if (info) process.stderr.write(`an engine already serves ${dataDir} (pid ${info.pid}, since ${info.startedAt || 'unknown'})\n`);
    else {
      process.stderr.write(`starting the engine for ${dataDir} in the background…\n`);
      // This CLI's own `serve`, through the same Node and loader.
      const args = [...process.execArgv, resolve(root, 'bin', 'flotilla.js'), 'serve', '--data-dir', dataDir];
      if (o.port !== undefined) args.push('--port', o.port);
      info = await startDetached(dataDir, { command: process.execPath, args, env: { ...process.env, FLOTILLA_DETACHED: '1' } });
      process.stderr.write(`engine started (pid ${info.pid}); its log: flotilla logs${flag}; stop it with: flotilla stop${flag}\n`);
    }
    process.stdout.write(`${uiUrl(info)}\n`);
    if (!o['no-browser']) openBrowser(uiUrl(info));
  },
});
