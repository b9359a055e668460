// Bundles the Electron shell (main, preload, engine host) with esbuild. The renderer is built by Vite (build/vite.config.ts)
// when it exists. Native and WASM modules stay external: they load from node_modules in Node and in Electron alike.
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// FLOTILLA_BUILD_OUT: another folder for the Electron bundles (the layout test builds straight into its own layout);
// FLOTILLA_BUILD_EXTERNAL: more packages to leave to run time (the layout test proves the check below catches one).
const out = process.env.FLOTILLA_BUILD_OUT ?? join(root, 'dist', 'electron');
const external = ['electron', 'node-pty', 'node-sqlite3-wasm', ...(process.env.FLOTILLA_BUILD_EXTERNAL?.split(',').filter(Boolean) ?? [])];
const common = { bundle: true, platform: 'node', target: 'node20', sourcemap: true, external, logLevel: 'warning', metafile: true };

const results = await Promise.all([
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
  // The CLI: a light dispatcher whose commands load on demand (code splitting: `flotilla --help` loads no engine).
  build({
    ...common,
    entryPoints: { cli: join(root, 'electron/cli.ts') },
    outdir: out,
    outExtension: { '.js': '.mjs' },
    format: 'esm',
    splitting: true,
    chunkNames: 'cli-[name]-[hash]',
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

// What the engine loads at run time besides its code: the demo agent (a plain script each demo session runs with node).
mkdirSync(join(out, 'demo'), { recursive: true });
copyFileSync(join(root, 'electron/engine/demo/agent.mjs'), join(out, 'demo', 'agent.mjs'));
// The forwarder a meter-only container runs (its one way out: loopback → the meter's socket).
mkdirSync(join(out, 'sandbox'), { recursive: true });
copyFileSync(join(root, 'electron/engine/sandbox/forwarder.mjs'), join(out, 'sandbox', 'forwarder.mjs'));
// The window's and the tray's images (npm run icons makes them from build/icon.svg); Electron picks tray@2x on HiDPI.
copyFileSync(join(root, 'build/icons/512x512.png'), join(out, 'icon.png'));
copyFileSync(join(root, 'build/icons/16x16.png'), join(out, 'tray.png'));
copyFileSync(join(root, 'build/icons/32x32.png'), join(out, 'tray@2x.png'));

// The layout check: every import a bundle leaves to run time must be in `dependencies` (what `npm ci --omit=dev` and the
// packaged app install), and every file the engine loads beside its code must be in dist/ — so a runtime import or asset
// that only the checkout has (the demo agent once) fails the build, not the packaged app.
import { builtinModules } from 'node:module';
const pkg = JSON.parse((await import('node:fs')).readFileSync(join(root, 'package.json'), 'utf8'));
const runtime = new Set([...Object.keys(pkg.dependencies ?? {}), 'electron']);
// ws's optional speed-ups: required inside try/catch, absent is fine.
const optional = new Set(['bufferutil', 'utf-8-validate']);
const missing = new Set();
for (const r of results)
  for (const [file, o] of Object.entries(r.metafile.outputs))
    for (const imp of o.imports) {
      if (!imp.external) continue;
      const name = imp.path.startsWith('@') ? imp.path.split('/').slice(0, 2).join('/') : imp.path.split('/')[0];
      if (name.startsWith('node:') || builtinModules.includes(name) || optional.has(name)) continue;
      if (name === 'electron' && !/main\.cjs|preload\.cjs/.test(file))
        missing.add(`${name} (imported by ${file}: only the Electron main process may)`);
      else if (!runtime.has(name)) missing.add(`${name} (imported by ${file} at run time, not in package.json dependencies)`);
    }
for (const asset of ['demo/agent.mjs', 'sandbox/forwarder.mjs', 'pty-host.mjs', 'engine-host.mjs', 'cli.mjs', 'icon.png', 'tray.png'])
  if (!existsSync(join(out, asset))) missing.add(`dist/electron/${asset} (loaded at run time, not built)`);
if (missing.size > 0) {
  console.error(`build: the packaged layout would miss:\n  ${[...missing].join('\n  ')}`);
  process.exit(1);
}

// The template's JSON Schema, generated from its zod schema (editors read it through the templates' first line).
{
  const tmp = join(out, `.schema-gen-${process.pid}.mjs`);
  await build({
    ...common,
    external: ['electron', 'node-pty', 'node-sqlite3-wasm'],
    metafile: false,
    sourcemap: false,
    entryPoints: [join(root, 'electron/engine/templates/json-schema.ts')],
    outfile: tmp,
    format: 'esm',
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  });
  try {
    const { templateJsonSchemaText } = await import(pathToFileURL(tmp).href);
    writeFileSync(join(out, '..', 'template.schema.json'), templateJsonSchemaText());
  } finally {
    rmSync(tmp, { force: true });
  }
}

// --shell-only: the Electron bundles alone (the bundle test uses it so it never rewrites dist/renderer under a browser test).
const shellOnly = process.argv.includes('--shell-only');
const viteConfig = join(root, 'build', 'vite.config.ts');
if (!shellOnly && existsSync(viteConfig)) {
  execFileSync(process.execPath, [join(root, 'node_modules/vite/bin/vite.js'), 'build', '--config', viteConfig], {
    cwd: root,
    stdio: 'inherit',
  });
}
console.log(
  'built dist/electron (main, preload, engine host, pty host, cli, demo agent)' +
    (!shellOnly && existsSync(viteConfig) ? ' and dist/renderer' : ''),
);
