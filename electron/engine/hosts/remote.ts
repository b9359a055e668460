// An engine on a host: installed there once per build (~/.flotilla/server/<version>, shipped over SSH from this
// machine — the host needs no internet), started detached by the user's login shell (so its agents get the PATH a
// terminal there has) with its own data dir (~/.flotilla/remote), and found through its engine.json, read over SSH.
import { EngineError } from '../errors.ts';
import { type ServerBundle, bundleStream, nodePlatformOf, serverBundle } from './bundle.ts';
import { type HostEntry, checkHost } from './hosts.ts';
import { loginShellCommand, posixCommand, runSsh, shQuote } from './ssh.ts';

/** Set in the environment of an engine a desktop started on a host: it takes keys from desktops, ignores `host:`. */
export const ON_HOST_ENV = 'FLOTILLA_ON_HOST';

/** Under the host user's HOME. */
export const REMOTE_SERVER_DIR = '.flotilla/server';
export const REMOTE_DATA_DIR = '.flotilla/remote';

export interface RemotePaths {
  home: string;
  installDir: string;
  dataDir: string;
}

export interface RemoteEngineInfo {
  host: HostEntry;
  paths: RemotePaths;
  version: string;
  /** The engine's port on the host's loopback (reached through a tunnel). */
  port: number;
  token: string;
  pid: number;
  startedAt: string;
}

export interface RemoteStartOptions {
  /** The checkout or the installed app whose build is shipped. */
  root: string;
  env: NodeJS.ProcessEnv;
  /** A line per step, for a progress display. */
  progress?: (line: string) => void;
  /** Only find a running engine: never install or start one (status). */
  findOnly?: boolean;
}

export function remotePaths(home: string, version: string): RemotePaths {
  return { home, installDir: `${home}/${REMOTE_SERVER_DIR}/${version}`, dataDir: `${home}/${REMOTE_DATA_DIR}` };
}

/** The engine.json of the host's engine, if it names a live process there. */
async function readRemoteEngine(dataDir: string, host: HostEntry, paths: RemotePaths, env: NodeJS.ProcessEnv) {
  const file = shQuote(`${paths.dataDir}/engine.json`);
  const r = await runSsh(dataDir, host.destination, posixCommand(`cat ${file} 2>/dev/null || true`), env);
  if (r.code !== 0) throw unreachable(host, r.stderr);
  let info: { pid?: unknown; origin?: unknown; token?: unknown; startedAt?: unknown; root?: unknown };
  try {
    info = JSON.parse(r.stdout) as typeof info;
  } catch {
    return null;
  }
  const port = Number(/^http:\/\/127\.0\.0\.1:(\d+)$/.exec(String(info.origin))?.[1]);
  if (typeof info.pid !== 'number' || typeof info.token !== 'string' || !port) return null;
  const alive = await runSsh(dataDir, host.destination, posixCommand(`kill -0 ${info.pid} 2>/dev/null && echo alive`), env);
  if (!alive.stdout.includes('alive')) return null;
  // The build it runs: its install folder's name (an engine of an earlier build keeps running until it is stopped).
  const version = /\/\.flotilla\/server\/([^/]+)\/?$/.exec(String(info.root ?? ''))?.[1] ?? 'unknown';
  return { pid: info.pid, token: info.token, port, startedAt: String(info.startedAt ?? ''), version };
}

function unreachable(host: HostEntry, stderr: string): EngineError {
  const last = stderr.trim().split('\n').filter(Boolean).at(-1) ?? 'no answer';
  return new EngineError(
    'host_unreachable',
    `cannot reach ${host.name} (${host.destination}) over SSH (${last}) — check that \`ssh ${host.destination}\` works in a terminal`,
  );
}

