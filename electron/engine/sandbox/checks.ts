// Before a sandboxed run starts, what its containers need, each missing piece said with what to do: the container
// engine (installed, its daemon or socket answering, ours to use), the image (here, or pulled), a trial container
// (the OCI runtime and limits this machine accepts), and the agent on the image's PATH.
import { execFile } from 'node:child_process';
import { EngineError } from '../errors.ts';
import type { SandboxConfig } from './command.ts';

type Cli = (args: string[]) => Promise<{ code: number | null; out: string; missing: boolean }>;

function cliOf(engine: string): Cli {
  return (args) =>
    new Promise((resolve) =>
      execFile(engine, args, { timeout: 120_000 }, (err, stdout, stderr) =>
        resolve({
          code: err ? ((err as { code?: number | string }).code === 'ENOENT' ? null : Number((err as { code?: number }).code ?? 1)) : 0,
          out: `${stdout}${stderr}`.trim(),
          missing: (err as NodeJS.ErrnoException | null)?.code === 'ENOENT',
        }),
      ),
    );
}

const lastLine = (text: string) => text.split('\n').filter(Boolean).at(-1)?.slice(0, 300) ?? '';
const fail = (message: string, field = 'sandbox') => new EngineError('sandbox', `sandbox: ${message}`, { field });

/** Throws an EngineError naming what is missing and what to do; resolves when a container of this run can start. */
export async function checkSandbox(
  cfg: SandboxConfig & { mounts?: string[] },
  agent: { command: string; path: string },
  cli: Cli = cliOf(cfg.engine),
): Promise<void> {
  const e = cfg.engine;
  const version = await cli(['version', '--format', '{{.Client.Version}}']);
  if (version.missing)
    throw fail(
      `${e} is not installed here — install it (Debian/Ubuntu: apt-get install ${e === 'podman' ? 'podman runc' : 'docker.io'}), or use ${e === 'podman' ? 'engine: docker' : 'engine: podman (no daemon needed)'}`,
      'sandbox.engine',
    );
  if (version.code !== 0) {
    const why = lastLine(version.out);
    if (/permission denied/i.test(why))
      throw fail(
        `${e} refuses this user (${why}) — add yourself to the ${e} group (or use rootless podman), then log in again`,
        'sandbox.engine',
      );
    throw fail(
      `${e} does not answer (${why}) — ${e === 'docker' ? 'start its daemon (systemctl start docker)' : 'enable its socket: systemctl --user enable --now podman.socket'}, or use ${e === 'docker' ? 'engine: podman (no daemon needed)' : 'engine: docker'}`,
      'sandbox.engine',
    );
  }
  if ((await cli(['image', 'inspect', cfg.image])).code !== 0) {
    const pull = await cli(['pull', cfg.image]);
    if (pull.code !== 0)
      throw fail(
        `the image ${cfg.image} is not here and cannot be pulled (${lastLine(pull.out)}) — pull or build it first (${e} pull ${cfg.image}, or ${e} build -t ${cfg.image} .), or name one that is here (${e} images)`,
        'sandbox.image',
      );
  }
  const trial = await cli([
    'run',
    '--rm',
    '--network',
    'none',
    ...(cfg.runtime ? ['--runtime', cfg.runtime] : []),
    ...Object.entries(cfg.ulimits ?? {}).flatMap(([k, v]) => ['--ulimit', `${k}=${v}`]),
    ...(cfg.mounts ?? []).flatMap((p) => ['--volume', `${p}:${p}:ro`]),
    '--env',
    `PATH=${agent.path}`,
    cfg.image,
    '/bin/sh',
    '-c',
    `command -v "$0" >/dev/null || { echo "flotilla: no agent"; exit 3; }`,
    agent.command,
  ]);
  if (trial.code === 0) return;
  if (/flotilla: no agent/.test(trial.out))
    throw fail(
      `the image ${cfg.image} has no ${agent.command} on its PATH — install the agent in the image, or mount it read-only (sandbox.mounts)`,
      'sandbox.image',
    );
  const why = lastLine(trial.out);
  const runtime = /OCI runtime "?([\w.-]+)"? not found/i.exec(why);
  if (runtime)
    throw fail(
      `the container runtime ${runtime[1]} is not installed (${why}) — install it, or name one that is: sandbox: { runtime: runc }`,
      'sandbox.runtime',
    );
  if (/cgroups? .*hybrid|hybrid mode/i.test(why))
    throw fail(
      `the container runtime refuses this machine (${why}) — use runc: sandbox: { runtime: runc } (apt-get install runc)`,
      'sandbox.runtime',
    );
  if (/rlimit|ulimit|nofile|nproc/i.test(why))
    throw fail(
      `the container's limits are refused here (${why}) — set them lower, e.g. sandbox: { ulimits: { nofile: "1024:2048", nproc: "1024:2048" } }`,
      'sandbox.ulimits',
    );
  if (/\/bin\/sh/.test(why) && /no such file|not found/i.test(why))
    throw fail(`the image ${cfg.image} has no /bin/sh, which a sandboxed session needs — use an image with a shell`, 'sandbox.image');
  throw fail(`a trial container did not start (${why}) — check \`${e} run --rm ${cfg.image} /bin/sh -c :\` in a terminal`);
}
