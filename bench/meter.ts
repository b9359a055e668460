// bench/meter: what the metering proxy adds to an agent's model traffic. N concurrent sessions each send R sequential
// streaming Anthropic `POST /v1/messages` requests (`LONG <words>`: a realistic SSE stream of many small events) to the
// stand-in upstream, in one process and one run:
//   direct   client ──► upstream
//   bare     client ──► http.Server + MeterProxy (no tap) ──► upstream        (attribution: the extra hop alone)
//   metered  client ──► http.Server + MeterProxy + Meter + SpendLedger + exclusive Store ──► upstream   (as the engine)
// Phases run in ABBA order (D B M | M B D | …) so drift on a noisy machine hits both sides alike; the two direct phases
// at the ends show the noise. Per request: time to the first body byte (client side) and bytes; per phase: MB/s and the
// process CPU time per request (everything runs on this one thread, so CPU/request is the steadiest figure of cost).
// The ledger must hold one closed ('exact') row per metered request and a non-zero spend, or the bench exits 1.
//
//   npx tsx bench/meter.ts [--sessions 10] [--requests 30] [--words 700] [--rounds 2] [--prompt-kb 0] [--no-bare]
import http from 'node:http';
import { parseArgs } from 'node:util';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Meter, MeterProxy, SpendLedger, effectivePrices } from '../electron/engine/meter/index.ts';
import { Store, ensureDataDir } from '../electron/engine/store/index.ts';
import { startUpstream } from '../test/upstream/index.ts';