/** Ships the bundle unless this version is installed there already; says what to do when the directory is not writable. */
async function install(dataDir: string, host: HostEntry, paths: RemotePaths, bundle: ServerBundle, o: RemoteStartOptions) {
  const dir = shQuote(paths.installDir);
  const base = shQuote(`${paths.home}/${REMOTE_SERVER_DIR}`);
  const present = await runSsh(dataDir, host.destination, posixCommand(`test -f ${dir}/.complete && echo present`), o.env);
  if (present.stdout.includes('present')) return false;
  o.progress?.(`installing Flotilla ${bundle.version} on ${host.name} (${(bundle.bytes / 1e6).toFixed(1)} MB unpacked)…`);
  // Unpacked beside, then renamed into place: a directory that exists is complete (.complete) and never rewritten.
  const script = [
    `mkdir -p ${base} 2>/dev/null && test -w ${base} || { echo "flotilla-install=unwritable"; cat >/dev/null; exit 3; }`,
    `t=$(mktemp -d ${base}/.install.XXXXXX) || { echo "flotilla-install=unwritable"; cat >/dev/null; exit 3; }`,
    `tar -xzf - -C "$t" || { rm -rf "$t"; exit 4; }`,
    `touch "$t/.complete"`,
    `if [ -e ${dir} ]; then rm -rf "$t"; else mv "$t" ${dir}; fi`,
    'echo "flotilla-install=done"',
  ].join('\n');
  const { stream, done } = bundleStream(o.root, bundle);
  const r = await runSsh(dataDir, host.destination, posixCommand(script), o.env, { input: stream, timeoutMs: 300_000 });
  await done.catch((err: unknown) => {
    if (!r.stdout.includes('flotilla-install=unwritable')) throw err;
  });
  if (r.stdout.includes('flotilla-install=unwritable'))
    throw new EngineError(
      'host_unwritable',
      `cannot install Flotilla on ${host.name}: ${paths.home}/${REMOTE_SERVER_DIR} is not writable for ${host.destination} — fix its owner or permissions there (it must be the SSH user's), then try again`,
    );
  if (!r.stdout.includes('flotilla-install=done'))
    throw new EngineError(
      'host_install',
      `cannot install Flotilla on ${host.name} (${r.stderr.trim().split('\n').at(-1) || `exit ${r.code}`}) — check the free space and that tar works there`,
    );
  return true;
}

/**
 * The host's engine: found if one runs, else (unless `findOnly`) checked, installed and started. Each refusal says what
 * to do (an unreachable host, a refused key, no or old Node, no build for its platform, an unwritable install dir).
 */
export async function ensureRemoteEngine(dataDir: string, host: HostEntry, o: RemoteStartOptions): Promise<RemoteEngineInfo | null> {
  o.progress?.(`checking ${host.name} (${host.destination})…`);
  const check = await checkHost(dataDir, host, o.env);
  if (check.state !== 'ok' || !check.home)
    throw new EngineError(check.state === 'auth' ? 'host_auth' : 'host_not_ready', check.message ?? `${host.name} did not say its HOME`);
  const platform = nodePlatformOf(check.platform ?? '');
  if (!platform)
    throw new EngineError(
      'host_platform',
      `${host.name} is ${check.platform ?? 'an unknown platform'}; Flotilla's engine runs on Linux and macOS (x64, arm64)`,
    );
  const bundle = serverBundle(o.root, platform);
  const paths = remotePaths(check.home, bundle.version);
  const running = await readRemoteEngine(dataDir, host, paths, o.env);
  if (running) return { host, paths, ...running };
  if (o.findOnly) return null;
  await install(dataDir, host, paths, bundle, o);
  o.progress?.(`starting the engine on ${host.name}…`);
  const start = await runSsh(
    dataDir,
    host.destination,
    loginShellCommand(
      `env ${ON_HOST_ENV}=1 node ${shQuote(`${paths.installDir}/bin/flotilla.js`)} open --no-browser --data-dir ${shQuote(paths.dataDir)} >/dev/null`,
    ),
    o.env,
    { timeoutMs: 90_000 },
  );
  const started = await readRemoteEngine(dataDir, host, paths, o.env);
  if (!started)
    throw new EngineError(
      'host_engine_start',
      `the engine on ${host.name} did not start (${start.stderr.trim().split('\n').filter(Boolean).slice(-2).join(' | ') || `exit ${start.code}`}) — see ${paths.dataDir}/logs/engine.stdio.log there`,
    );
  return { host, paths, ...started };
}
