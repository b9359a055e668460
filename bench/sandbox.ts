// bench/sandbox: what a container costs a session. One engine, runs of N sessions whose agent is `node` answering one
// model request through the meter, on the host and in meter-only podman containers (the test image, Node mounted
// read-only), alternating (H C | C H | …) so drift hits both alike. Per run: the time from launch to every session's
// agent up (it writes a file in its worktree), and the median round trip of ten model requests in a row seen by the
// agent (through the meter directly, or through the container's forwarder and the meter's socket). Printed: medians per mode and the ratios
// container / host. Needs root, podman, runc and busybox-static (as the tests: test/fixtures/podman.ts).
//
//   npx tsx bench/sandbox.ts [--sessions 5] [--rounds 2]
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Engine } from '../electron/engine/engine.ts';
import { LABEL_RUN } from '../electron/engine/sandbox/index.ts';
import { HOST_MOUNTS, MACHINE_SANDBOX, cannotRunPodman, ensureTestImage, removeContainersWith } from '../test/fixtures/podman.ts';
import { makeRepo, tempDir } from '../test/fixtures/repo.ts';
import { startAnthropicUpstream } from '../test/upstream/index.ts';

const { values } = parseArgs({ options: { sessions: { type: 'string', default: '5' }, rounds: { type: 'string', default: '2' } } });
const N = Number(values.sessions);
const ROUNDS = Number(values.rounds);
if (cannotRunPodman) {
  console.log(`bench/sandbox: skipped — ${cannotRunPodman}`);
  process.exit(0);
}
ensureTestImage();
const KEY = 'sk-bench-sandbox';
const upstream = await startAnthropicUpstream({ apiKey: KEY });
const engine = await Engine.create({ dataDir: tempDir('flotilla-bench-sandbox-'), env: { ...process.env, BENCH_KEY: KEY } });
const ROOT = resolve(import.meta.dirname, '..');

/** Writes `up` when it starts; then asks its model 11 times in a row (the first one warms up) and writes the median
 *  round trip of the last ten (ms) to `rtt`; then stays. */
const AGENT = [
  'const fs = require("fs"); fs.writeFileSync("up", "");',
  'const ask = () => fetch(process.env.ANTHROPIC_BASE_URL + "/v1/messages", { method: "POST", headers: { authorization: "Bearer " + process.env.ANTHROPIC_AUTH_TOKEN, "content-type": "application/json", "anthropic-version": "2023-06-01" }, body: JSON.stringify({ model: "kimi-k2.6", max_tokens: 32, messages: [{ role: "user", content: "SAY hi" }] }) }).then((r) => r.text().then((t) => (r.status === 200 ? 200 : r.status + " " + t.slice(0, 300))));',
  '(async () => { const ms = []; for (let i = 0; i < 11; i++) { const t0 = performance.now(); const st = await ask().catch((e) => String(e.cause?.code ?? e.message)); if (st !== 200) { fs.writeFileSync("rtt", "failed: " + st); return; } if (i > 0) ms.push(performance.now() - t0); }',
  '  ms.sort((a, b) => a - b); fs.writeFileSync("rtt", String(ms[5])); })();',
  'setInterval(() => {}, 1000);',
].join('\n');

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const until = async (check: () => boolean) => {
  const t0 = performance.now();
  while (!check()) {
    if (performance.now() - t0 > 120_000) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
};

async function round(contained: boolean): Promise<{ upMs: number; rttMs: number }> {
  const sandbox = contained
    ? `sandbox: ${JSON.stringify({ image: 'localhost/flotilla-test:busybox', ...MACHINE_SANDBOX, mounts: HOST_MOUNTS })}\n`
    : '';
  const t0 = performance.now();
  const { run, sessions } = await engine.call('launch', {
    templateText: `name: bench-${contained ? 'box' : 'host'}\nrepo: ${makeRepo()}\ncount: ${N}\nagent: { preset: shell, command: node, args: ["-e", ${JSON.stringify(AGENT)}] }\nprovider: { preset: custom, baseUrl: "${upstream.url}", style: anthropic, apiKeyEnv: BENCH_KEY }\nmodel: kimi-k2.6\n${sandbox}`,
  });
  await until(() => sessions.every((s) => existsSync(join(s.worktree, 'up'))));
  const upMs = performance.now() - t0;
  await until(() => sessions.every((s) => existsSync(join(s.worktree, 'rtt')) && readFileSync(join(s.worktree, 'rtt'), 'utf8') !== ''));
  const texts = sessions.map((s) => readFileSync(join(s.worktree, 'rtt'), 'utf8'));
  const failed = texts.find((t) => t.startsWith('failed'));
  if (failed) throw new Error(`a model request ${failed} (${contained ? 'containers' : 'host'})`);
  const rtts = texts.map(Number);
  await engine.call('stopRun', { runId: run.id });
  await engine.waitForRun(run.id);
  await engine.call('cleanRun', { runId: run.id });
  removeContainersWith(`${LABEL_RUN}=${run.id}`);
  return { upMs, rttMs: median(rtts) };
}

try {
  await round(true); // warm-up: the image's layers and podman's caches
  const host: { upMs: number; rttMs: number }[] = [];
  const box: { upMs: number; rttMs: number }[] = [];
  for (let i = 0; i < ROUNDS; i++)
    for (const contained of i % 2 === 0 ? [false, true] : [true, false]) (contained ? box : host).push(await round(contained));
  const h = { up: median(host.map((r) => r.upMs)), rtt: median(host.map((r) => r.rttMs)) };
  const c = { up: median(box.map((r) => r.upMs)), rtt: median(box.map((r) => r.rttMs)) };
  console.log(`bench/sandbox: ${N} sessions per run, ${ROUNDS} runs per mode (${ROOT})`);
  console.log(
    `  launch → all agents up   host ${h.up.toFixed(0)} ms   containers ${c.up.toFixed(0)} ms   ratio ${(c.up / h.up).toFixed(2)}`,
  );
  console.log(
    `  model round trip (p50)   host ${h.rtt.toFixed(1)} ms   containers ${c.rtt.toFixed(1)} ms   ratio ${(c.rtt / h.rtt).toFixed(2)}`,
  );
} finally {
  await engine.close();
  await upstream.close();
}
