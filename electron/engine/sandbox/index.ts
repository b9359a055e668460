// Sessions in containers (issue 25): the session's pty runs the container (command.ts), whose one way out in the
// default `meter-only` network is the meter's socket (meter-socket.ts + forwarder.mjs).
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PtySpec } from '../sessions/process.ts';
import {
  LABEL_DATA,
  LABEL_SESSION,
  type SandboxConfig,
  type SandboxSpec,
  containerName,
  containerSpec,
  detachKeys,
  envFile,
  envFileText,
  meterSocket,
} from './command.ts';
import { EngineError } from '../errors.ts';
import { expandContainerEnv } from './image.ts';
import { MeterSocket, forwarderScript } from './meter-socket.ts';

export {
  LABEL_DATA,
  LABEL_RUN,
  LABEL_SESSION,
  containerName,
  containerSpec,
  sandboxLabel,
  slotSandbox,
  type SandboxConfig,
} from './command.ts';

/** In the data dir once a session ran in a container: an engine that starts looks for containers left behind. */
export const SANDBOX_USED = 'sandbox-used';

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
  /** Where the session's tokens are kept while its container runs (an engine that restarts re-attaches with them). */
  tokens: string | null;
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
  await writeFile(envFile(s.sessionDir), envFileText({ ...expandContainerEnv(cfg.env ?? {}, spec.cwd), ...spec.env, HOME: home }), {
    mode: 0o600,
  });
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
    finish: finisher(cfg.engine, s, socket),
    // With the host's network the agent's URLs name the old engine's port itself: nothing to re-attach to.
    tokens: cfg.network === 'host' ? null : tokensFile(s.sessionDir),
  };
}

/** How an ended container is read (out of memory?), then removed unless kept, and its meter socket closed. */
function finisher(engine: string, s: { sessionId: string; sessionDir: string }, socket: MeterSocket | null): PreparedSandbox['finish'] {
  return async (opts = {}) => {
    const name = containerName(s.sessionId);
    const state = await engineCli(engine, ['inspect', '--format', '{{.State.OOMKilled}}', name]);
    if (!opts.keep) await engineCli(engine, ['rm', '--force', name]);
    await socket?.close();
    await rm(tokensFile(s.sessionDir), { force: true });
    return state.code === 0 ? { oomKilled: state.out.trim() === 'true' } : null;
  };
}

/** The session's proxy and hook tokens, kept (0600, beside its env file that holds them too) while its container runs. */
export const tokensFile = (sessionDir: string) => join(sessionDir, 'tokens.json');

/** A session container an earlier engine left (running or not). */
export interface LeftContainer {
  sessionId: string;
  engine: 'podman' | 'docker';
  running: boolean;
}

/** This data dir's session containers still there (the engine before this one died with them), with either engine. */
export async function leftContainers(dataDir: string): Promise<LeftContainer[]> {
  if (!existsSync(join(dataDir, SANDBOX_USED))) return [];
  const left: LeftContainer[] = [];
  for (const engine of ['podman', 'docker'] as const) {
    const ps = await engineCli(engine, [
      'ps',
      '--all',
      '--filter',
      `label=${LABEL_DATA}=${dataLabel(dataDir)}`,
      '--format',
      `{{index .Labels "${LABEL_SESSION}"}} {{.State}}`,
    ]);
    if (ps.code !== 0) continue;
    // State: docker says "running"; podman 4 "Up 3 minutes" (and "Exited (0) …", "Created").
    for (const line of ps.out.split('\n')) {
      const [id, state] = [line.trim().split(' ')[0], line.trim().split(' ').slice(1).join(' ')];
      if (id && /^[0-9a-f-]{8,}$/.test(id)) left.push({ sessionId: id, engine, running: /^(running|up)\b/i.test(state) });
    }
  }
  return left;
}

/** Removes one session's container (never throws). */
export async function removeSessionContainer(engine: string, sessionId: string): Promise<void> {
  await engineCli(engine, ['rm', '--force', containerName(sessionId)]);
}

/**
 * A running container of an earlier engine's session: a pty attached to its TTY (the agent inside never stopped), its
 * meter socket served again — the agent's URLs name the old port inside the container, whose forwarder reaches this
 * engine through the same socket path.
 */
export async function attachSandbox(
  cfg: Pick<SandboxSpec, 'engine' | 'network'>,
  s: { sessionId: string; sessionDir: string; enginePort: number; cwd: string; cols: number; rows: number; env: Record<string, string> },
): Promise<PreparedSandbox> {
  const socket = cfg.network === 'meter-only' ? await MeterSocket.listen(meterSocket(s.sessionDir), s.enginePort) : null;
  return {
    spec: {
      command: cfg.engine,
      args: ['attach', ...detachKeys(cfg.engine), containerName(s.sessionId)],
      env: s.env,
      cwd: s.cwd,
      cols: s.cols,
      rows: s.rows,
    },
    finish: finisher(cfg.engine, s, socket),
    tokens: tokensFile(s.sessionDir),
  };
}
