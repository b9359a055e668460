// bench/ui: N sessions flooding output with the real dashboard open (headless Chromium, xterm.js parsing and rendering)
// against the same flood with no client at all, in the same process and run: the agents' output rate (launch "go" →
// every agent has written its last byte and exited) with the dashboard over without (goal ≥ 0.9: a flood you are not
// looking at is not slowed by the page), the page's CPU per second during the flood, its long tasks (> 50 ms) and
// main-thread task time (CDP), the frames each tile drew, and the screens the engine sent instead of the stream.
//
//   npx tsx bench/ui.ts [--sessions 10] [--mb 2] [--renderer webgl,auto] [--focus] [--profile] [--trace]
//
// --renderer runs the page once per listed terminal renderer (Settings → Interface: auto, webgl, dom), all against the
// same baseline; `auto` picks the DOM renderer where WebGL is software (SwiftShader here). --focus focuses slot 1 first
// (it then gets the stream, under the page's flow control). --profile and --trace print where the page's main thread
// spent the flood.
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium, type Browser } from 'playwright-core';
import { Engine } from '../electron/engine/engine.ts';
import type { EngineEvent } from '../electron/shared/contract.ts';
import { floodCommand, floodPtyBytes } from '../test/fixtures/flood.ts';
import { ensureUiBuilt } from '../test/fixtures/ui-build.ts';
import { CHROMIUM_ARGS, resolveChromium } from '../test/fixtures/chromium.ts';
import { makeRepo, tempDir } from '../test/fixtures/repo.ts';
import { TICKS_PER_SEC, chromiumPids, cpuTicks, machineBusyTicks } from './proc.ts';

const { values } = parseArgs({
  options: {
    sessions: { type: 'string', default: '10' },
    mb: { type: 'string', default: '2' },
    timeout: { type: 'string', default: '100' },
    // Prints where the page's main thread spent the flood (CPU profile, self time by function).
    profile: { type: 'boolean', default: false },
    // Prints what the page's main thread did during the flood, by trace event (layout, paint, script, GC…).
    trace: { type: 'boolean', default: false },
    renderer: { type: 'string', default: 'auto' },
    focus: { type: 'boolean', default: false },
  },
});
const N = Number(values.sessions);
const RENDERERS = values.renderer.split(',').map((r) => r.trim());
for (const r of RENDERERS) if (!['auto', 'webgl', 'dom'].includes(r)) throw new Error(`--renderer: '${r}' is not auto, webgl or dom`);
const BYTES = Math.round(Number(values.mb) * 1024 * 1024);
const DEADLINE_MS = Number(values.timeout) * 1000;
const ROOT = resolve(import.meta.dirname, '..');
const UI_DIR = join(ROOT, 'dist/renderer');

// Each child waits for a line on stdin, then floods and exits: the run ends once every agent wrote its last byte (the
// engine holds each pty's other side open, so nothing queued in the kernel is lost).
const flood = floodCommand(BYTES);
const script = `process.stdin.once('data', () => { process.stdin.pause(); ${flood.args[1]} });`;
const args = ['-e', script, ...flood.args.slice(2)];
// What a reader sees per session after "go": the flood (ONLCR: \n → \r\n) plus the echoed "go\r\n".
const expected = floodPtyBytes(BYTES) + 4;
const mb = (n: number) => n / 1024 / 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const templateText = (repo: string, name: string) =>
  JSON.stringify({
    name,
    repo,
    workspace: 'shared',
    count: N,
    agent: { preset: 'shell', command: flood.command, args },
    provider: { preset: 'custom', baseUrl: 'http://127.0.0.1:9' },
  });

// Cleanup registry: everything started is closed on the way out, also on timeout or error.
const cleanups: Array<() => Promise<unknown> | unknown> = [];
async function cleanup(): Promise<void> {
  while (cleanups.length) {
    const fn = cleanups.pop()!;
    await Promise.race([
      Promise.resolve()
        .then(fn)
        .catch(() => {}),
      sleep(5_000),
    ]);
  }
}
const watchdog = setTimeout(
  () => {
    console.error(`bench/ui: exceeded ${DEADLINE_MS / 1000}s — giving up`);
    void cleanup().finally(() => process.exit(2));
  },
  DEADLINE_MS * (1 + RENDERERS.length) + 15_000,
);

