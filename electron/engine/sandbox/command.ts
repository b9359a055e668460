// A sandboxed session's terminal is the container's TTY: the session's pty runs `<docker|podman> run -it …` instead of
// the agent, so resize, Ctrl-C, flow control, the mirror and restore work as for any session. This file is the plain
// decision of that command line: what is mounted (the worktree and the agent's private config dir at the same paths,
// the meter's socket, nothing else of the host's home), the limits, the network, the labels that find it again.
import { join } from 'node:path';
import type { PtySpec } from '../sessions/process.ts';

export type SandboxNetwork = 'meter-only' | 'none' | 'host';

export interface SandboxConfig {
  engine: 'docker' | 'podman';
  image: string;
  /** CPUs (e.g. 2, 0.5); absent: no limit. */
  cpus?: number;
  /** Memory limit as the engine takes it (e.g. 256m, 2g); absent: no limit. */
  memory?: string;
  network: SandboxNetwork;
  /** The OCI runtime (e.g. runc where the default crun refuses a cgroups-hybrid host). */
  runtime?: string;
  /** Open-file and process limits (soft:hard), e.g. {nofile: '1024:2048'}; some hosts need them set. */
  ulimits?: Record<string, string>;
  /** Host paths mounted read-only at the same place (e.g. /usr for an image that borrows the host's Node). */
  mounts?: string[];
  /** Set in the container (a devcontainer.json's containerEnv); never a key: the agent's own environment wins. */
  env?: Record<string, string>;
  /** The image's own setup (a devcontainer.json's create commands), run in the container before the template's. */
  setup?: string[];
}

/**
 * `sandbox:` as a template gives it: the image named, or built (`build:` a Dockerfile or a devcontainer.json), or
 * neither (the repo's devcontainer.json). The launch resolves it to a SandboxConfig (sandbox/image.ts).
 */
export interface SandboxSpec extends Omit<SandboxConfig, 'image'> {
  image?: string;
  /** A Dockerfile or a devcontainer.json, relative to the repo. */
  build?: string;
}

/** What a slot may change (`slots: [{sandbox: …}]`): its own image, limits, network; or `false`: runs on the host. */
export type SlotSandbox = Partial<Pick<SandboxConfig, 'image' | 'cpus' | 'memory' | 'network'>> | false;

/** The sandbox a slot (1-based) runs in: the template's with the slot's fields over it, or null (on the host). */
export function slotSandbox<T extends SandboxSpec>(t: { sandbox?: T; slotSandboxes?: (SlotSandbox | null)[] }, slot: number): T | null {
  const own = t.slotSandboxes?.[slot - 1] ?? null;
  if (own === false) return null;
  if (!t.sandbox && !own) return null;
  return { ...(t.sandbox ?? ({ engine: 'podman', network: 'meter-only' } as T)), ...(own ?? {}) };
}

export interface SandboxContext {
  sessionId: string;
  runId: string;
  /** A hash of the engine's data dir (LABEL_DATA). */
  dataLabel?: string;
  /** The session's private dir on the host (agent config, env file, meter socket): mounted at the same path. */
  sessionDir: string;
  /** The engine's port: inside a meter-only container the forwarder listens on the same port on loopback, so the
   *  agent's URLs (proxy and hooks, http://127.0.0.1:<port>/…) stay as they are. */
  enginePort: number;
  /** The forwarder script on the host (mounted read-only) and the Node that runs it inside (mounted read-only). */
  forwarder: string;
  node: string;
  /** Read-only mounts the image needs from the host (e.g. /usr, /lib for an image that borrows the host's Node). */
  readOnly?: string[];
  /** Who runs inside: 'keep-id' (rootless podman maps the user in), 'uid:gid', or null (the image's user). */
  user?: string | null;
}

export const LABEL_SESSION = 'dev.flotilla.session';
export const LABEL_RUN = 'dev.flotilla.run';
/** Which engine's (data dir's) containers these are: an engine only ever removes its own. */
export const LABEL_DATA = 'dev.flotilla.data';
/** Where the session's dir holds the meter's socket (bound to the engine's port on the host side). */
export const meterSocket = (sessionDir: string) => join(sessionDir, 'meter.sock');
/** The session's environment, handed to the container in a file (0600), never on a command line. */
export const envFile = (sessionDir: string) => join(sessionDir, 'container.env');

/** What a tile says about a sandboxed session: engine, limits, network. */
export function sandboxLabel(cfg: Pick<SandboxSpec, 'engine' | 'cpus' | 'memory' | 'network'>): string {
  const cpus = cfg.cpus !== undefined ? `${cfg.cpus} CPU${cfg.cpus === 1 ? '' : 's'}` : null;
  return [cfg.engine, cpus, cfg.memory ?? null, cfg.network].filter(Boolean).join(' · ');
}