const { values } = parseArgs({
  options: {
    sessions: { type: 'string', default: '10' },
    requests: { type: 'string', default: '30' },
    words: { type: 'string', default: '700' },
    rounds: { type: 'string', default: '2' },
    'prompt-kb': { type: 'string', default: '0' },
    'no-bare': { type: 'boolean', default: false },
  },
});
const N = Number(values.sessions);
const R = Number(values.requests);
const WORDS = Number(values.words);
const ROUNDS = Number(values.rounds);
const PROMPT_KB = Number(values['prompt-kb']);
const BARE = !values['no-bare'];
for (const [k, v] of Object.entries({ sessions: N, requests: R, words: WORDS, rounds: ROUNDS }))
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${k} must be a positive integer`);

const API_KEY = 'sk-bench-upstream';
const MODEL = 'kimi-k2.6';
const TARGET_ADDED_P99_MS = 2;
const TARGET_THROUGHPUT_RATIO = 0.95;
const DEADLINE_MS = 110_000;

type Mode = 'direct' | 'bare' | 'metered';
interface Target {
  port: number;
  /** Per session: the request path and its credentials header (the session token through the proxy). */
  path: (session: number) => string;
  headers: (session: number) => Record<string, string>;
}
interface Sample {
  ttfbMs: number;
  totalMs: number;
  bytes: number;
}
interface PhaseResult {
  mode: Mode;
  samples: Sample[];
  wallMs: number;
  bytes: number;
  cpuMs: number;
  loopP99Ms: number;
}

// ---------------------------------------------------------------------------------------------------------------------
// The request: a Claude-Code-like streaming Messages call whose task turn asks for a LONG answer.

const padding = PROMPT_KB > 0 ? 'You are a careful coding agent. '.repeat(Math.ceil((PROMPT_KB * 1024) / 32)).slice(0, PROMPT_KB * 1024) : null;
const requestBody = Buffer.from(
  JSON.stringify({
    model: MODEL,
    max_tokens: 32_000,
    stream: true,
    ...(padding ? { system: [{ type: 'text', text: padding }] } : {}),
    // The stand-in answers a request without the agent tools as a side request (a title): declare them, as Claude Code does.
    tools: ['Bash', 'Write', 'Edit'].map((name) => ({
      name,
      description: `${name} tool`,
      input_schema: { type: 'object', properties: { path: { type: 'string' } } },
    })),
    messages: [{ role: 'user', content: [{ type: 'text', text: `LONG ${WORDS}` }] }],
  }),
);

// One keep-alive agent for every client loop of every phase (pools are per host:port, so each target gets its own sockets,
// all with identical settings).
const clientAgent = new http.Agent({ keepAlive: true, maxSockets: N, maxFreeSockets: N, scheduling: 'lifo' });

function oneRequest(t: Target, session: number): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let ttfb = -1;
    let bytes = 0;
    let tail = '';
    const req = http.request(
      {
        agent: clientAgent,
        host: '127.0.0.1',
        port: t.port,
        method: 'POST',
        path: t.path(session),
        headers: {
          'content-type': 'application/json',
          'content-length': String(requestBody.length),
          'anthropic-version': '2023-06-01',
          accept: 'text/event-stream',
          ...t.headers(session),
        },
      },
      (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          return reject(new Error(`HTTP ${res.statusCode} from ${t.path(session)}`));
        }
        res.on('data', (chunk: Buffer) => {
          if (ttfb < 0) ttfb = performance.now() - t0;
          bytes += chunk.length;
          tail = chunk.length >= 64 ? chunk.subarray(chunk.length - 64).toString('latin1') : (tail + chunk.toString('latin1')).slice(-64);
        });
        res.on('end', () => {
          if (!tail.includes('message_stop')) return reject(new Error('stream ended without message_stop'));
          resolve({ ttfbMs: ttfb, totalMs: performance.now() - t0, bytes });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(requestBody);
  });
}

async function phase(mode: Mode, t: Target, requests: number): Promise<PhaseResult> {
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const perSession = await Promise.all(
    Array.from({ length: N }, async (_, s) => {
      const out: Sample[] = [];
      for (let i = 0; i < requests; i++) out.push(await oneRequest(t, s));
      return out;
    }),
  );
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  loop.disable();
  const samples = perSession.flat();
  return {
    mode,
    samples,
    wallMs,
    bytes: samples.reduce((a, s) => a + s.bytes, 0),
    cpuMs: (cpu.user + cpu.system) / 1000,
    loopP99Ms: loop.percentile(99) / 1e6,
  };
}

// ---------------------------------------------------------------------------------------------------------------------
// Figures

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
const sortedTtfb = (rs: PhaseResult[]) => rs.flatMap((r) => r.samples.map((s) => s.ttfbMs)).sort((a, b) => a - b);
const mbps = (rs: PhaseResult[]) => rs.reduce((a, r) => a + r.bytes, 0) / 1024 / 1024 / (rs.reduce((a, r) => a + r.wallMs, 0) / 1000);
const cpuPerReq = (rs: PhaseResult[]) => rs.reduce((a, r) => a + r.cpuMs, 0) / rs.reduce((a, r) => a + r.samples.length, 0);
const f = (n: number, d = 2) => n.toFixed(d).padStart(8);
const pass = (ok: boolean) => (ok ? 'PASS' : 'FAIL');

// ---------------------------------------------------------------------------------------------------------------------
// Setup, as the engine wires it (engine.ts: Store.open exclusive → SpendLedger → MeterProxy → Meter; addRun, addSession,
// proxy.register; the API server hands /s/ paths to proxy.handle first).

async function listen(handler: http.RequestListener): Promise<{ server: http.Server; port: number }> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port };
}

function proxyServer(proxy: MeterProxy) {
  return listen((req, res) => {
    if (proxy.handle(req, res)) return;
    res.writeHead(404).end();
  });
}

async function main(): Promise<number> {
  const started = performance.now();
  const up = await startUpstream({ apiKey: API_KEY });
  const upPort = up.port;
  const upBase = up.anthropicBaseUrl; // Moonshot's shape: https://api.moonshot.ai/anthropic

  const tmp = mkdtempSync(join(tmpdir(), 'flotilla-bench-meter-'));
  const dataDir = await ensureDataDir(join(tmp, 'data'));
  const store = Store.open(dataDir, { exclusive: true });
  const ledger = new SpendLedger(store);
  const proxy = new MeterProxy();
  const meter = new Meter(ledger, proxy);
  const runId = 'bench-run';
  meter.addRun({ runId, budgetUsd: 10_000, prices: effectivePrices({}), referenceModel: 'claude-sonnet-4-5' });
  const tokens: string[] = [];
  for (let s = 0; s < N; s++) {
    const sessionId = `bench-session-${s + 1}`;
    const token = `tok${s + 1}-${Math.random().toString(36).slice(2, 14)}`;
    tokens.push(token);
    meter.addSession({ sessionId, runId, style: 'anthropic', model: MODEL, budgetUsd: 1_000 });
    proxy.register(token, { sessionId, upstreamBaseUrl: upBase, apiKey: API_KEY, style: 'anthropic' });
  }
  const metered = await proxyServer(proxy);

  // The same proxy without a tap: the cost of the extra HTTP hop alone.
  const bareProxy = new MeterProxy();
  for (let s = 0; s < N; s++)
    bareProxy.register(tokens[s]!, { sessionId: `bench-session-${s + 1}`, upstreamBaseUrl: upBase, apiKey: API_KEY, style: 'anthropic' });
  const bare = await proxyServer(bareProxy);

  const targets: Record<Mode, Target> = {
    direct: { port: upPort, path: () => '/anthropic/v1/messages', headers: () => ({ 'x-api-key': API_KEY }) },
    bare: { port: bare.port, path: (s) => `/s/${tokens[s]}/v1/messages`, headers: (s) => ({ 'x-api-key': tokens[s]! }) },
    metered: { port: metered.port, path: (s) => `/s/${tokens[s]}/v1/messages`, headers: (s) => ({ 'x-api-key': tokens[s]! }) },
  };

  let meteredRequests = 0;
  let code = 0;
  try {
    // Warm-up: JIT, sockets (N per path, client and proxy→upstream), SQLite pages. Twice per path, interleaved.
    const warmModes: Mode[] = BARE ? ['direct', 'bare', 'metered'] : ['direct', 'metered'];
    const warm = Math.max(3, Math.ceil(R / 5));
    for (let i = 0; i < 2; i++)
      for (const m of warmModes) {
        await phase(m, targets[m], warm);
        if (m === 'metered') meteredRequests += N * warm;
      }
    const sample = await oneRequest(targets.direct, 0);

    const order: Mode[] = [];
    const forward: Mode[] = BARE ? ['direct', 'bare', 'metered'] : ['direct', 'metered'];
    for (let r = 0; r < ROUNDS; r++) order.push(...(r % 2 === 0 ? forward : [...forward].reverse()));

    console.log(
      `meter bench: ${N} sessions × ${R} sequential streaming requests per phase, LONG ${WORDS} → ${(sample.bytes / 1024).toFixed(1)} KB SSE per response` +
        `, request ${(requestBody.length / 1024).toFixed(1)} KB; phases ${order.join(' → ')}`,
    );
    console.log('');
    console.log('phase      n      TTFB p50   TTFB p99   total p50      MB/s   CPU ms/req  loop p99 ms');
    const results: PhaseResult[] = [];
    for (const m of order) {
      if (performance.now() - started > DEADLINE_MS) throw new Error(`over the ${DEADLINE_MS / 1000} s budget: lower --requests or --words`);
      const r = await phase(m, targets[m], R);
      if (m === 'metered') meteredRequests += r.samples.length;
      results.push(r);
      const tt = r.samples.map((s) => s.ttfbMs).sort((a, b) => a - b);
      const tot = r.samples.map((s) => s.totalMs).sort((a, b) => a - b);
      console.log(
        `${m.padEnd(8)} ${String(r.samples.length).padStart(4)} ${f(pct(tt, 50), 3)} ms ${f(pct(tt, 99), 3)} ms ${f(pct(tot, 50))} ms ${f(mbps([r]), 1)}` +
          `   ${f(r.cpuMs / r.samples.length, 3)}   ${f(r.loopP99Ms)}`,
      );
    }

    const of = (m: Mode) => results.filter((r) => r.mode === m);
    const D = of('direct');
    const M = of('metered');
    const B = of('bare');
    const dT = sortedTtfb(D);
    const mT = sortedTtfb(M);
    const added50 = pct(mT, 50) - pct(dT, 50);
    const added99 = pct(mT, 99) - pct(dT, 99);
    const ratio = mbps(M) / mbps(D);
    console.log('');
    console.log(`                  TTFB p50   TTFB p99        MB/s   CPU ms/req`);
    const row = (name: string, rs: PhaseResult[]) => {
      const t = sortedTtfb(rs);
      console.log(`${name.padEnd(16)} ${f(pct(t, 50), 3)} ms ${f(pct(t, 99), 3)} ms ${f(mbps(rs), 1)}   ${f(cpuPerReq(rs), 3)}`);
    };
    row('direct', D);
    if (B.length) row('bare proxy', B);
    row('metered', M);
    console.log('');
    console.log(`added TTFB p50 (metered − direct)  ${f(added50, 3)} ms`);
    console.log(`added TTFB p99 (metered − direct)  ${f(added99, 3)} ms   target < ${TARGET_ADDED_P99_MS} ms   ${pass(added99 < TARGET_ADDED_P99_MS)}`);
    console.log(
      `throughput metered / direct        ${f(ratio * 100, 1)} %    target ≥ ${TARGET_THROUGHPUT_RATIO * 100} %   ${pass(ratio >= TARGET_THROUGHPUT_RATIO)}`,
    );
    if (B.length) {
      console.log(`  of which the hop (bare / direct) ${f((mbps(B) / mbps(D)) * 100, 1)} %, the meter (metered / bare) ${f((mbps(M) / mbps(B)) * 100, 1)} %`);
      console.log(
        `  added CPU per request: hop ${f(cpuPerReq(B) - cpuPerReq(D), 3)} ms, meter ${f(cpuPerReq(M) - cpuPerReq(B), 3)} ms` +
          ` (added TTFB p50: hop ${f(pct(sortedTtfb(B), 50) - pct(dT, 50), 3)} ms)`,
      );
    }
    if (D.length >= 2) {
      const p99s = D.map((r) => pct(r.samples.map((s) => s.ttfbMs).sort((a, b) => a - b), 99));
      const rates = D.map((r) => mbps([r]));
      console.log(
        `noise (direct phases): TTFB p99 ${Math.min(...p99s).toFixed(3)}–${Math.max(...p99s).toFixed(3)} ms, ` +
          `${Math.min(...rates).toFixed(1)}–${Math.max(...rates).toFixed(1)} MB/s`,
      );
    }

    // The ledger: one closed row per metered request, and real dollars.
    meter.close();
    const rows = ledger.rows(runId);
    const exact = rows.filter((r) => r.state === 'exact').length;
    const totals = ledger.totals({ runId });
    const spend = meter.runSpend(runId)!;
    console.log('');
    console.log(
      `ledger rows ${rows.length} (exact ${exact}) for ${meteredRequests} metered requests (incl. ${meteredRequests - M.reduce((a, r) => a + r.samples.length, 0)} warm-up)` +
        `   ${pass(rows.length === meteredRequests && exact === meteredRequests)}`,
    );
    console.log(
      `metered spend $${totals.usd.toFixed(6)} (${totals.inputTokens} in, ${totals.cacheReadTokens} cache read, ${totals.outputTokens} out tokens; meter says ${spend.requests} requests)` +
        `   ${pass(totals.usd > 0)}`,
    );
    if (rows.length !== meteredRequests || exact !== meteredRequests || !(totals.usd > 0) || spend.requests !== meteredRequests) code = 1;
    console.log(`(${((performance.now() - started) / 1000).toFixed(1)} s)`);
  } finally {
    meter.close();
    clientAgent.destroy();
    for (const s of [metered.server, bare.server]) {
      s.closeAllConnections();
      s.close();
    }
    proxy.destroy();
    bareProxy.destroy();
    await up.close();
    store.close();
    rmSync(tmp, { recursive: true, force: true });
  }
  return code;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
