#!/usr/bin/env node
// `flotilla`. In a checkout (the TypeScript sources are here) it runs them through tsx, so the source is the program and
// there is no build step to forget; in an installed or packaged layout (no sources, no tsx) it runs the bundle that
// `npm run build` writes to dist/electron/cli.mjs.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
let main;
if (existsSync(join(root, 'electron', 'cli.ts')) && process.env.FLOTILLA_CLI !== 'bundle') {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../electron/cli.ts'));
} else {
  ({ main } = await import('../dist/electron/cli.mjs'));
}
await main(process.argv.slice(2));
