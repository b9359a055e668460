// bench/soak: does the engine stay flat over an hour and over a day of runs? Not part of `npm test`.
//
//   npx tsx bench/soak.ts runs [--runs 40] [--sessions 10] [--agent claude|shell]
//   npx tsx bench/soak.ts live [--minutes 60] [--sessions 10] [--reload-every 5] [--flood-every 7] [--prompt-every 20]
//
// One `flotilla serve` (the bundle, in its own process, so its RSS is the engine's alone) against a paced stand-in.
// `runs`: runs of N batch sessions back to back, each cleaned after it ends; samples after every run. `live`: N
// interactive Claude Code sessions with the dashboard open in Chromium; a new prompt every few seconds, a flooding shell
// run now and then, the page reloaded every few minutes; samples every minute. Both print the samples (engine RSS, open
// descriptors, threads, store and log size, Chromium PSS) and the growth per run / per hour over the second half, and
// exit 1 when memory or descriptors keep growing: `runs` when the engine's RSS after the last run is more than 20 MB
// above where it was after the first, or descriptors grew by more than 8; `live` when RSS grows faster than 20 MB/h over
// the second half, or descriptors grew by more than 8.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type Browser, chromium } from 'playwright-core';
import WebSocket from 'ws';
import { HttpEngineClient } from '../electron/shared/client.ts';
import { type SessionInfo, isFinalStatus } from '../electron/shared/contract.ts';
import { CHROMIUM_ARGS, resolveChromium } from '../test/fixtures/chromium.ts';
import { floodCommand } from '../test/fixtures/flood.ts';
import { makeRepo, tempDir } from '../test/fixtures/repo.ts';
import { ensureUiBuilt } from '../test/fixtures/ui-build.ts';
import { type Upstream, startUpstream } from '../test/upstream/index.ts';
import { chromiumPids, pssMb } from './proc.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    runs: { type: 'string', default: '40' },
    sessions: { type: 'string', default: '10' },
    agent: { type: 'string', default: 'claude' },
    minutes: { type: 'string', default: '60' },
    'reload-every': { type: 'string', default: '5' },
    'flood-every': { type: 'string', default: '7' },
    'prompt-every': { type: 'string', default: '20' },
  },
});
const MODE = positionals[0];
if (MODE !== 'runs' && MODE !== 'live') throw new Error('usage: npx tsx bench/soak.ts runs|live [options] (see the head of bench/soak.ts)');
if (values.agent !== 'claude' && values.agent !== 'shell') throw new Error(`--agent: '${values.agent}' is not claude or shell`);
const N = Number(values.sessions);
const ROOT = resolve(import.meta.dirname, '..');
const KEY = 'sk-soak';
const RSS_LIMIT_MB = 20;
const FD_LIMIT = 8;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const cleanups: (() => unknown)[] = [];
async function cleanup(): Promise<void> {
  for (const fn of cleanups.splice(0).reverse()) {
    try {
      await Promise.race([fn(), sleep(10_000)]);
    } catch {
      // best effort on the way out
    }
  }
}

interface Sample {
  label: string;
  /** The engine's V8 heap in use after a full GC (through its inspector): what it really keeps. */
  heapMb: number;
  rssMb: number;
  fds: number;
  threads: number;
  storeMb: number;
  logsMb: number;
  chromiumMb: number | null;
}

function dirMb(dir: string, match: (f: string) => boolean = () => true): number {
  let bytes = 0;
  try {
    for (const f of readdirSync(dir)) if (match(f)) bytes += statSync(join(dir, f)).size;
  } catch {
    // not there yet
  }
  return bytes / 1024 / 1024;
}

/** The engine's inspector (loopback): a full GC, then the heap in use. */
class Inspector {
  private next = 1;
  private readonly waiting = new Map<number, (r: any) => void>();
  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (d) => {
      const m = JSON.parse(String(d)) as { id?: number; result?: unknown };
      if (m.id !== undefined) this.waiting.get(m.id)?.(m.result);
    });
  }
  static async connect(url: string): Promise<Inspector> {
    const ws = new WebSocket(url);
    await new Promise((r, j) => ws.once('open', r).once('error', j));
    cleanups.push(() => ws.close());
    return new Inspector(ws);
  }
  call(method: string): Promise<any> {
    const id = this.next++;
    return new Promise((r) => {
      this.waiting.set(id, r);
      this.ws.send(JSON.stringify({ id, method }));
    });
  }
  async heapAfterGcMb(): Promise<number> {
    await this.call('HeapProfiler.collectGarbage');
    return (await this.call('Runtime.getHeapUsage')).usedSize / 1024 / 1024;
  }
}