function tempRepo(): string {
  const repo = makeRepo();
  cleanups.push(() => rmSync(repo, { recursive: true, force: true }));
  return repo;
}

async function tempEngine(staticDir?: string): Promise<Engine> {
  const dataDir = tempDir('flotilla-bench-ui-');
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const home = tempDir('flotilla-bench-ui-home-');
  cleanups.push(() => rmSync(home, { recursive: true, force: true }));
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home };
  delete env.CLAUDECODE;
  const engine = await Engine.create({ dataDir, env, ...(staticDir ? { staticDir } : {}) });
  cleanups.push(() => engine.close());
  return engine;
}

function runEnded(engine: Engine, runId: string): Promise<void> {
  return new Promise((resolve) =>
    engine.on('event', (e: EngineEvent) => e.event === 'run' && e.run.id === runId && e.run.state === 'ended' && resolve()),
  );
}

interface BaselineResult {
  mbps: number;
  /** CPU seconds (all cores) the machine spent per MB the agents wrote. */
  cpuPerMb: number;
}

/** Baseline: the same flood with no client (the engine's mirror is the only reader): go → the run has ended. */
async function noClient(): Promise<BaselineResult> {
  const repo = tempRepo();
  const engine = await tempEngine();
  const { run, sessions } = await engine.call('launch', { templateText: templateText(repo, 'bench-ui-baseline') });
  const ended = runEnded(engine, run.id);
  await waitStarted(
    engine,
    sessions.map((s) => s.id),
  );
  const t0 = performance.now();
  const busy0 = machineBusyTicks();
  for (const s of sessions) engine.scheduler.input(s.id, 'go\r');
  await Promise.race([ended, sleep(DEADLINE_MS / 2).then(() => Promise.reject(new Error('baseline flood timed out')))]);
  const secs = (performance.now() - t0) / 1000;
  const busy = (machineBusyTicks() - busy0) / TICKS_PER_SEC;
  const total = mb(N * expected);
  await cleanup();
  return { mbps: total / secs, cpuPerMb: busy / total };
}

/** Every session's agent runs (its pty is there to type "go" into). */
async function waitStarted(engine: Engine, ids: string[]): Promise<void> {
  const deadline = performance.now() + 30_000;
  while (!ids.every((id) => engine.registry.liveSession(id)?.terminal.agent?.running)) {
    if (performance.now() > deadline) throw new Error('the agents did not start');
    await sleep(50);
  }
  await sleep(300);
}

interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }>;
  samples: number[];
  timeDeltas: number[];
}

/** Self time per function (top 25) and per script, from a CDP CPU profile. */
function printProfile(p: CpuProfile): void {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const fn = new Map<string, number>();
  for (const [id, us] of self) {
    const c = byId.get(id)!.callFrame;
    const key = `${c.functionName || '(anonymous)'} ${c.url.split('/').pop() ?? ''}:${c.lineNumber}`;
    fn.set(key, (fn.get(key) ?? 0) + us);
  }
  console.log(`profile: ${(total / 1e6).toFixed(2)} s sampled; self time by function:`);
  for (const [k, us] of [...fn].sort((a, b) => b[1] - a[1]).slice(0, 25))
    console.log(`  ${((100 * us) / total).toFixed(1).padStart(5)} %  ${k}`);
}

interface TraceEvent {
  name: string;
  ph: string;
  ts: number;
  dur?: number;
  pid: number;
  tid: number;
  args?: { name?: string };
}

