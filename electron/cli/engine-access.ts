// What the commands share once they run (loaded by their handlers, never by --help): the data dir, the engine that
// serves it (found through engine.json, or one of the command's own), and the engine in the foreground (`serve`).
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HttpEngineClient } from '../shared/client.ts';
import type { CommandCaller } from '../shared/contract.ts';
import { type EngineFile, findEngine } from '../engine/daemon.ts';
import { Engine } from '../engine/engine.ts';
import { engineLogger } from '../engine/logs.ts';
import { defaultDataDir, ensureDataDir } from '../engine/store/index.ts';
import { fail, parsePort } from './command.ts';

const here = dirname(fileURLToPath(import.meta.url));
/** The checkout or the packaged app: electron/cli/ from source, dist/electron/ bundled — two levels up either way. */
export const root = resolve(here, '..', '..');

/** The data dir a command works on (--data-dir, else $FLOTILLA_HOME or ~/.flotilla), created and checked writable. */
export function dataDirOf(values: { 'data-dir'?: string | undefined }): Promise<string> {
  return ensureDataDir(values['data-dir'] ?? defaultDataDir());
}

export const uiUrl = (e: EngineFile) => `${e.origin}/?token=${e.token}`;

/** A running engine on this data dir, from the file it leaves there (its store is exclusive while it runs). */
export async function runningEngine(dataDir: string): Promise<CommandCaller | null> {
  const info = await findEngine(dataDir);
  return info ? new HttpEngineClient({ origin: info.origin, token: info.token }, fetch) : null;
}

/**
 * Runs `fn` against the data dir's running engine, or an engine of its own for the call (closed after). `running` says
 * which, for commands whose answer differs (nothing is held without a running engine).
 */
export async function withEngine<T>(dataDir: string, fn: (engine: CommandCaller, running: boolean) => Promise<T>): Promise<T> {
  const running = await runningEngine(dataDir);
  if (running) return fn(running, true);
  const own = await Engine.create({ dataDir });
  try {
    return await fn(own, false);
  } finally {
    await own.close();
  }
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function builtUiDir(): string | null {
  const dir = resolve(root, 'dist', 'renderer');
  return existsSync(join(dir, 'index.html')) ? dir : null;
}

/** The data dir's engine in the foreground (serve, demo): refused on a non-loopback host or when one already runs. */
export async function serveEngine(o: { host: string; port: string | undefined; 'data-dir'?: string | undefined }): Promise<Engine> {
  if (!isLoopback(o.host))
    fail(`--host ${o.host} is not a loopback address — Flotilla listens on 127.0.0.1 only; reach it remotely through an SSH tunnel`);
  const dataDir = await dataDirOf(o);
  const running = await findEngine(dataDir);
  if (running)
    fail(
      `an engine already serves ${dataDir} (pid ${running.pid}): ${uiUrl(running)} — open that, or stop it first with: flotilla stop --data-dir ${dataDir}`,
      1,
    );
  let token = '';
  const engine = await Engine.create({
    dataDir,
    host: o.host,
    port: parsePort(o.port),
    staticDir: builtUiDir(),
    log: engineLogger(dataDir, 'engine', process.env, () => (token ? [token] : [])),
  });
  token = engine.token;
  // Started by `open`, stdout is the engine's log: no token there (clients read it from engine.json, mode 0600).
  if (process.env.FLOTILLA_DETACHED === '1')
    process.stdout.write(`Flotilla is running: ${engine.origin} (pid ${process.pid}, data dir ${dataDir})\n`);
  else process.stdout.write(`Flotilla is running: ${engine.uiUrl}\n`);
  const shutdown = async () => {
    process.stderr.write('stopping sessions…\n');
    await engine.close();
    process.exit(0);
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
  return engine;
}
