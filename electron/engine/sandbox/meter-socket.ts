// The host side of a meter-only container's one way out: a Unix socket in the session's dir (mounted into the
// container), each connection piped to the engine's own port on loopback — where the meter proxy (/s/<token>) and the
// hooks (/hooks/<token>) answer, each behind its session's secret. The engine's API needs its token, which agents never
// have; nothing else on the host is reachable through it.
import { existsSync, rmSync } from 'node:fs';
import net from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EngineError } from '../errors.ts';

export class MeterSocket {
  private constructor(
    private readonly server: net.Server,
    readonly path: string,
  ) {}

  static listen(path: string, enginePort: number): Promise<MeterSocket> {
    rmSync(path, { force: true }); // a socket file left by an engine that died
    const server = net.createServer((c) => {
      const engine = net.connect(enginePort, '127.0.0.1');
      c.pipe(engine).pipe(c);
      c.on('error', () => engine.destroy());
      engine.on('error', () => c.destroy());
    });
    return new Promise((resolve, reject) => {
      server.once('error', (err) =>
        reject(new EngineError('sandbox', `cannot open the meter's socket for the container at ${path}: ${err.message}`)),
      );
      server.listen(path, () => resolve(new MeterSocket(server, path)));
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) =>
      this.server.close(() => {
        rmSync(this.path, { force: true });
        resolve();
      }),
    );
  }
}

/** The forwarder a meter-only container runs (forwarder.mjs): beside this module, or in dist/electron/sandbox/. */
export function forwarderScript(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const found = [join(here, 'forwarder.mjs'), join(here, 'sandbox', 'forwarder.mjs')].find((p) => existsSync(p));
  if (!found) throw new EngineError('sandbox', `the sandbox forwarder (forwarder.mjs) is missing beside ${here} — rebuild Flotilla`);
  return found;
}