/** Time by event name on the page's main thread (CrRendererMain), counting only the outermost events of each task. */
function printTrace(events: TraceEvent[]): void {
  const names = events.filter((e) => e.ph === 'M' && e.name === 'thread_name');
  const main = names.find((e) => e.args?.name === 'CrRendererMain');
  if (!main) return console.log('trace: no CrRendererMain thread');
  const own = events
    .filter((e) => e.pid === main.pid && e.tid === main.tid && e.ph === 'X' && e.dur !== undefined)
    .sort((a, b) => a.ts - b.ts);
  const by = new Map<string, number>();
  let task: TraceEvent | null = null;
  let wall = 0;
  for (const e of own) {
    if (e.name === 'RunTask' || e.name === 'ThreadControllerImpl::RunTask') {
      if (!task || e.ts >= task.ts + task.dur!) {
        task = e;
        wall += e.dur!;
      }
      continue;
    }
    // Direct children of a task: the first level below RunTask.
    if (task && e.ts >= task.ts && e.ts + e.dur! <= task.ts + task.dur!) {
      const parent = own.find(
        (p) => p !== task && p !== e && p.name !== 'RunTask' && p.ts <= e.ts && p.ts + p.dur! >= e.ts + e.dur! && p.ts >= task!.ts,
      );
      if (!parent) by.set(e.name, (by.get(e.name) ?? 0) + e.dur!);
    }
  }
  console.log(`trace: main thread busy ${(wall / 1e6).toFixed(2)} s in tasks; by top-level event:`);
  for (const [k, us] of [...by].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`  ${(us / 1e3).toFixed(0).padStart(7)} ms  ${k}`);
}

interface UiResult {
  /** The run ended before the deadline. */
  finished: boolean;
  /** Screens the engine sent the page instead of the stream. */
  screens: number;
  /** Chromium's CPU during the flood, in seconds per second (1 = one core). */
  chromiumCpuPerSec: number;
  mbps: number;
  secs: number;
  longTasks: number;
  longestMs: number;
  longTotalMs: number;
  /** When each long task began (after "go") and how long it took. */
  longAt: string[];
  cdpTaskSecs: number | null;
  heapMb: number | null;
  cdpHeapMb: number | null;
  tilesShowFlood: number;
  webglContexts: number;
  /** CPU seconds per MB: the whole machine, and Chromium's processes alone. */
  cpuPerMb: number;
  chromiumCpuPerMb: number;
  /** Frames each terminal drew per second during the flood, on average. */
  rendersPerTileSec: number;
  pageErrors: string[];
}

