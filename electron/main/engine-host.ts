// Entry of the desktop app's engine: a detached process (the Electron binary as Node), the same Engine as `flotilla serve`.
import { join } from 'node:path';
import { Engine } from '../engine/engine.ts';
import { engineLogger } from '../engine/logs.ts';
import { defaultDataDir, ensureDataDir } from '../engine/store/index.ts';

declare const process: NodeJS.Process & { parentPort?: { postMessage(msg: unknown): void } };

try {
  const dataDir = await ensureDataDir(defaultDataDir());
  let token = '';
  const engine = await Engine.create({
    dataDir,
    staticDir: join(import.meta.dirname ?? '.', '..', 'renderer'),
    log: engineLogger(dataDir, 'engine', process.env, () => (token ? [token] : [])),
  });
  token = engine.token;
  const ready = { type: 'ready', origin: engine.origin, token: engine.token };
  // Outside Electron (a smoke test of the bundle) there is no parent port: say it on stdout — except when detached,
  // where stdout is the engine's log and must not carry the token (the app reads engine.json).
  if (process.parentPort) process.parentPort.postMessage(ready);
  else if (process.env.FLOTILLA_DETACHED === '1') process.stdout.write(`Flotilla engine ready: ${engine.origin} (pid ${process.pid})\n`);
  else process.stdout.write(`${JSON.stringify(ready)}\n`);
  process.on('SIGTERM', () => void engine.close().then(() => process.exit(0)));
} catch (err) {
  process.parentPort?.postMessage({ type: 'error', error: (err as Error).message });
  process.exit(1);
}
