// Sessions in containers (issue 25, first part): the session's terminal is a podman container's TTY, the worktree and
// the session's dir are mounted at the same paths, and in the default `meter-only` network the container's one way out
// is the meter's socket. A real Claude Code session writes its file from inside (seen on the host), spend exact; a
// probe in another container reaches its model through the meter but not another port of the host, not a public
// address, not the container engine's socket. Image and limits: test/fixtures/podman.ts.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readEngineFile } from '../../electron/engine/daemon.ts';
import { Engine } from '../../electron/engine/engine.ts';
import { HttpEngineClient } from '../../electron/shared/client.ts';
import { PriceTable } from '../../electron/engine/meter/index.ts';
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
import { type AnthropicUpstream, type RecordedRequest, startAnthropicUpstream } from '../upstream/index.ts';
import { anthropicServedUsd } from '../upstream/served.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const BIN_DIR = join(ROOT, 'node_modules/.bin');
const KEY = 'sk-sandbox-key-stays-outside';
const K26 = PriceTable.shipped().get('kimi-k2.6')!;

let upstream: AnthropicUpstream;
let engine: Engine | null = null;
const runs: string[] = [];
beforeAll(async () => {
  if (cannotRunPodman) return;
  ensureTestImage();
  upstream = await startAnthropicUpstream({ apiKey: KEY });
}, 120_000);
afterAll(async () => {
  await engine?.close();
  for (const r of runs) removeContainersWith(`${LABEL_RUN}=${r}`);
  await upstream?.close();
});

function sandbox(): string {
  return JSON.stringify({
    image: 'localhost/flotilla-test:busybox',
    ...MACHINE_SANDBOX,
    mounts: [...HOST_MOUNTS, join(ROOT, 'node_modules')],
  });
}

/** A run of one Claude Code batch session in a container, on the stand-in. */
const claudeInBox = (name: string, task: string) => `name: ${name}
repo: ${makeRepo()}
agent: { preset: claude-code-batch }
provider: { preset: custom, baseUrl: "${upstream.url}", style: anthropic, apiKeyEnv: SANDBOX_KEY }
model: kimi-k2.6
tasks: ["${task}"]
sandbox: ${sandbox()}
`;

const servedUsd = (r: RecordedRequest) => anthropicServedUsd(r, K26);

/** From inside: the meter (its base URL), another port of the host, a public address, the container engine's sockets. */
const PROBE = [
  'const t = (u) => fetch(u, { signal: AbortSignal.timeout(3000) }).then((r) => "reached " + r.status, (e) => "blocked " + (e.cause?.code ?? e.name));',
  '(async () => {',
  '  const meter = await fetch(process.env.ANTHROPIC_BASE_URL + "/v1/messages", { method: "POST", headers: { authorization: "Bearer " + process.env.ANTHROPIC_AUTH_TOKEN, "content-type": "application/json", "anthropic-version": "2023-06-01" }, body: JSON.stringify({ model: "kimi-k2.6", max_tokens: 32, messages: [{ role: "user", content: "SAY inside" }] }) }).then((r) => r.status, (e) => "error " + e.message);',
  '  console.log("meter: " + meter);',
  '  console.log("host port: " + (await t(process.env.PROBE_HOST_URL)));',
  '  console.log("public: " + (await t("http://1.1.1.1/")));',
  '  const fs = require("fs");',
  '  console.log("engine sockets: " + ["/var/run/docker.sock", "/run/podman/podman.sock", "/run/docker.sock"].filter((p) => fs.existsSync(p)).length);',
  '  console.log("probe done");',
  '})();',
].join('\n');

/** An agent that waits for Enter, then asks its model once through the meter and says how that went. */
const ASK_ON_ENTER = [
  'console.log("waiting for Enter");',
  'process.stdin.once("data", async () => {',
  '  const r = await fetch(process.env.ANTHROPIC_BASE_URL + "/v1/messages", { method: "POST", headers: { authorization: "Bearer " + process.env.ANTHROPIC_AUTH_TOKEN, "content-type": "application/json", "anthropic-version": "2023-06-01" }, body: JSON.stringify({ model: "kimi-k2.6", max_tokens: 32, messages: [{ role: "user", content: "SAY again" }] }) }).then((r) => r.status, (e) => "error " + e.message);',
  '  console.log("asked: " + r);',
  '  setInterval(() => {}, 1000);',
  '});',
].join('\n');