/** A run's labels (RunInfo.sandbox, and .sandboxes per slot when its slots differ); {} when nothing is contained. */
export function sandboxLabels(t: { count: number; sandbox?: SandboxSpec; slotSandboxes?: (SlotSandbox | null)[] }): {
  sandbox?: string;
  sandboxes?: (string | null)[];
} {
  const out: { sandbox?: string; sandboxes?: (string | null)[] } = t.sandbox ? { sandbox: sandboxLabel(t.sandbox) } : {};
  if (t.slotSandboxes)
    out.sandboxes = Array.from({ length: t.count }, (_, i) => {
      const cfg = slotSandbox(t, i + 1);
      return cfg ? sandboxLabel(cfg) : null;
    });
  return out;
}

export const containerName = (sessionId: string) => `flotilla-${sessionId}`;
/** Podman's detach keys (ctrl-p, ctrl-q) would be taken from the agent: none (docker has no way to turn them off). */
export const detachKeys = (engine: string) => (engine === 'podman' ? ['--detach-keys', ''] : []);
/** Inside the container: the forwarder creates this once it listens. */
export const FORWARDER_READY = '/tmp/.flotilla-meter-ready';

/** The environment file's text: one KEY=value per line (values with a newline cannot be passed this way: dropped). */
export function envFileText(env: Record<string, string>): string {
  return Object.entries(env)
    .filter(([k, v]) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(k) && !/[\r\n]/.test(v))
    .map(([k, v]) => `${k}=${v}`)
    .join('\n')
    .concat('\n');
}

/**
 * The pty spec that runs `spec` (the agent as it would run on the host) inside a container. The container's own
 * environment comes from the env file (see envFileText): the agent's, with HOME a folder of the session's dir.
 */
export function containerSpec(spec: PtySpec, cfg: SandboxConfig, ctx: SandboxContext): PtySpec {
  const mount = (src: string, dst = src, ro = false) => ['--volume', `${src}:${dst}${ro ? ':ro' : ''}`];
  const args = [
    'run',
    // Not --rm: once it ends, the engine reads how (out of memory?) and then removes it (sandbox/index.ts).
    '--interactive',
    '--tty',
    ...detachKeys(cfg.engine),
    '--name',
    containerName(ctx.sessionId),
    '--label',
    `${LABEL_SESSION}=${ctx.sessionId}`,
    '--label',
    `${LABEL_RUN}=${ctx.runId}`,
    ...(ctx.dataLabel ? ['--label', `${LABEL_DATA}=${ctx.dataLabel}`] : []),
    ...(cfg.runtime ? ['--runtime', cfg.runtime] : []),
    ...(ctx.user === 'keep-id' ? ['--userns', 'keep-id'] : ctx.user ? ['--user', ctx.user] : []),
    ...Object.entries(cfg.ulimits ?? {}).flatMap(([k, v]) => ['--ulimit', `${k}=${v}`]),
    ...(cfg.cpus !== undefined ? ['--cpus', String(cfg.cpus)] : []),
    ...(cfg.memory ? ['--memory', cfg.memory, '--memory-swap', cfg.memory] : []),
    '--network',
    cfg.network === 'host' ? 'host' : 'none',
    '--env-file',
    envFile(ctx.sessionDir),
    '--workdir',
    spec.cwd,
    ...mount(spec.cwd),
    ...mount(ctx.sessionDir),
    ...(ctx.readOnly ?? []).flatMap((p) => mount(p, p, true)),
    ...(cfg.network === 'meter-only' ? mount(ctx.forwarder, ctx.forwarder, true) : []),
    cfg.image,
  ];
  const inner = [spec.command, ...spec.args];
  if (cfg.network !== 'meter-only') return { ...spec, command: cfg.engine, args: [...args, ...inner] };
  // meter-only: the forwarder (loopback:<engine port> → the meter's socket) starts in the background and says when it
  // listens; the agent then runs as the container's main process, so its exit ends the container.
  const wrapper =
    'f="$1" n="$2" p="$3" s="$4"; shift 4; "$n" "$f" "$p" "$s" & ' +
    `i=0; while [ ! -e ${FORWARDER_READY} ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; exec "$@"`;
  return {
    ...spec,
    command: cfg.engine,
    args: [
      ...args,
      '/bin/sh',
      '-c',
      wrapper,
      'flotilla-sandbox',
      ctx.forwarder,
      ctx.node,
      String(ctx.enginePort),
      meterSocket(ctx.sessionDir),
      ...inner,
    ],
  };
}