async function throughUi(renderer: string): Promise<UiResult> {
  ensureUiBuilt();
  const repo = tempRepo();
  const engine = await tempEngine(UI_DIR);
  await engine.call('saveSettings', { settings: { ui: { terminalRenderer: renderer as 'auto' | 'webgl' | 'dom' } } });
  const browser: Browser = await chromium.launch({ executablePath: (await resolveChromium()).path, headless: true, args: CHROMIUM_ARGS });
  cleanups.push(() => browser.close());
  const context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
  const page = await context.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => m.type() === 'error' && pageErrors.push(`console: ${m.text()}`));

  // The page's subscriptions, read off its WebSocket(s).
  const subscribed = new Set<string>();
  page.on('websocket', (ws) =>
    ws.on('framesent', ({ payload }) => {
      if (typeof payload !== 'string' || payload[0] !== '{') return;
      try {
        const msg = JSON.parse(payload) as { cmd?: string; args?: { sessionId?: string } };
        const id = msg.args?.sessionId;
        if (!id) return;
        if (msg.cmd === 'subscribe') subscribed.add(id);
        else if (msg.cmd === 'unsubscribe') subscribed.delete(id);
      } catch {
        /* not ours */
      }
    }),
  );

  await page.goto(engine.uiUrl);
  await page.getByTestId('launch-button').waitFor({ state: 'visible', timeout: 20_000 });

  const { run, sessions } = await engine.call('launch', { templateText: templateText(repo, 'bench-ui') });
  const ended = runEnded(engine, run.id);
  const slots = sessions.map((s) => s.slot);
  // Tiles visible, terminals opened (xterm inside), and each session subscribed by the page.
  for (const slot of slots) {
    await page.getByTestId(`tile-${slot}`).waitFor({ state: 'visible', timeout: 20_000 });
    await page.getByTestId(`terminal-${slot}`).locator('.xterm').first().waitFor({ state: 'attached', timeout: 20_000 });
  }
  const subDeadline = performance.now() + 20_000;
  while (!sessions.every((s) => subscribed.has(s.id))) {
    if (performance.now() > subDeadline)
      throw new Error(`only ${sessions.filter((s) => subscribed.has(s.id)).length}/${N} sessions subscribed by the page`);
    await sleep(50);
  }
  if (values.focus) await page.getByTestId(`tile-${slots[0]}`).click();
  await waitStarted(
    engine,
    sessions.map((s) => s.id),
  );
  // Let subscribe replies, snapshots and the debounced fit/resize settle.
  await sleep(600);

  const cdp = await context.newCDPSession(page);
  await cdp.send('Performance.enable');
  const metric = async (name: string): Promise<number | null> => {
    const { metrics } = (await cdp.send('Performance.getMetrics')) as { metrics: Array<{ name: string; value: number }> };
    return metrics.find((m) => m.name === name)?.value ?? null;
  };
  await page.evaluate(() => {
    const w = window as unknown as { __benchLong: Array<{ start: number; duration: number }>; __benchGo: number };
    w.__benchLong = [];
    w.__benchGo = Infinity;
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) w.__benchLong.push({ start: e.startTime, duration: e.duration });
    }).observe({ type: 'longtask', buffered: true });
  });
  const screensShown = async () => (await page.evaluate('window.__flotilla.screens ? window.__flotilla.screens() : 0')) as number;
  const screensBefore = await screensShown();
  const taskBefore = await metric('TaskDuration');
  const rendersBefore = (await page.evaluate('window.__flotilla.renders()')) as number;
  const traceEvents: TraceEvent[] = [];
  let traceDone: Promise<void> | null = null;
  if (values.trace) {
    cdp.on('Tracing.dataCollected', (e) => void traceEvents.push(...(e.value as unknown as TraceEvent[])));
    traceDone = new Promise((r) => cdp.once('Tracing.tracingComplete', () => r()));
    await cdp.send('Tracing.start', {
      categories: 'devtools.timeline,disabled-by-default-devtools.timeline,v8',
      transferMode: 'ReportEvents',
    });
  }
  if (values.profile) {
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 500 });
    await cdp.send('Profiler.start');
  }

  await page.evaluate(() => ((window as unknown as { __benchGo: number }).__benchGo = performance.now()));
  const chrome = chromiumPids((await resolveChromium()).path);
  const chrome0 = cpuTicks(chrome);
  const busy0 = machineBusyTicks();
  const t0 = performance.now();
  for (const s of sessions) engine.scheduler.input(s.id, 'go\r');

  // Done: every agent wrote its last byte and exited (the run ended).
  const finished = await Promise.race([ended.then(() => true), sleep(DEADLINE_MS * 0.6).then(() => false)]);
  const busySecs = (machineBusyTicks() - busy0) / TICKS_PER_SEC;
  const chromeSecs = (cpuTicks(chrome) - chrome0) / TICKS_PER_SEC;
  const secs = (performance.now() - t0) / 1000;
  const screens = (await screensShown()) - screensBefore;
  const taskAfter = await metric('TaskDuration');
  const renders = ((await page.evaluate('window.__flotilla.renders()')) as number) - rendersBefore;
  if (traceDone) {
    await cdp.send('Tracing.end');
    await traceDone;
    printTrace(traceEvents);
  }
  if (values.profile) printProfile(((await cdp.send('Profiler.stop')) as { profile: CpuProfile }).profile);
  const cdpHeap = await metric('JSHeapUsedSize');

  const long = await page.evaluate(() => {
    const w = window as unknown as { __benchLong: Array<{ start: number; duration: number }>; __benchGo: number };
    return w.__benchLong
      .filter((e) => e.start >= w.__benchGo && e.duration > 50)
      .map((e) => ({ at: e.start - w.__benchGo, duration: e.duration }));
  });
  const heap = await page.evaluate(
    () => (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? null,
  );
  // Sanity check: the tiles' visible rows show flood lines.
  let tilesShowFlood = 0;
  for (const slot of slots) {
    const text =
      (await page
        .getByTestId(`terminal-${slot}`)
        .locator('.xterm-rows, .xterm-screen')
        .first()
        .textContent()
        .catch(() => '')) ?? '';
    if (text.includes('flotilla flood')) tilesShowFlood++;
  }
  // The WebGL renderer draws no text into the DOM: report that rather than "0 tiles".
  if (tilesShowFlood === 0) tilesShowFlood = -1;

  const webglContexts = (await page.evaluate('window.__flotilla ? window.__flotilla.webglContexts() : -1')) as number;
  await cleanup();
  const rendersPerTileSec = renders / N / secs;
  const doneMb = mb(N * expected);
  return {
    finished,
    screens,
    chromiumCpuPerSec: chromeSecs / secs,
    rendersPerTileSec,
    cpuPerMb: busySecs / doneMb,
    chromiumCpuPerMb: chromeSecs / doneMb,
    mbps: doneMb / secs,
    secs,
    longTasks: long.length,
    longestMs: long.length ? Math.max(...long.map((l) => l.duration)) : 0,
    longTotalMs: long.reduce((a, b) => a + b.duration, 0),
    longAt: long.map((l) => `${(l.at / 1000).toFixed(2)} s: ${l.duration.toFixed(0)} ms`),
    cdpTaskSecs: taskBefore !== null && taskAfter !== null ? taskAfter - taskBefore : null,
    heapMb: heap === null ? null : mb(heap),
    cdpHeapMb: cdpHeap === null ? null : mb(cdpHeap),
    tilesShowFlood,
    webglContexts,
    pageErrors,
  };
}