async function sample(label: string, engine: Engine, dataDir: string, chromiumExe: string | null): Promise<Sample> {
  const heapMb = await engine.inspector.heapAfterGcMb();
  const pid = engine.child.pid!;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
  return {
    label,
    heapMb,
    rssMb: kb('VmRSS') / 1024,
    fds: readdirSync(`/proc/${pid}/fd`).length,
    threads: kb('Threads'),
    storeMb: dirMb(dataDir, (f) => f.startsWith('flotilla.db')),
    logsMb: dirMb(join(dataDir, 'logs')),
    chromiumMb: chromiumExe ? pssMb(chromiumPids(chromiumExe)) : null,
  };
}

function printTable(samples: Sample[]): void {
  const f = (n: number) => n.toFixed(1).padStart(7);
  console.log(
    `${'sample'.padEnd(12)} ${'heap MB'.padStart(7)} ${'RSS MB'.padStart(7)} ${'fds'.padStart(5)} ${'thr'.padStart(4)} ${'store'.padStart(7)} ${'logs'.padStart(7)} ${'Chr PSS'.padStart(8)}`,
  );
  for (const s of samples)
    console.log(
      `${s.label.padEnd(12)} ${f(s.heapMb)} ${f(s.rssMb)} ${String(s.fds).padStart(5)} ${String(s.threads).padStart(4)} ${f(s.storeMb)} ${f(s.logsMb)} ${s.chromiumMb === null ? '       —' : f(s.chromiumMb).padStart(8)}`,
    );
}

/** Least-squares slope of y over x. */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  if (n < 2) return 0;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

interface Engine {
  child: ChildProcess;
  origin: string;
  token: string;
  inspector: Inspector;
}

/** `flotilla serve` from the bundle (built if missing) with its inspector on loopback; its URL and token from its first line. */
async function startEngine(dataDir: string, env: NodeJS.ProcessEnv): Promise<Engine> {
  if (!existsSync(join(ROOT, 'dist/electron/cli.mjs')))
    execFileSync(process.execPath, [join(ROOT, 'build/build.mjs')], { stdio: 'inherit' });
  const child = spawn(process.execPath, ['--inspect=127.0.0.1:0', join(ROOT, 'bin/flotilla.js'), 'serve', '--data-dir', dataDir], {
    env: { ...env, FLOTILLA_CLI: 'bundle' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  cleanups.push(async () => {
    child.kill('SIGTERM');
    await exited;
  });
  const inspectorUrl = new Promise<string>((res) => {
    let err = '';
    child.stderr!.on('data', (d) => {
      err += d;
      const m = /Debugger listening on (ws:\/\/\S+)/.exec(err);
      if (m) res(m[1]!);
    });
  });
  const url = await new Promise<URL>((res, rej) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /Flotilla is running: (\S+)/.exec(out);
      if (m) res(new URL(m[1]!));
    });
    child.once('exit', (code) => rej(new Error(`flotilla serve exited ${code} before it answered`)));
  });
  return { child, origin: url.origin, token: url.searchParams.get('token')!, inspector: await Inspector.connect(await inspectorUrl) };
}

