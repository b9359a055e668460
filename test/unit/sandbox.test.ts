// The container command line for a sandboxed session: mounts at the same paths, limits, labels, the network, the
// environment in a file (never on the command line), the forwarder in front of the agent for meter-only.
import { describe, expect, it } from 'vitest';
import { checkSandbox } from '../../electron/engine/sandbox/checks.ts';
import { containerSpec, envFileText } from '../../electron/engine/sandbox/command.ts';

const spec = {
  command: 'claude',
  args: ['-p', 'do it'],
  env: { PATH: '/usr/bin', ANTHROPIC_AUTH_TOKEN: 'session-token' },
  cwd: '/wt/slot-1',
  cols: 80,
  rows: 24,
};
const ctx = {
  sessionId: 's1',
  runId: 'r1',
  sessionDir: '/data/sessions/s1',
  enginePort: 4321,
  forwarder: '/app/forwarder.mjs',
  node: 'node',
};

describe('sandbox command', () => {
  it('meter-only: no network but loopback, the forwarder on the engine port, then the agent', () => {
    const out = containerSpec(
      spec,
      { engine: 'podman', image: 'img', network: 'meter-only', cpus: 2, memory: '256m', runtime: 'runc', ulimits: { nofile: '1024:2048' } },
      { ...ctx, readOnly: ['/usr'], user: null },
    );
    expect(out.command).toBe('podman');
    const a = out.args.join(' ');
    expect(a).toContain('--name flotilla-s1 --label dev.flotilla.session=s1 --label dev.flotilla.run=r1');
    // Podman's detach keys (ctrl-p, ctrl-q) would never reach the agent: none.
    expect(out.args.slice(0, 5)).toEqual(['run', '--interactive', '--tty', '--detach-keys', '']);
    expect(a).toContain('--runtime runc --ulimit nofile=1024:2048 --cpus 2 --memory 256m --memory-swap 256m --network none');
    expect(a).toContain(
      '--env-file /data/sessions/s1/container.env --workdir /wt/slot-1 --volume /wt/slot-1:/wt/slot-1 --volume /data/sessions/s1:/data/sessions/s1 --volume /usr:/usr:ro --volume /app/forwarder.mjs:/app/forwarder.mjs:ro img /bin/sh -c',
    );
    expect(out.args.slice(-7)).toEqual(
      ['flotilla-sandbox', '/app/forwarder.mjs', 'node', '4321', '/data/sessions/s1/meter.sock', 'claude', '-p', 'do it'].slice(-7),
    );
    // The session's secrets are in the env file, not on the command line.
    expect(a).not.toContain('session-token');
    expect(out.cwd).toBe('/wt/slot-1');
  });

  it('none and host: the agent itself, with that network; the user mapped in when not root', () => {
    const none = containerSpec(spec, { engine: 'docker', image: 'img', network: 'none' }, { ...ctx, user: '1000:1000' });
    expect(none.command).toBe('docker');
    expect(none.args.join(' ')).toMatch(/--user 1000:1000 .*--network none .* img claude -p do it$/);
    const host = containerSpec(spec, { engine: 'podman', image: 'img', network: 'host' }, { ...ctx, user: 'keep-id' });
    expect(host.args.join(' ')).toMatch(/--userns keep-id .*--network host .* img claude -p do it$/);
    expect(host.args.join(' ')).not.toContain('forwarder');
  });

  it('writes the environment one KEY=value per line, dropping what a file cannot carry', () => {
    expect(envFileText({ A: '1', B: 'two words', 'BAD-NAME': 'x', MULTI: 'a\nb' })).toBe('A=1\nB=two words\n');
  });
});

describe('sandbox checks: each missing piece in words', () => {
  const cfg = { engine: 'podman' as const, image: 'img', network: 'meter-only' as const };
  const agent = { command: 'claude', path: '/usr/bin' };
  /** A container engine that answers `version`, `image inspect` and the trial `run` as scripted. */
  const fake =
    (answers: Partial<Record<'version' | 'image' | 'pull' | 'run', { code: number | null; out: string; missing?: boolean }>>) =>
    async (args: string[]) => {
      const a = answers[args[0] as 'version' | 'image' | 'pull' | 'run'] ?? { code: 0, out: '' };
      return { code: a.code, out: a.out, missing: a.missing ?? false };
    };
  const message = (c: Parameters<typeof checkSandbox>[0], cli: ReturnType<typeof fake>) =>
    checkSandbox(c, agent, cli).then(
      () => 'ok',
      (e: Error) => e.message,
    );

  it('says how to install, start or be allowed to use the engine', async () => {
    expect(await message(cfg, fake({ version: { code: null, out: '', missing: true } }))).toMatch(
      /^sandbox: podman is not installed here — install it \(Debian\/Ubuntu: apt-get install podman runc\), or use engine: docker$/,
    );
    expect(
      await message(
        { ...cfg, engine: 'docker' },
        fake({ version: { code: 1, out: 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock' } }),
      ),
    ).toMatch(/docker does not answer \(Cannot connect.*\) — start its daemon \(systemctl start docker\), or use engine: podman/);
    expect(
      await message({ ...cfg, engine: 'docker' }, fake({ version: { code: 1, out: 'permission denied while trying to connect' } })),
    ).toMatch(/docker refuses this user .* add yourself to the docker group/);
  });

  it('says which runtime or limit this machine refuses', async () => {
    expect(
      await message(
        cfg,
        fake({ run: { code: 126, out: 'Error: crun: cgroups in hybrid mode not supported, drop all controllers from cgroupv2' } }),
      ),
    ).toMatch(/the container runtime refuses this machine \(.*hybrid mode.*\) — use runc: sandbox: \{ runtime: runc \}/);
    expect(await message(cfg, fake({ run: { code: 126, out: 'Error: setrlimit `RLIMIT_NPROC`: Operation not permitted' } }))).toMatch(
      /the container's limits are refused here .* ulimits: \{ nofile: "1024:2048", nproc: "1024:2048" \}/,
    );
    expect(await message(cfg, fake({}))).toBe('ok');
  });
});
