// Sandboxed runs whose image comes from the repo (issue 25): a devcontainer.json that builds from a Dockerfile (a RUN
// step, built offline by podman from the test image), its containerEnv and postCreateCommand honoured in the session's
// container; a slot of the same run on the host (`sandbox: false`); a build that fails, said before anything is made;
// and the keep-containers setting (the container left after its session, until `clean` removes it).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineEvent } from '../../electron/shared/contract.ts';
import { Engine } from '../../electron/engine/engine.ts';
import { LABEL_RUN } from '../../electron/engine/sandbox/index.ts';
import {
  HOST_MOUNTS,
  MACHINE_SANDBOX,
  cannotRunPodman,
  containersWith,
  ensureTestImage,
  removeContainersWith,
} from '../fixtures/podman.ts';
import { makeRepo, tempDir } from '../fixtures/repo.ts';
import { waitFor } from '../fixtures/wait.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const runs: string[] = [];
/** Images the tests built, removed after them. */
const built: string[] = [];
let engine: Engine | null = null;

beforeAll(() => {
  if (!cannotRunPodman) ensureTestImage();
}, 120_000);
afterAll(async () => {
  await engine?.close();
  for (const r of runs) removeContainersWith(`${LABEL_RUN}=${r}`);
  if (built.length) spawnSync('podman', ['rmi', '--force', ...built], { stdio: 'ignore' });
});

/** The machine's container needs (runtime, limits) and the host's Node, without an image: the repo says which. */
const MACHINE = JSON.stringify({ ...MACHINE_SANDBOX, mounts: [...HOST_MOUNTS, join(ROOT, 'node_modules')] });

const DEVCONTAINER = `{
  // Built from the Dockerfile beside it, with the repo as context.
  "build": { "dockerfile": "Dockerfile", "context": ".." },
  "containerEnv": { "GREETING": "hello from devcontainer.json", "WS": "\${containerWorkspaceFolder}" },
  "postCreateCommand": "echo created-in-container > .created",
}
`;
const DOCKERFILE = 'FROM localhost/flotilla-test:busybox\nRUN mkdir -p /opt/tool && echo baked-into-the-image > /opt/tool/mark\n';
/** The agent: what its container (or the host) gives it, then done. */
const AGENT = `cat /opt/tool/mark 2>/dev/null || echo "no image mark: on the host"; echo "greeting=$GREETING"; echo "ws=$WS"; cat .created 2>/dev/null; echo agent-finished`;

async function screen(sessionId: string): Promise<string> {
  return (await engine!.call('snapshot', { sessionId })).data;
}