describe.skipIf(cannotRunPodman !== null)(`sandboxed sessions${cannotRunPodman ? ` (skipped: ${cannotRunPodman})` : ''}`, () => {
  it('Claude Code in a container writes its file into the worktree; spend exact; its only way out is the meter', async () => {
    const dataDir = tempDir('flotilla-sandbox-data-');
    engine = await Engine.create({
      dataDir,
      env: { ...process.env, PATH: `${BIN_DIR}:${process.env.PATH}`, HOME: tempDir('flotilla-home-'), SANDBOX_KEY: KEY },
    });
    const before = upstream.requests.length;
    const { run } = await engine.call('launch', {
      templateText: claudeInBox('sandboxed', 'WRITE boxed.txt written inside the container'),
    });
    runs.push(run.id);
    // It runs in a container labelled with its run.
    await waitFor(
      () => containersWith(`${LABEL_RUN}=${run.id}`).length > 0 || engine!.registry.listSessions(run.id)[0]!.status === 'done',
      'the container',
    );
    await engine.waitForRun(run.id);
    const s = engine.registry.listSessions(run.id)[0]!;
    const screen = (await engine.call('snapshot', { sessionId: s.id })).data;
    expect(s.status, screen).toBe('done');
    expect(readFileSync(join(s.worktree, 'boxed.txt'), 'utf8')).toBe('written inside the container');
    const served = upstream.requests.slice(before).filter((q) => q.path === '/v1/messages' && q.servedUsage);
    expect(served.length).toBeGreaterThanOrEqual(2);
    const spend = await engine.call('spend', { runId: run.id });
    expect(spend.run!.usd).toBeCloseTo(
      served.reduce((a, q) => a + servedUsd(q), 0),
      9,
    );
    // The session's container is gone with it; its socket too.
    await waitFor(() => containersWith(`${LABEL_RUN}=${run.id}`).length === 0, 'the container removed');
    await waitFor(() => !existsSync(join(dataDir, 'sessions', s.id, 'meter.sock')), 'its meter socket closed');

    // The network: the meter yes; nothing else.
    const probe = await engine.call('launch', {
      templateText: `name: probe
repo: ${makeRepo()}
agent: { preset: shell, command: node, args: ["-e", ${JSON.stringify(PROBE)}], env: { PROBE_HOST_URL: "${upstream.url}/v1/models" } }
provider: { preset: custom, baseUrl: "${upstream.url}", style: anthropic, apiKeyEnv: SANDBOX_KEY }
model: kimi-k2.6
sandbox: ${sandbox()}
`,
    });
    runs.push(probe.run.id);
    const id = probe.sessions[0]!.id;
    const text = async () => (await engine!.call('snapshot', { sessionId: id })).data;
    await waitFor(async () => (await text()).includes('probe done'), 'the probe', 60_000);
    const out = await text();
    expect(out).toMatch(/meter: 200/);
    expect(out).toMatch(/host port: blocked/);
    expect(out).toMatch(/public: blocked/);
    expect(out).toMatch(/engine sockets: 0/);
  }, 240_000);

  it('a memory hog is killed by its limit and says out of memory; its neighbour finishes; a stopped one leaves no container', async () => {
    engine ??= await Engine.create({ dataDir: tempDir('flotilla-sandbox-data-'), env: { ...process.env, SANDBOX_KEY: KEY } });
    const AGENT =
      'if (process.argv[1] === "HOG") { const a = []; setInterval(() => { for (let i = 0; i < 8; i++) a.push(Buffer.alloc(16 << 20, 1)); console.log(a.length * 16 + " MB"); }, 50); }' +
      ' else if (process.argv[1] === "WAIT") setInterval(() => {}, 1000); else setTimeout(() => console.log("fine under the limit"), 1500);';
    const { run, sessions } = await engine.call('launch', {
      templateText: `name: limits
repo: ${makeRepo()}
workspace: shared
agent: { preset: shell, command: node, args: ["-e", ${JSON.stringify(AGENT)}, "{{task}}"] }
provider: { preset: custom, baseUrl: "${upstream.url}", style: anthropic, apiKeyEnv: SANDBOX_KEY }
model: kimi-k2.6
tasks: [HOG, CALM, WAIT]
sandbox: ${JSON.stringify({ ...JSON.parse(sandbox()), memory: '256m', cpus: 1 })}
`,
    });
    runs.push(run.id);
    expect(run.sandbox).toBe('podman · 1 CPU · 256m · meter-only'); // what its tiles show
    const [hog, calm, wait] = sessions.map((x) => x.id) as [string, string, string];
    const info = (id: string) => engine!.registry.sessionInfo(id);
    await waitFor(
      () => info(hog).status === 'failed' && /out of memory/.test(info(hog).statusDetail ?? ''),
      'the hog failed — out of memory',
      60_000,
    );
    expect(info(hog).statusDetail).toBe(
      'out of memory — the container was killed at its memory limit (256m); raise sandbox.memory in the template, or give the task less to hold',
    );
    await waitFor(() => info(calm).status === 'done', 'the neighbour done', 60_000);
    expect((await engine.call('snapshot', { sessionId: calm })).data).toContain('fine under the limit');

    await waitFor(() => containersWith(`${LABEL_RUN}=${run.id}`).length === 1, 'only the waiting one left');
    await engine.call('stop', { sessionId: wait });
    await waitFor(() => containersWith(`${LABEL_RUN}=${run.id}`).length === 0, 'no container left after stop', 60_000);
    expect(info(wait).status).toBe('stopped');
  }, 180_000);

  it('an engine killed with sandboxed sessions running: the next engine re-attaches a running container (its agent goes on, metered); one it cannot (host network) is removed and says so', async () => {
    const data = tempDir('flotilla-sandbox-kill-');
    const serve = spawn(process.execPath, [join(ROOT, 'bin/flotilla.js'), 'serve', '--data-dir', data], {
      stdio: 'ignore',
      env: { ...process.env, SANDBOX_KEY: KEY },
    });
    let next: Engine | null = null;
    try {
      const info = await waitFor(() => readEngineFile(data), 'the engine up', 60_000);
      const client = new HttpEngineClient({ origin: info.origin, token: info.token }, fetch);
      const { run, sessions } = await client.call('launch', {
        templateText: `name: killed
repo: ${makeRepo()}
agent: { preset: shell, command: node, args: ["-e", ${JSON.stringify(ASK_ON_ENTER)}] }
provider: { preset: custom, baseUrl: "${upstream.url}", style: anthropic, apiKeyEnv: SANDBOX_KEY }
model: kimi-k2.6
sandbox: ${sandbox()}
slots:
  - { task: goes on }
  - { task: host network, sandbox: { network: host } }
`,
      });
      runs.push(run.id);
      const [kept, gone] = sessions;
      const shown = async (c: { call: Engine['call'] }, id: string) => (await c.call('snapshot', { sessionId: id })).data;
      await waitFor(async () => (await shown(client, kept!.id)).includes('waiting for Enter'), 'the agent up', 60_000);
      await waitFor(() => containersWith(`${LABEL_RUN}=${run.id}`).length === 2, 'both containers');
      serve.kill('SIGKILL');
      await new Promise((r) => serve.once('exit', r));
      expect(containersWith(`${LABEL_RUN}=${run.id}`)).toHaveLength(2); // the containers outlive their engine

      next = await Engine.create({ dataDir: data, env: { ...process.env, SANDBOX_KEY: KEY } });
      // The meter-only one is attached again; the host-network one cannot be (its agent's URLs name the dead port).
      expect(containersWith(`${LABEL_RUN}=${run.id}`)).toHaveLength(1);
      const s1 = next.registry.sessionInfo(kept!.id);
      expect(s1.status).not.toBe('interrupted');
      const s2 = next.registry.listSessions(run.id).find((s) => s.id === gone!.id)!;
      expect([s2.status, s2.statusDetail]).toEqual([
        'interrupted',
        'interrupted — its engine stopped; its container was still running and was removed (Resume continues the conversation in a new one)',
      ]);
      // Its agent never stopped: typed keys reach it, and its next model request goes through this engine's meter.
      const before = upstream.requests.length;
      await next.call('input', { sessionId: kept!.id, data: '\r' });
      await waitFor(async () => (await shown(next!, kept!.id)).includes('asked: 200'), 'its request after the restart', 60_000);
      const served = upstream.requests.slice(before).filter((q) => q.path === '/v1/messages' && q.servedUsage);
      expect(served).toHaveLength(1);
      const ledger = await next.call('ledger', { runId: run.id });
      expect(ledger.filter((r) => r.sessionId === kept!.id).at(-1)?.usd).toBeCloseTo(servedUsd(served[0]!), 9);
      // Stopped now, as any session: its container goes.
      await next.call('stop', { sessionId: kept!.id });
      await waitFor(() => containersWith(`${LABEL_RUN}=${run.id}`).length === 0, 'its container removed');
    } finally {
      serve.kill('SIGKILL');
      await next?.close();
    }
  }, 180_000);

  it('launch says what is missing: an image that is not here, a runtime that is not installed, an agent not in the image', async () => {
    engine ??= await Engine.create({ dataDir: tempDir('flotilla-sandbox-data-'), env: { ...process.env, SANDBOX_KEY: KEY } });
    const launch = (sandboxFields: Record<string, unknown>, command = 'node') =>
      engine!
        .call('launch', {
          templateText: `name: refused
repo: ${makeRepo()}
agent: { preset: shell, command: ${command} }
provider: { preset: custom, baseUrl: "${upstream.url}", style: anthropic, apiKeyEnv: SANDBOX_KEY }
model: kimi-k2.6
sandbox: ${JSON.stringify({ ...JSON.parse(sandbox()), ...sandboxFields })}
`,
        })
        .then(
          () => 'launched',
          (err: Error) => err.message,
        );
    // No registry can be reached here: the pull fails, and the message says what to do.
    expect(await launch({ image: 'localhost/flotilla-none:nope' })).toMatch(
      /^sandbox: the image localhost\/flotilla-none:nope is not here and cannot be pulled \(.+\) — pull or build it first \(podman pull/,
    );
    expect(await launch({ runtime: 'no-such-runtime' })).toMatch(
      /^sandbox: the container runtime no-such-runtime is not installed \(.*\) — install it, or name one that is: sandbox: \{ runtime: runc \}/,
    );
    expect(await launch({}, 'no-such-agent')).toBe(
      'sandbox: the image localhost/flotilla-test:busybox has no no-such-agent on its PATH — install the agent in the image, or mount it read-only (sandbox.mounts)',
    );
  }, 180_000);

  it('resume: Claude Code carries its conversation on in a new container', async () => {
    const dataDir = tempDir('flotilla-sandbox-resume-');
    const env = { ...process.env, PATH: `${BIN_DIR}:${process.env.PATH}`, HOME: tempDir('flotilla-home-'), SANDBOX_KEY: KEY };
    const first = await Engine.create({ dataDir, env });
    let second: Engine | null = null;
    try {
      const { run, sessions } = await first.call('launch', {
        templateText: claudeInBox('resumed', 'WRITE notes.txt first turn in a box'),
      });
      runs.push(run.id);
      await first.waitForRun(run.id);
      await first.close();
      second = await Engine.create({ dataDir, env });
      const id = sessions[0]!.id;
      const before = upstream.requests.length;
      await second.call('resume', { sessionId: id });
      await waitFor(() => containersWith(`${LABEL_RUN}=${run.id}`).length === 1, 'its new container').catch(async (err) => {
        const s = second!.registry.sessionInfo(id);
        throw new Error(
          `${err.message}: ${s.status} ${s.statusDetail} ${(await second!.call('snapshot', { sessionId: id })).data.slice(-800)}`,
        );
      });
      // The screen as text: cursor-forward becomes spaces, other escape sequences go.
      const screen = async () =>
        (await second!.call('snapshot', { sessionId: id })).data
          .replace(/\x1b\[(\d*)C/g, (_m, n: string) => ' '.repeat(Number(n || 1)))
          .replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
      await waitFor(
        async () => /first turn in a box/.test(await screen()) && /accept edits on/.test(await screen()),
        'the resumed conversation',
        60_000,
      );
      second.scheduler.input(id, 'SAY resumed in a box');
      await waitFor(async () => (await screen()).includes('resumed in a box'), 'the typed text').catch(async (err) => {
        throw new Error(`${err.message}: ${JSON.stringify((await screen()).slice(-1500))}`);
      });
      second.scheduler.input(id, '\r');
      const turn = await waitFor(
        () => upstream.requests.slice(before).find((r) => JSON.stringify(r.body?.messages ?? []).includes('resumed in a box')),
        'the new turn',
        60_000,
      );
      expect(JSON.stringify(turn.body.messages)).toContain('WRITE notes.txt first turn in a box');
      await second.call('stop', { sessionId: id });
      await waitFor(() => containersWith(`${LABEL_RUN}=${run.id}`).length === 0, 'no container after stop', 60_000);
    } finally {
      await first.close();
      await second?.close();
    }
  }, 240_000);
});