try {
  const browserUsed = await resolveChromium();
  console.log(
    `bench/ui: ${N} sessions × ${mb(BYTES).toFixed(1)} MB each (Node ${process.version}, ${browserUsed.path} from ${browserUsed.source})`,
  );
  const base = await noClient();
  const cores = (await import('node:os')).availableParallelism();
  console.log(
    `no client (the engine's mirror only), baseline:            ${base.mbps.toFixed(1)} MB/s aggregate written by the agents, ${(base.cpuPerMb * 1000).toFixed(0)} ms CPU per MB (machine, ${cores} cores)`,
  );
  let unfinished = 0;
  for (const renderer of RENDERERS) {
    const ui = await throughUi(renderer);
    const f = (n: number | null, d = 1) => (n === null ? 'n/a' : n.toFixed(d));
    console.log(
      `── renderer setting '${renderer}': ${ui.webglContexts > 0 ? `WebGL (${ui.webglContexts} contexts)` : 'DOM'}${values.focus ? ', slot 1 focused' : ', no tile focused'}`,
    );
    console.log(
      `dashboard open:                                            ${ui.mbps.toFixed(1)} MB/s aggregate written by the agents (${ui.secs.toFixed(2)} s)`,
    );
    console.log(`ratio dashboard open / no client:                          ${(ui.mbps / base.mbps).toFixed(2)}`);
    console.log(`Chromium CPU during the flood:                             ${(ui.chromiumCpuPerSec * 100).toFixed(0)} % of a core`);
    console.log(
      `CPU per MB:                                                ${(ui.cpuPerMb * 1000).toFixed(0)} ms (machine), ${(ui.chromiumCpuPerMb * 1000).toFixed(0)} ms of it Chromium's`,
    );
    console.log(
      `long tasks > 50 ms during the flood:                        ${ui.longTasks} (longest ${f(ui.longestMs, 0)} ms, total ${f(ui.longTotalMs, 0)} ms)`,
    );
    if (ui.longAt.length) console.log(`  at ${ui.longAt.join(', ')} (the flood took ${ui.secs.toFixed(2)} s)`);
    console.log(`screens the engine sent instead of the stream:             ${ui.screens}`);
    console.log(`frames drawn per tile per second during the flood:        ${ui.rendersPerTileSec.toFixed(1)}`);
    console.log(`main-thread task time during the flood (CDP TaskDuration): ${f(ui.cdpTaskSecs, 2)} s`);
    console.log(
      `page JS heap after the flood:                              ${f(ui.heapMb)} MB (performance.memory), ${f(ui.cdpHeapMb)} MB (CDP JSHeapUsedSize)`,
    );
    console.log(
      `tiles showing flood lines in their DOM rows:               ${ui.tilesShowFlood < 0 ? 'none (non-DOM renderer?)' : `${ui.tilesShowFlood}/${N}`}`,
    );
    if (!ui.finished) console.log('NOT finished before the deadline: the rate counts the whole flood over the time waited');
    if (ui.pageErrors.length) console.log(`page errors:\n  ${ui.pageErrors.slice(0, 5).join('\n  ')}`);
    if (!ui.finished) unfinished++;
  }
  clearTimeout(watchdog);
  process.exit(unfinished ? 1 : 0);
} catch (err) {
  console.error(`bench/ui failed: ${(err as Error).stack ?? err}`);
  await cleanup();
  process.exit(1);
}
