#!/usr/bin/env node
// `npm run dev`: the engine from the TypeScript sources, restarted when one of them changes (tsx watch), and the UI
// rebuilt on every save (vite build --watch into dist/renderer, which the engine serves: reload the page to see it).
// Its data dir is .flotilla-data/dev in the checkout, so development never touches ~/.flotilla.
//
//   npm run dev              the engine and the UI, empty
//   npm run dev -- demo      with the demo run (no API key): simulated agents and a simulated K2
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dataDir = process.env.FLOTILLA_DEV_DATA ?? join(root, '.flotilla-data', 'dev');
mkdirSync(dataDir, { recursive: true });
const command = process.argv[2] === 'demo' ? 'demo' : 'serve';

const children = [
  // The UI: rebuilt into dist/renderer on every change under renderer/ or electron/shared/.
  spawn(
    process.execPath,
    [join(root, 'node_modules/vite/bin/vite.js'), 'build', '--watch', '--config', join(root, 'build/vite.config.ts')],
    {
      cwd: root,
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  ),
  // The engine: restarted by tsx when a file it imports changes (its sessions end with it: this is for development).
  spawn(
    process.execPath,
    [
      join(root, 'node_modules/tsx/dist/cli.mjs'),
      'watch',
      '--clear-screen=false',
      join(root, 'bin/flotilla.js'),
      command,
      '--data-dir',
      dataDir,
    ],
    {
      cwd: root,
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  ),
];

let stopping = false;
function stop(code) {
  if (stopping) return;
  stopping = true;
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  process.exitCode = code;
}
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => stop(0));
for (const c of children) c.on('exit', (code) => stop(code ?? 0));
