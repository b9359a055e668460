// `flotilla doctor`: what this machine has for running agents, and what to do about what it lacks.
import { execFile } from 'node:child_process';
import { AGENT_PRESETS, agentPresetInfo, findOnPath } from './templates/index.ts';
import { gitVersion } from './workspace/index.ts';
import { ProviderKeys } from './settings/index.ts';
import { ensureDataDir } from './store/index.ts';

export interface DoctorCheck {
  name: string;
  ok: boolean;
  /** A failed required check makes `doctor` exit 1; the others are advice. */
  required: boolean;
  detail: string;
}

const PROVIDER_KEYS = [
  { env: 'MOONSHOT_API_KEY', provider: 'moonshot / moonshot-openai' },
  { env: 'OPENROUTER_API_KEY', provider: 'openrouter' },
];

export async function runDoctor(opts: { dataDir: string; env: NodeJS.ProcessEnv }): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  const git = await gitVersion();
  checks.push(
    !git
      ? { name: 'git', ok: false, required: true, detail: 'not found on PATH — install git 2.38 or newer' }
      : {
          name: 'git',
          ok: git.supportsMergeTree,
          required: true,
          detail: git.supportsMergeTree
            ? `git ${git.version}`
            : `git ${git.version} is older than 2.38 — conflict detection needs \`git merge-tree --write-tree\`; upgrade git`,
        },
  );
  const seen = new Set<string>();
  for (const preset of AGENT_PRESETS) {
    const info = agentPresetInfo(preset);
    if (seen.has(info.command)) continue;
    seen.add(info.command);
    const path = findOnPath(info.command, opts.env.PATH);
    checks.push({
      name: `agent ${info.command} (${preset})`,
      ok: path !== null,
      required: false,
      detail: path ?? `not on PATH — install it: ${info.installHint}`,
    });
  }
  // Keys count from the environment and from the data dir (saved in Settings by `flotilla serve`; keys.json, 0600).
  const saved = await ProviderKeys.load(opts.dataDir)
    .then((k) => new Set(k.names()))
    .catch(() => new Set<string>());
  for (const k of PROVIDER_KEYS) {
    const inEnv = Boolean(opts.env[k.env]);
    const present = inEnv || saved.has(k.env);
    checks.push({
      name: `provider key ${k.env}`,
      ok: present,
      required: false,
      detail: present
        ? `${inEnv ? 'set in the environment' : 'saved in the data dir'} (used by ${k.provider})`
        : `not set — export ${k.env}=… or save it in Settings to use ${k.provider}`,
    });
  }
  const others = [...saved].filter((n) => !PROVIDER_KEYS.some((k) => k.env === n));
  if (others.length)
    checks.push({
      name: 'other saved keys',
      ok: true,
      required: false,
      detail: `${others.length} more saved in the data dir: ${others.join(', ')}`,
    });
  checks.push(await containerCheck(opts.env));
  try {
    const dir = await ensureDataDir(opts.dataDir);
    checks.push({ name: 'data dir', ok: true, required: true, detail: `${dir} is writable` });
  } catch (err) {
    checks.push({ name: 'data dir', ok: false, required: true, detail: (err as Error).message });
  }
  return checks;
}

/** Sandboxed sessions (template `sandbox:`) need podman or docker: which is here, and podman's runtime. Advice only. */
async function containerCheck(env: NodeJS.ProcessEnv): Promise<DoctorCheck> {
  const name = 'containers (sandbox:)';
  const podman = findOnPath('podman', env.PATH);
  const docker = findOnPath('docker', env.PATH);
  if (!podman && !docker)
    return {
      name,
      ok: false,
      required: false,
      detail: 'neither podman nor docker on PATH — sandboxed sessions need one: apt-get install podman runc (no daemon needed)',
    };
  if (!podman) return { name, ok: true, required: false, detail: `docker at ${docker} (its daemon must be running)` };
  const info = await new Promise<string>((resolve) =>
    execFile(podman, ['info', '--format', '{{.Version.Version}} {{.Host.OCIRuntime.Name}}'], { timeout: 20_000 }, (err, out, errOut) =>
      resolve(err ? `error ${(errOut || err.message).trim().split('\n').at(-1)}` : out.trim()),
    ),
  );
  if (info.startsWith('error '))
    return { name, ok: false, required: false, detail: `podman does not answer (${info.slice(6)}) — run \`podman info\` to see why` };
  const [version, runtime] = info.split(' ');
  return {
    name,
    ok: true,
    required: false,
    detail: `podman ${version}, runtime ${runtime}${runtime === 'crun' ? ' (if containers fail with "cgroups in hybrid mode", set sandbox: { runtime: runc })' : ''}`,
  };
}
