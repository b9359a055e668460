// The way to a host's engine: `ssh -N -L 127.0.0.1:<free port>:127.0.0.1:<engine port>` — a connection of its own (not
// the shared one: killing it drops the tunnel only), behind the engine's own token like every local engine. Open once
// the engine answers its health check through it.
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { EngineError } from '../errors.ts';
import type { HostEntry } from './hosts.ts';
import { destinationArgs, sshOptions } from './ssh.ts';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export class Tunnel {
  private stderr = '';
  /** Resolves when the ssh process ends (a drop, a kill, close()). */
  readonly ended: Promise<void>;
  private closing = false;

  private constructor(
    private readonly child: ChildProcess,
    readonly origin: string,
  ) {
    child.stderr?.on('data', (d) => (this.stderr = `${this.stderr}${d}`.slice(-2000)));
    this.ended = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('close', () => resolve());
    });
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Opens a tunnel to `remotePort` on the host's loopback and waits until the engine there answers through it. */
  static async open(
    dataDir: string,
    host: HostEntry,
    remotePort: number,
    token: string,
    env: NodeJS.ProcessEnv,
    timeoutMs = 20_000,
  ): Promise<Tunnel> {
    const port = await freePort();
    const args = [
      ...sshOptions(dataDir, env, 'own'),
      ...['-o', 'ExitOnForwardFailure=yes', '-N'],
      ...['-L', `127.0.0.1:${port}:127.0.0.1:${remotePort}`],
      ...destinationArgs(host.destination),
    ];
    const child = spawn('ssh', args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    child.once('error', () => {}); // no ssh: the exit below says so
    const tunnel = new Tunnel(child, `http://127.0.0.1:${port}`);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!tunnel.alive) {
        const why = tunnel.stderr.trim().split('\n').filter(Boolean).at(-1) ?? 'ssh ended';
        throw new EngineError(
          'host_tunnel',
          `cannot open a tunnel to the engine on ${host.name} (${why}) — check that \`ssh ${host.destination}\` works and that the host allows TCP forwarding (AllowTcpForwarding)`,
        );
      }
      try {
        const res = await fetch(`${tunnel.origin}/api/health`, {
          headers: { authorization: `Bearer ${token}` },
          signal: AbortSignal.timeout(2000),
        });
        if (res.ok) return tunnel;
      } catch {
        // not forwarding yet
      }
      if (Date.now() > deadline) {
        await tunnel.close();
        throw new EngineError(
          'host_tunnel',
          `the engine on ${host.name} did not answer through the tunnel within ${Math.round(timeoutMs / 1000)} s`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async close(): Promise<void> {
    if (this.closing) return this.ended;
    this.closing = true;
    if (this.alive) this.child.kill('SIGTERM');
    await this.ended;
  }
}
