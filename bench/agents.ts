// bench/agents: is Flotilla light next to what it runs? Ten real Claude Code sessions (the pinned CLI from npm) answer
// long prompts streamed at K2's pace (one event every --pace ms, ~40 tokens/s at 25) by the loopback stand-in, through
// a detached engine (`flotilla open`: the engine alone in its process), with the dashboard open in Chromium (software
// rendering, as on these machines). Once every session is streaming, a window of --seconds: CPU (% of one core) and
// memory (PSS) of the engine, of Chromium (all its processes) and of the agents (every process under the engine), and
// the ratios engine / agents and Chromium / agents — the agents being the baseline in the same run.
//
//   npx tsx bench/agents.ts [--sessions 10] [--seconds 30] [--words 4000] [--pace 25]
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { readEngineFile } from '../electron/engine/daemon.ts';
import { HttpEngineClient } from '../electron/shared/client.ts';
import { CHROMIUM_ARGS, resolveChromium } from '../test/fixtures/chromium.ts';
import { makeRepo, tempDir } from '../test/fixtures/repo.ts';
import { ensureUiBuilt } from '../test/fixtures/ui-build.ts';
import { startUpstream } from '../test/upstream/index.ts';
import { TICKS_PER_SEC, chromiumPids, cpuTicks, pssMb } from './proc.ts';

const { values } = parseArgs({
  options: {
    sessions: { type: 'string', default: '10' },
    seconds: { type: 'string', default: '30' },
    words: { type: 'string', default: '4000' },
    pace: { type: 'string', default: '25' },
  },
});
const N = Number(values.sessions);
const SECONDS = Number(values.seconds);
const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin/flotilla.js');
const KEY = 'sk-bench-agents';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every process below `root` (children, their children…), from /proc. */
function descendants(root: number): number[] {
  const kids = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      kids.set(ppid, [...(kids.get(ppid) ?? []), Number(d)]);
    } catch {
      // gone
    }
  }
  const out: number[] = [];
  const todo = [...(kids.get(root) ?? [])];
  while (todo.length) {
    const p = todo.pop()!;
    out.push(p);
    todo.push(...(kids.get(p) ?? []));
  }
  return out;
}

ensureUiBuilt();
const dataDir = tempDir('flotilla-bench-agents-');
const home = tempDir('flotilla-bench-agents-home-');
const upstream = await startUpstream({ apiKey: KEY, chunkDelayMs: Number(values.pace) });
const env: NodeJS.ProcessEnv = {
  ...process.env,
  PATH: `${join(ROOT, 'node_modules/.bin')}:${process.env.PATH}`,
  HOME: home,
  BENCH_KEY: KEY,
};
delete env.CLAUDECODE;
const flotilla = (...args: string[]) =>
  spawnSync(process.execPath, [BIN, ...args, '--data-dir', dataDir], { env, encoding: 'utf8', timeout: 90_000 });
const open = flotilla('open', '--no-browser');
if (open.status !== 0) throw new Error(`flotilla open failed: ${open.stderr}`);
const chrome = await resolveChromium();
const browser = await chromium.launch({ executablePath: chrome.path, args: CHROMIUM_ARGS });
try {
  const info = (await readEngineFile(dataDir))!;
  const api = new HttpEngineClient({ origin: info.origin, token: info.token }, fetch);
  const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  await page.goto(`${info.origin}/?token=${info.token}`);
  const { run } = await api.call('launch', {
    templateText: JSON.stringify({
      name: 'bench agents',
      repo: makeRepo(),
      count: N,
      agent: { preset: 'claude-code' },
      provider: { preset: 'custom', baseUrl: upstream.anthropicBaseUrl, apiKeyEnv: 'BENCH_KEY' },
      model: 'kimi-k2.6',
      tasks: Array.from({ length: N }, () => `LONG ${values.words}`),
    }),
  });
  // Every session streaming its answer (a request in flight with output flowing), then the window.
  const streaming = async () => {
    const spend = await api.call('spend', { runId: run.id });
    return spend.sessions.filter((s) => s.inFlight > 0 && s.outputTokens > 0).length;
  };
  const until = Date.now() + 180_000;
  while ((await streaming()) < N) {
    if (Date.now() > until) throw new Error(`only ${await streaming()} of ${N} sessions streaming after 180 s`);
    await sleep(250);
  }
  const groups = () => ({ engine: [info.pid], chromium: chromiumPids(chrome.path), agents: descendants(info.pid) });
  const g0 = groups();
  const t0 = { engine: cpuTicks(g0.engine), chromium: cpuTicks(g0.chromium), agents: cpuTicks(g0.agents), at: performance.now() };
  await sleep(SECONDS * 1000);
  const g1 = groups();
  const secs = (performance.now() - t0.at) / 1000;
  const pct = (ticks: number) => (100 * ticks) / TICKS_PER_SEC / secs;
  const cpu = {
    engine: pct(cpuTicks(g1.engine) - t0.engine),
    chromium: pct(cpuTicks(g1.chromium) - t0.chromium),
    agents: pct(cpuTicks(g1.agents) - t0.agents),
  };
  const mem = { engine: pssMb(g1.engine), chromium: pssMb(g1.chromium), agents: pssMb(g1.agents) };
  const still = await streaming();
  console.log(
    `bench/agents: ${N} Claude Code sessions streaming LONG ${values.words} at one event per ${values.pace} ms, dashboard open in Chromium; window ${secs.toFixed(1)} s (${still}/${N} still streaming at its end)`,
  );
  console.log('             CPU % of a core   memory PSS MB');
  for (const k of ['engine', 'chromium', 'agents'] as const)
    console.log(`${k.padEnd(12)} ${cpu[k].toFixed(1).padStart(16)} ${mem[k].toFixed(0).padStart(15)}`);
  console.log(
    `ratio to the agents: engine ${(cpu.engine / cpu.agents).toFixed(3)} CPU, ${(mem.engine / mem.agents).toFixed(3)} memory; Chromium ${(cpu.chromium / cpu.agents).toFixed(3)} CPU, ${(mem.chromium / mem.agents).toFixed(3)} memory`,
  );
  if (still < N) console.log('  note: some sessions finished inside the window — raise --words for a window of streaming only');
} finally {
  await browser.close();
  flotilla('stop');
  await upstream.close();
  for (const d of [dataDir, home]) rmSync(d, { recursive: true, force: true });
}
