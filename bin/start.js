#!/usr/bin/env node
// `npm start`: the desktop app when Electron's binary is installed; otherwise the same UI in the browser.
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

/** The Electron binary's path, without triggering electron's own download (which fails offline). */
function electronBinary() {
  try {
    const pkgDir = dirname(require.resolve('electron/package.json'));
    const pathFile = join(pkgDir, 'path.txt');
    if (!existsSync(pathFile)) return null;
    const bin = join(pkgDir, 'dist', readFileSync(pathFile, 'utf8').trim());
    return existsSync(bin) ? bin : null;
  } catch {
    return null;
  }
}

execFileSync(process.execPath, [join(root, 'build', 'build.mjs')], { cwd: root, stdio: 'inherit' });
const electron = electronBinary();
const child = electron
  ? spawn(electron, [join(root, 'dist', 'electron', 'main.cjs')], { stdio: 'inherit' })
  : (console.log(
      "Electron's binary is not installed on this machine (it is downloaded separately and needs the internet) — serving the same UI in your browser instead:",
    ),
    spawn(process.execPath, [join(root, 'bin', 'flotilla.js'), 'serve', ...process.argv.slice(2)], { stdio: 'inherit' }));
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code) => process.exit(code ?? 0));
