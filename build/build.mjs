// Bundles the Electron shell (main, preload, engine host) with esbuild. The renderer is built by Vite (build/vite.config.ts)
// when it exists. Native and WASM modules stay external: they load from node_modules in Node and in Electron alike.
import { build } from 'esbuild';
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'electron');
const external = ['electron', 'node-pty', 'node-sqlite3-wasm'];
const common = { bundle: true, platform: 'node', target: 'node20', sourcemap: true, external, logLevel: 'warning' };

await Promise.all([
  build({ ...common, entryPoints: [join(root, 'electron/main/index.ts')], outfile: join(out, 'main.cjs'), format: 'cjs' }),
  build({ ...common, entryPoints: [join(root, 'electron/preload/index.ts')], outfile: join(out, 'preload.cjs'), format: 'cjs' }),
  build({
    ...common,
    entryPoints: [join(root, 'electron/main/engine-host.ts')],
    outfile: join(out, 'engine-host.mjs'),
    format: 'esm',
    // Bundled CommonJS dependencies (ws, yaml) call require(): give them one.
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  }),
  // The pty host (a worker thread of the engine): its own entry, loaded by the bundled engine from this folder.
  build({
    ...common,
    entryPoints: [join(root, 'electron/engine/ptyhost/worker.ts')],
    outfile: join(out, 'pty-host.mjs'),
    format: 'esm',
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  }),
]);

// --shell-only: the Electron bundles alone (the bundle test uses it so it never rewrites dist/renderer under a browser test).
const shellOnly = process.argv.includes('--shell-only');
const viteConfig = join(root, 'build', 'vite.config.ts');
if (!shellOnly && existsSync(viteConfig)) {
  execFileSync(process.execPath, [join(root, 'node_modules/vite/bin/vite.js'), 'build', '--config', viteConfig], {
    cwd: root,
    stdio: 'inherit',
  });
}
console.log('built dist/electron (main, preload, engine host, pty host)' + (!shellOnly && existsSync(viteConfig) ? ' and dist/renderer' : ''));
