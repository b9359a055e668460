// Sessions in containers (issue 25): the session's pty runs the container (command.ts), whose one way out in the
// default `meter-only` network is the meter's socket (meter-socket.ts + forwarder.mjs).
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PtySpec } from '../sessions/process.ts';
import {
  LABEL_DATA,
  LABEL_SESSION,
  type SandboxConfig,
  type SandboxSpec,
  containerName,
  containerSpec,
  envFile,
  envFileText,
  meterSocket,
} from './command.ts';
import { EngineError } from '../errors.ts';
import { expandContainerEnv } from './image.ts';
import { MeterSocket, forwarderScript } from './meter-socket.ts';

export { LABEL_DATA, LABEL_RUN, LABEL_SESSION, containerName, containerSpec, sandboxLabel, slotSandbox, type SandboxConfig } from './command.ts';

/** In the data dir once a session ran in a container: an engine that starts looks for containers left behind. */
export const SANDBOX_USED = 'sandbox-used';

/**
 * An engine starting: containers of its sessions still there (the engine before it was killed) are removed, and each
 * of those sessions says so. Answers the session ids.
 */
export async function reapContainers(dataDir: string): Promise<string[]> {
  if (!existsSync(join(dataDir, SANDBOX_USED))) return [];
  return removeContainers(dataDir, LABEL_SESSION);
}

/** The label value naming an engine's data dir. */
export const dataLabel = (dataDir: string) => createHash('sha256').update(dataDir).digest('hex').slice(0, 16);

/**
 * Removes containers of this data dir's engine carrying `label` (e.g. dev.flotilla.run=<id>), with either engine that
 * is installed; answers the session ids of those removed. Never throws (no engine installed: nothing to remove).
 */
export async function removeContainers(dataDir: string, label: string): Promise<string[]> {
  const removed: string[] = [];
  for (const engine of ['podman', 'docker']) {
    const ps = await engineCli(engine, [
      'ps',
      '--all',
      '--filter',
      `label=${LABEL_DATA}=${dataLabel(dataDir)}`,
      '--filter',
      `label=${label}`,
      '--format',
      `{{.ID}} {{index .Labels "${LABEL_SESSION}"}}`,
    ]);
    if (ps.code !== 0) continue;
    const rows = ps.out
      .split('\n')
      .map((l) => l.trim().split(' '))
      .filter((r) => /^[0-9a-f]{6,}$/.test(r[0] ?? ''));
    if (rows.length === 0) continue;
    await engineCli(engine, ['rm', '--force', ...rows.map((r) => r[0]!)]);
    removed.push(...rows.map((r) => r[1] ?? ''));
  }
  return removed;
}
export { MeterSocket, forwarderScript } from './meter-socket.ts';

export interface PreparedSandbox {
  spec: PtySpec;
  /**
   * The session ended: how its container ended (killed for memory?), then the container removed (`keep`: left for
   * inspection) and the meter's socket closed. Never throws.
   */
  finish(opts?: { keep?: boolean }): Promise<{ oomKilled: boolean } | null>;
}

/** Runs the container engine's CLI; resolves with its exit code and output (never rejects). */
function engineCli(engine: string, args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    execFile(engine, args, { timeout: 30_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` }),
    );
  });
}

/** How a session that ran in a container ended, in words, when its container says more than its exit code. */
export function sandboxEndDetail(cfg: Pick<SandboxConfig, 'memory'>, exitCode: number | null, oomKilled: boolean): string | null {
  // Under cgroups v1 (runc) the OOM flag is not always set: a SIGKILL (137) we did not send, with a limit, is the kernel's.
  if (!oomKilled && !(cfg.memory && exitCode === 137)) return null;
  return `out of memory — the container was killed at its memory limit${cfg.memory ? ` (${cfg.memory})` : ''}; raise sandbox.memory in the template, or give the task less to hold`;
}

/**
 * Everything a session's container needs on the host, then its pty spec: the environment file (0600; HOME inside is a
 * folder of the session's dir — nothing of the user's home), the meter's socket for `meter-only`, the user it runs as.
 */
export async function prepareSandbox(
  spec: PtySpec,
  spec0: SandboxSpec,
  s: { sessionId: string; runId: string; sessionDir: string; enginePort: number; dataDir: string },
): Promise<PreparedSandbox> {
  if (!spec0.image) throw new EngineError('sandbox', 'sandbox: no image was resolved for this session — launch the run again');
  const cfg: SandboxConfig = { ...spec0, image: spec0.image };
  await writeFile(join(s.dataDir, SANDBOX_USED), '');
  // The name is the session's: one left by its previous run (still being removed, or kept) makes way.
  await engineCli(cfg.engine, ['rm', '--force', containerName(s.sessionId)]);
  const home = join(s.sessionDir, 'home');
  await mkdir(home, { recursive: true });
  await writeFile(envFile(s.sessionDir), envFileText({ ...expandContainerEnv(cfg.env ?? {}, spec.cwd), ...spec.env, HOME: home }), { mode: 0o600 });
  const socket = cfg.network === 'meter-only' ? await MeterSocket.listen(meterSocket(s.sessionDir), s.enginePort) : null;
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  return {
    spec: containerSpec(spec, cfg, {
      ...s,
      dataLabel: dataLabel(s.dataDir),
      forwarder: forwarderScript(),
      node: 'node',
      readOnly: cfg.mounts,
      // Files the agent writes belong to the user: rootless podman maps the user in (keep-id), docker runs as them.
      user: uid === 0 ? null : cfg.engine === 'podman' ? 'keep-id' : `${uid}:${gid}`,
    }),
    finish: async (opts = {}) => {
      const name = containerName(s.sessionId);
      const state = await engineCli(cfg.engine, ['inspect', '--format', '{{.State.OOMKilled}}', name]);
      if (!opts.keep) await engineCli(cfg.engine, ['rm', '--force', name]);
      await socket?.close();
      return state.code === 0 ? { oomKilled: state.out.trim() === 'true' } : null;
    },
  };
}