function engineEnv(): NodeJS.ProcessEnv {
  const home = tempDir('flotilla-soak-home-');
  cleanups.push(() => rmSync(home, { recursive: true, force: true }));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${join(ROOT, 'node_modules/.bin')}:${process.env.PATH}`,
    HOME: home,
    SOAK_KEY: KEY,
  };
  delete env.CLAUDECODE;
  return env;
}

async function waitRun(api: HttpEngineClient, runId: string, timeoutMs: number): Promise<SessionInfo[]> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const sessions = await api.call('listSessions', { runId });
    if (sessions.length > 0 && sessions.every((s) => isFinalStatus(s.status))) return sessions;
    if (Date.now() > until)
      throw new Error(`run ${runId} did not end in ${timeoutMs / 1000} s: ${sessions.map((s) => s.status).join(', ')}`);
    await sleep(500);
  }
}

/** A stand-in paced at `chunkDelayMs` per event, a data dir, a repository and the engine, each removed on the way out. */
async function setUp(
  chunkDelayMs: number,
): Promise<{ upstream: Upstream; dataDir: string; repo: string; engine: Engine; api: HttpEngineClient }> {
  const upstream = await startUpstream({ apiKey: KEY, chunkDelayMs });
  cleanups.push(() => upstream.close());
  const dataDir = tempDir('flotilla-soak-data-');
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const repo = makeRepo();
  cleanups.push(() => rmSync(repo, { recursive: true, force: true }));
  const engine = await startEngine(dataDir, engineEnv());
  return { upstream, dataDir, repo, engine, api: new HttpEngineClient({ origin: engine.origin, token: engine.token }, fetch) };
}

async function soakRuns(): Promise<boolean> {
  const RUNS = Number(values.runs);
  const { upstream, dataDir, repo, engine, api } = await setUp(5);
  const agent =
    values.agent === 'claude'
      ? { preset: 'claude-code-batch' }
      : { preset: 'shell', command: 'sh', args: ['-c', 'echo soak-$FLOTILLA_SLOT; sleep 0.2'] };
  const samples: Sample[] = [await sample('start', engine, dataDir, null)];
  console.log(
    `bench/soak runs: ${RUNS} runs of ${N} ${values.agent} sessions, each cleaned after it ends (engine pid ${engine.child.pid})`,
  );
  for (let i = 1; i <= RUNS; i++) {
    const templateText = JSON.stringify({
      name: `soak ${i}`,
      repo,
      count: N,
      agent,
      provider: { preset: 'custom', baseUrl: upstream.anthropicBaseUrl, apiKeyEnv: 'SOAK_KEY' },
      model: 'kimi-k2.6',
      tasks: Array.from({ length: N }, (_, k) => `WRITE soak-${k}.txt run ${i}\nLONG 80\nSAY done`),
    });
    const { run } = await api.call('launch', { templateText });
    const ended = await waitRun(api, run.id, 300_000);
    const bad = ended.filter((s) => s.status !== 'done');
    if (bad.length)
      console.log(`  run ${i}: ${bad.length} session(s) ended ${bad.map((s) => `${s.status} (${s.statusDetail})`).join(', ')}`);
    await api.call('cleanRun', { runId: run.id });
    samples.push(await sample(`run ${i}`, engine, dataDir, null));
    const at = samples.at(-1)!;
    if (i % 5 === 0 || i === 1)
      console.log(`  after run ${i}: heap ${at.heapMb.toFixed(1)} MB, RSS ${at.rssMb.toFixed(1)} MB, ${at.fds} fds`);
  }
  printTable(samples.filter((_, i) => i <= 1 || i % 5 === 0 || i === samples.length - 1));
  const first = samples[1]!;
  const last = samples.at(-1)!;
  const half = samples.slice(Math.ceil(samples.length / 2));
  const heapPerRun = slope(
    half.map((_, i) => i),
    half.map((s) => s.heapMb),
  );
  const perRun = slope(
    half.map((_, i) => i),
    half.map((s) => s.rssMb),
  );
  console.log(
    `RSS after run 1: ${first.rssMb.toFixed(1)} MB, after run ${RUNS}: ${last.rssMb.toFixed(1)} MB (${(last.rssMb - first.rssMb).toFixed(1)} MB; goal ≤ ${RSS_LIMIT_MB}); ` +
      `second half ${perRun.toFixed(2)} MB RSS and ${heapPerRun.toFixed(3)} MB heap per run (heap after GC ${first.heapMb.toFixed(1)} → ${last.heapMb.toFixed(1)} MB); fds ${first.fds} → ${last.fds}; store ${last.storeMb.toFixed(2)} MB, logs ${last.logsMb.toFixed(2)} MB`,
  );
  return last.rssMb - first.rssMb <= RSS_LIMIT_MB && last.fds - first.fds <= FD_LIMIT;
}

async function soakLive(): Promise<boolean> {
  const MINUTES = Number(values.minutes);
  ensureUiBuilt();
  const { upstream, dataDir, repo, engine, api } = await setUp(30);
  const chrome = await resolveChromium();
  const browser: Browser = await chromium.launch({ executablePath: chrome.path, args: CHROMIUM_ARGS });
  cleanups.push(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  await page.goto(`${engine.origin}/?token=${engine.token}`);

  const { run } = await api.call('launch', {
    templateText: JSON.stringify({
      name: 'soak live',
      repo,
      count: N,
      agent: { preset: 'claude-code' },
      provider: { preset: 'custom', baseUrl: upstream.anthropicBaseUrl, apiKeyEnv: 'SOAK_KEY' },
      model: 'kimi-k2.6',
      tasks: Array.from({ length: N }, (_, k) => `WRITE start-${k}.txt hello\nSAY ready`),
    }),
  });
  const sessions = (await api.call('listSessions', { runId: run.id })).map((s) => s.id);
  const flood = floodCommand(5 * 1024 * 1024);
  const started = Date.now();
  const minute = () => (Date.now() - started) / 60_000;
  const samples: Sample[] = [await sample('0 min', engine, dataDir, chrome.path)];
  let nextSample = 1;
  let nextReload = Number(values['reload-every']);
  let nextFlood = Number(values['flood-every']);
  let prompts = 0;
  let turn = 0;
  console.log(`bench/soak live: ${N} Claude Code sessions for ${MINUTES} min, dashboard open (engine pid ${engine.child.pid})`);
  while (minute() < MINUTES) {
    // A prompt to the next idle session: typed, seen on its screen, then Enter (a burst would be read as a paste).
    const id = sessions[turn++ % sessions.length]!;
    const info = (await api.call('listSessions', { runId: run.id })).find((s) => s.id === id)!;
    if (info.status === 'idle') {
      const text = `LONG ${200 + (prompts % 5) * 100}`;
      await api.call('input', { sessionId: id, data: text });
      const until = Date.now() + 10_000;
      while (Date.now() < until && !(await api.call('snapshot', { sessionId: id })).data.includes(text)) await sleep(200);
      await api.call('input', { sessionId: id, data: '\r' });
      prompts++;
    }
    if (minute() >= nextFlood) {
      nextFlood += Number(values['flood-every']);
      const r = await api.call('launch', {
        templateText: JSON.stringify({
          name: 'soak flood',
          repo,
          workspace: 'shared',
          agent: { preset: 'shell', command: flood.command, args: flood.args },
          provider: { preset: 'custom', baseUrl: 'http://127.0.0.1:9' },
        }),
      });
      await waitRun(api, r.run.id, 120_000);
      await api.call('cleanRun', { runId: r.run.id });
    }
    if (minute() >= nextReload) {
      nextReload += Number(values['reload-every']);
      await page.reload();
    }
    if (minute() >= nextSample) {
      samples.push(await sample(`${nextSample} min`, engine, dataDir, chrome.path));
      if (nextSample % 5 === 0) console.log(`  ${nextSample} min: RSS ${samples.at(-1)!.rssMb.toFixed(1)} MB, ${prompts} prompts`);
      nextSample++;
    }
    await sleep((Number(values['prompt-every']) * 1000) / N);
  }
  await api.call('stopRun', { runId: run.id });
  printTable(samples.filter((_, i) => i % 5 === 0 || i === samples.length - 1));
  const half = samples.slice(Math.floor(samples.length / 2));
  const hours = half.map((_, i) => (Math.floor(samples.length / 2) + i) / 60);
  const heapPerHour = slope(
    hours,
    half.map((s) => s.heapMb),
  );
  const rssPerHour = slope(
    hours,
    half.map((s) => s.rssMb),
  );
  const chrPerHour = slope(
    hours,
    half.map((s) => s.chromiumMb ?? 0),
  );
  const first = samples[0]!;
  const last = samples.at(-1)!;
  console.log(
    `${prompts} prompts; second half: engine RSS ${rssPerHour.toFixed(1)} MB/h (goal < ${RSS_LIMIT_MB}), heap after GC ${heapPerHour.toFixed(1)} MB/h, Chromium PSS ${chrPerHour.toFixed(1)} MB/h; ` +
      `fds ${first.fds} → ${last.fds}; store ${last.storeMb.toFixed(2)} MB, logs ${last.logsMb.toFixed(2)} MB`,
  );
  return rssPerHour < RSS_LIMIT_MB && last.fds - first.fds <= FD_LIMIT;
}

// A bug in the bench must not leave the engine, its agents or the browser running.
for (const ev of ['uncaughtException', 'unhandledRejection'] as const)
  process.on(ev, (err) => {
    console.error(`bench/soak: ${err instanceof Error ? err.stack : String(err)}`);
    void cleanup().finally(() => process.exit(2));
  });

let ok = false;
try {
  ok = MODE === 'runs' ? await soakRuns() : await soakLive();
} finally {
  await cleanup();
}
console.log(ok ? 'bench/soak: flat' : 'bench/soak: GROWS — see the samples above');
process.exit(ok ? 0 : 1);