describe.skipIf(cannotRunPodman !== null)(`sandbox images from the repo${cannotRunPodman ? ` (skipped: ${cannotRunPodman})` : ''}`, () => {
  it("builds the repo's devcontainer image, honours its containerEnv and postCreateCommand; a slot with sandbox: false runs on the host", async () => {
    engine = await Engine.create({ dataDir: tempDir('flotilla-sbuild-data-'), env: { ...process.env, HOME: tempDir('flotilla-home-') } });
    const said: string[] = [];
    engine.on('event', (e: EngineEvent) => {
      if (e.event === 'launchProgress') said.push(e.progress.message);
    });
    const repo = makeRepo({
      '.devcontainer/devcontainer.json': DEVCONTAINER,
      '.devcontainer/Dockerfile': DOCKERFILE,
      'README.md': '# r\n',
    });
    const { run, sessions } = await engine.call('launch', {
      templateText: `name: devcontainer
repo: ${repo}
agent: { preset: shell, command: sh, args: ["-c", ${JSON.stringify(AGENT)}] }
provider: { preset: custom, baseUrl: "http://127.0.0.1:9" }
sandbox: ${MACHINE}
slots:
  - { task: in the container }
  - { task: on the host, sandbox: false }
`,
    });
    runs.push(run.id);
    // The stored template names the built image (a resumed session runs the same one); removed after the tests.
    const stored = JSON.parse(engine.registry.store.getRunTemplate(run.id)!);
    built.push(stored.sandbox.image);
    // Each build step was said while the launch waited, then where the image came from.
    expect(said.filter((m) => m.startsWith('building the sandbox image — STEP')).length).toBeGreaterThanOrEqual(2);
    expect(said.some((m) => /^sandbox image: localhost\/flotilla-.*:[0-9a-f]{12} \(built from \.devcontainer\/Dockerfile\)$/.test(m))).toBe(
      true,
    );
    // The tiles say which slot is contained.
    expect(run.sandboxes).toEqual(['podman · meter-only', null]);
    await engine.waitForRun(run.id);
    const [boxed, host] = sessions;
    const inside = await screen(boxed!.id);
    expect(
      engine.registry.listSessions(run.id).map((s) => s.status),
      inside,
    ).toEqual(['done', 'done']);
    expect(inside).toContain('baked-into-the-image');
    expect(inside).toContain('greeting=hello from devcontainer.json');
    expect(inside).toContain(`ws=${boxed!.worktree}`);
    expect(inside).toContain('created-in-container');
    // postCreateCommand ran in the container, in the worktree (seen on the host); not for the slot on the host.
    expect(readFileSync(join(boxed!.worktree, '.created'), 'utf8')).toBe('created-in-container\n');
    const outside = await screen(host!.id);
    expect(outside).toContain('no image mark: on the host');
    expect(outside).toContain('greeting=');
    expect(outside).not.toContain('hello from devcontainer');
    expect(existsSync(join(host!.worktree, '.created'))).toBe(false);
    expect(said).toContain(`sandbox image: ${stored.sandbox.image} (built from .devcontainer/Dockerfile)`);
    expect(stored.sandbox.setup).toEqual(['echo created-in-container > .created']);
  }, 240_000);

  it('a build that fails is said with its last lines and how to try it, and no run is made', async () => {
    engine ??= await Engine.create({ dataDir: tempDir('flotilla-sbuild-data-'), env: process.env });
    const repo = makeRepo({ 'docker/Dockerfile': 'FROM localhost/flotilla-test:busybox\nRUN echo the-step-that-fails && exit 3\n' });
    const before = engine.registry.listRuns().length;
    await expect(
      engine.call('launch', {
        templateText: `name: broken\nrepo: ${repo}\nagent: { preset: shell, command: "true" }\nprovider: { preset: custom, baseUrl: "http://127.0.0.1:9" }\nsandbox: ${JSON.stringify({ ...MACHINE_SANDBOX, build: 'docker/Dockerfile' })}\n`,
      }),
    ).rejects.toThrow(
      /sandbox: the image did not build from .*docker\/Dockerfile \(exit \d+\): .*the-step-that-fails.* — fix it and launch again; try it: podman build -f/,
    );
    expect(engine.registry.listRuns().length).toBe(before);
  }, 120_000);

  it('with keepContainers the ended container is left for inspection, and clean removes it', async () => {
    engine ??= await Engine.create({ dataDir: tempDir('flotilla-sbuild-data-'), env: process.env });
    await engine.call('saveSettings', { settings: { keepContainers: true } });
    const { run } = await engine.call('launch', {
      templateText: `name: kept\nrepo: ${makeRepo()}\nagent: { preset: shell, command: sh, args: ["-c", "echo kept-run"] }\nprovider: { preset: custom, baseUrl: "http://127.0.0.1:9" }\nsandbox: ${JSON.stringify({ image: 'localhost/flotilla-test:busybox', ...MACHINE_SANDBOX })}\n`,
    });
    runs.push(run.id);
    await engine.waitForRun(run.id);
    // Ended and read (its end noted), yet still there.
    await waitFor(() => engine!.registry.listSessions(run.id)[0]!.status === 'done', 'the session done');
    await engine.call('saveSettings', { settings: {} });
    expect(containersWith(`${LABEL_RUN}=${run.id}`)).toHaveLength(1);
    const cleaned = await engine.call('cleanRun', { runId: run.id });
    expect(cleaned.removedContainers).toBe(1);
    expect(containersWith(`${LABEL_RUN}=${run.id}`)).toHaveLength(0);
  }, 120_000);
});

describe.skipIf(cannotRunPodman !== null)(
  `a container's TTY is the session's terminal${cannotRunPodman ? ` (skipped: ${cannotRunPodman})` : ''}`,
  () => {
    it('a resize reaches the container (its size changes inside), and Ctrl-C interrupts the agent there', async () => {
      engine ??= await Engine.create({ dataDir: tempDir('flotilla-sbuild-data-'), env: process.env });
      // busybox in the test image: `stty size` on each line read; SIGINT said, then exit 130.
      const AGENT = 'trap "echo got-interrupt; exit 130" INT; echo ready; while read l; do busybox stty size; done';
      const { run, sessions } = await engine.call('launch', {
        templateText: `name: tty\nrepo: ${makeRepo()}\nagent: { preset: shell, command: sh, args: ["-c", ${JSON.stringify(AGENT)}] }\nprovider: { preset: custom, baseUrl: "http://127.0.0.1:9" }\nsandbox: ${JSON.stringify({ image: 'localhost/flotilla-test:busybox', ...MACHINE_SANDBOX })}\n`,
      });
      runs.push(run.id);
      const id = sessions[0]!.id;
      await waitFor(async () => (await screen(id)).includes('ready'), 'the agent up', 60_000);
      await engine.call('resize', { sessionId: id, cols: 101, rows: 33 });
      await engine.call('input', { sessionId: id, data: '\r' });
      await waitFor(async () => (await screen(id)).includes('33 101'), 'the new size inside', 30_000);
      await engine.call('input', { sessionId: id, data: '\x03' });
      await waitFor(async () => (await screen(id)).includes('got-interrupt'), 'the interrupt inside', 30_000);
      await engine.waitForRun(run.id);
      expect(engine.registry.sessionInfo(id).exitCode).toBe(130);
    }, 120_000);
  },
);
