// What a host gets so it can run an engine without internet access: the built CLI (its engine, pty host and demo agent;
// every JavaScript dependency is inside it) and the two run-time packages beside it — node-pty (its native part for
// the host's platform) and node-sqlite3-wasm (WebAssembly: any platform). The host must have Node ≥ 20, `sh` and `tar`.
// The install's name is its content: <version>-<hash>, so a changed build is a new directory and a running engine's
// files are never overwritten.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Readable } from 'node:stream';
import { EngineError } from '../errors.ts';

/** The checkout or installed app this code runs from: the nearest folder up with bin/flotilla.js and package.json. */
export function flotillaRoot(from = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'bin', 'flotilla.js')) && existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new EngineError('not_built', `cannot find Flotilla's folder above ${from} (bin/flotilla.js)`);
  }
}

export interface ServerBundle {
  /** The install's directory name on the host: `<package version>-<12 hex of the files' hash>`. */
  version: string;
  /** Files relative to the root, in a stable order. */
  files: string[];
  bytes: number;
}

/** `uname -sm` (Linux x86_64, Darwin arm64) as Node names it (linux-x64, darwin-arm64); null when not one we know. */
export function nodePlatformOf(uname: string): string | null {
  const [sys, machine] = uname.trim().split(/\s+/);
  const os = { Linux: 'linux', Darwin: 'darwin' }[sys ?? ''];
  const arch = { x86_64: 'x64', amd64: 'x64', aarch64: 'arm64', arm64: 'arm64' }[machine ?? ''];
  return os && arch ? `${os}-${arch}` : null;
}

function walk(root: string, dir: string, keep: (rel: string) => boolean, out: string[]): void {
  for (const name of readdirSync(join(root, dir)).sort()) {
    const rel = join(dir, name);
    if (statSync(join(root, rel)).isDirectory()) walk(root, rel, keep, out);
    else if (keep(rel)) out.push(rel);
  }
}

/**
 * The files to ship from `root` (the checkout or the installed app) for a host of `platform` (linux-x64…). Refuses,
 * saying what to do, when the CLI is not built or node-pty has no native part for that platform.
 */
export function serverBundle(root: string, platform: string, local = `${process.platform}-${process.arch}`): ServerBundle {
  const dist = join(root, 'dist', 'electron');
  if (!existsSync(join(dist, 'cli.mjs')))
    throw new EngineError('not_built', `${join(dist, 'cli.mjs')} is missing — build Flotilla first (npm run build), then try again`);
  const files = ['package.json', join('bin', 'flotilla.js')];
  // The CLI and the chunks it loads (found through its imports: dist/ may hold chunks of earlier builds), the pty host.
  const chunks = new Set(['cli.mjs']);
  for (const c of chunks) for (const m of readFileSync(join(dist, c), 'utf8').matchAll(/["']\.\/(cli-[\w-]+\.mjs)["']/g)) chunks.add(m[1]!);
  files.push(
    ...[...chunks, 'pty-host.mjs', join('demo', 'agent.mjs'), join('sandbox', 'forwarder.mjs')].map((f) => join('dist', 'electron', f)),
  );
  const pty = join('node_modules', 'node-pty');
  files.push(join(pty, 'package.json'));
  walk(root, join(pty, 'lib'), (f) => f.endsWith('.js') && !f.endsWith('.test.js'), files);
  // node-pty looks in build/Release, then prebuilds/<platform>-<arch>: the local build serves a host like this machine.
  const built = join(pty, 'build', 'Release', 'pty.node');
  const prebuilt = join(pty, 'prebuilds', platform);
  if (platform === local && existsSync(join(root, built))) files.push(built);
  else if (existsSync(join(root, prebuilt))) walk(root, prebuilt, () => true, files);
  else
    throw new EngineError(
      'no_native',
      `this Flotilla has no terminal module (node-pty) built for ${platform} — run flotilla from a build made on a ${platform} machine, or install node-pty 1.1.0 there by hand`,
    );
  walk(root, join('node_modules', 'node-sqlite3-wasm'), (f) => !f.endsWith('.md'), files);
  const hash = createHash('sha256');
  let bytes = 0;
  for (const f of files) {
    const data = readFileSync(join(root, f));
    bytes += data.length;
    hash.update(`${f}\0${data.length}\0`).update(data);
  }
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: string };
  return { version: `${pkg.version ?? '0.0.0'}-${hash.digest('hex').slice(0, 12)}`, files, bytes };
}

/** The bundle as a gzipped tar stream (the system's tar); the caller pipes it on and must consume it. */
export function bundleStream(root: string, bundle: ServerBundle): { stream: Readable; done: Promise<void> } {
  const child = spawn('tar', ['-czf', '-', '-C', root, '--', ...bundle.files], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<void>((resolve, reject) => {
    child.once('error', (err) => reject(new EngineError('bundle', `cannot pack the engine for the host: ${err.message}`)));
    child.once('close', (code) =>
      code === 0 ? resolve() : reject(new EngineError('bundle', `cannot pack the engine for the host (tar: ${stderr.trim() || code})`)),
    );
  });
  return { stream: child.stdout, done };
}
