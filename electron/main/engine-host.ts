// Entry of the engine inside the desktop app (an Electron utilityProcess): the same Engine as `flotilla serve`.
import { join } from 'node:path';
import { Engine } from '../engine/engine.ts';
import { defaultDataDir } from '../engine/store/index.ts';

declare const process: NodeJS.Process & { parentPort?: { postMessage(msg: unknown): void } };

try {
  const engine = await Engine.create({
    dataDir: defaultDataDir(),
    staticDir: join(import.meta.dirname ?? '.', '..', 'renderer'),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  const ready = { type: 'ready', origin: engine.origin, token: engine.token };
  // Outside Electron (a smoke test of the bundle) there is no parent port: say it on stdout.
  if (process.parentPort) process.parentPort.postMessage(ready);
  else process.stdout.write(`${JSON.stringify(ready)}\n`);
  process.on('SIGTERM', () => void engine.close().then(() => process.exit(0)));
} catch (err) {
  process.parentPort?.postMessage({ type: 'error', error: (err as Error).message });
  process.exit(1);
}
