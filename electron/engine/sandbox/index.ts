// Sessions in containers (issue 25): the session's pty runs the container (command.ts), whose one way out in the
// default `meter-only` network is the meter's socket (meter-socket.ts + forwarder.mjs).
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PtySpec } from '../sessions/process.ts';
import { type SandboxConfig, containerSpec, envFile, envFileText, meterSocket } from './command.ts';
import { MeterSocket, forwarderScript } from './meter-socket.ts';

export { LABEL_RUN, LABEL_SESSION, containerName, containerSpec, type SandboxConfig } from './command.ts';
export { MeterSocket, forwarderScript } from './meter-socket.ts';

export interface PreparedSandbox {
  spec: PtySpec;
  /** Ends what the container needed on the host (the meter's socket). */
  close(): Promise<void>;
}

/**
 * Everything a session's container needs on the host, then its pty spec: the environment file (0600; HOME inside is a
 * folder of the session's dir — nothing of the user's home), the meter's socket for `meter-only`, the user it runs as.
 */
export async function prepareSandbox(
  spec: PtySpec,
  cfg: SandboxConfig & { mounts?: string[] },
  s: { sessionId: string; runId: string; sessionDir: string; enginePort: number },
): Promise<PreparedSandbox> {
  const home = join(s.sessionDir, 'home');
  await mkdir(home, { recursive: true });
  await writeFile(envFile(s.sessionDir), envFileText({ ...spec.env, HOME: home }), { mode: 0o600 });
  const socket = cfg.network === 'meter-only' ? await MeterSocket.listen(meterSocket(s.sessionDir), s.enginePort) : null;
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  return {
    spec: containerSpec(spec, cfg, {
      ...s,
      forwarder: forwarderScript(),
      node: 'node',
      readOnly: cfg.mounts,
      // Files the agent writes belong to the user: rootless podman maps the user in (keep-id), docker runs as them.
      user: uid === 0 ? null : cfg.engine === 'podman' ? 'keep-id' : `${uid}:${gid}`,
    }),
    close: async () => socket?.close(),
  };
}
