// bench/meter: what the metering proxy adds to an agent's model traffic. N concurrent sessions each send R sequential
// streaming Anthropic `POST /v1/messages` requests (`LONG <words>`: a realistic SSE stream of many small events) to the
// stand-in upstream. Each party has its own process, as in real life (agents are separate processes, the provider is
// remote):
//   upstream   child process: test/upstream's startUpstream                     (bench/meter-upstream.ts)
//   engine     child process: exclusive Store + SpendLedger + MeterProxy + Meter + http.Server handing /s/ to
//              proxy.handle, wired as electron/engine/engine.ts, N sessions registered; and a BARE MeterProxy (no
//              Meter) with the same tokens on a second port                    (bench/meter-proxy.ts)
//   clients    this process: N concurrent loops, plain http.request with a keep-alive agent
// and three paths:
//   direct   client ──► upstream
//   floor    client ──► engine process: http.Server piping request and answer (nothing else) ──► upstream (the least
//            a Node hop costs: what the proxy is held to — engine CPU per metered request ≤ 1.5× the floor's)
//   bare     client ──► engine process: http.Server + MeterProxy (no tap) ──► upstream   (attribution: the hop alone)
//   metered  client ──► engine process: http.Server + MeterProxy + Meter + SpendLedger + Store ──► upstream
// Phases run in ABBA order after a warm-up (D B M | M B D | …) so drift on a noisy machine hits both sides alike; the two
// direct phases at the ends show the noise. Per request: time from the request's start to the first body byte (client
// side) and bytes; per phase: MB/s, and the CPU time per request of each process (the children report
// process.cpuUsage and their event-loop delay over a stdin/stdout line protocol, bench/meter-ipc.ts; the marks are
// taken between phases, outside the timed window).
// The ledger must hold one closed ('exact') row per metered request and a non-zero spend, or the bench exits 1.
// Then bench/compat: the compatibility layer's added time per request on Claude Code's real request shape (target
// p50 < 0.2 ms) and the downstream stream byte-identical through the moonshot profile, also exit 1 when either misses.
// Caveats: this machine may have fewer cores than busy processes (2 cores here: on the metered/bare paths three busy
// processes compete, on the direct path two), so part of the added TTFB and of the throughput loss is CPU contention
// that a real remote provider would not cause — read the engine's CPU ms/req column for the cost proper. An unpaced
// answer is written in one burst, so TTFB includes the upstream's whole handling of the answer; --slow <ms> paces the
// events instead.
//
//   npx tsx bench/meter.ts [--sessions 10] [--requests 30] [--words 700] [--rounds 2] [--prompt-kb 0] [--slow 0] [--no-bare]
//                          [--compat-runs 3000]
//   npx tsx bench/meter.ts --flood 5 [--sessions 10] [--requests 40]       (see bench/meter-flood.ts)
import http from 'node:http';
import { parseArgs } from 'node:util';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { availableParallelism } from 'node:os';
import { compatBench } from './compat.ts';
import { floodBench } from './meter-flood.ts';

// --flood N: the flood bench instead (bench/meter-flood.ts): the meter's TTFB while N other sessions flood output.
if (process.argv.includes('--flood')) process.exit((await floodBench(process.argv.slice(2))) ? 0 : 1);
import { startChild, type Child } from './meter-ipc.ts';

const { values } = parseArgs({
  options: {
    sessions: { type: 'string', default: '10' },
    requests: { type: 'string', default: '30' },
    words: { type: 'string', default: '700' },
    rounds: { type: 'string', default: '2' },
    'prompt-kb': { type: 'string', default: '0' },
    slow: { type: 'string', default: '0' },
    'no-bare': { type: 'boolean', default: false },
    'compat-runs': { type: 'string', default: '3000' },
  },
});
const COMPAT_RUNS = Number(values['compat-runs']);
const N = Number(values.sessions);
const R = Number(values.requests);
const WORDS = Number(values.words);
const ROUNDS = Number(values.rounds);
const PROMPT_KB = Number(values['prompt-kb']);
/** Milliseconds between streamed events (the stand-in's SLOW): 0 = one burst, so TTFB ≈ the whole response's handling. */
const SLOW = Number(values.slow);
const BARE = !values['no-bare'];
for (const [k, v] of Object.entries({ sessions: N, requests: R, words: WORDS, rounds: ROUNDS }))
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${k} must be a positive integer`);

const API_KEY = 'sk-bench-upstream';
const MODEL = 'kimi-k2.6';
const TARGET_ADDED_P99_MS = 2;
const TARGET_THROUGHPUT_RATIO = 0.95;
const DEADLINE_MS = 110_000;
/** Pause after each phase before the children's CPU marks. */
const SETTLE_MS = 150;

type Mode = 'direct' | 'floor' | 'bare' | 'metered';
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
  /** CPU time in the phase: this process (the clients), the engine child, the upstream child. */
  cpuMs: { client: number; engine: number; upstream: number };
  /** Event-loop delay p99 in the phase, in the engine child and in this process. */
  loopP99Ms: { engine: number; client: number };
}

// ---------------------------------------------------------------------------------------------------------------------
// The request: a Claude-Code-like streaming Messages call whose task turn asks for a LONG answer.

const padding =
  PROMPT_KB > 0 ? 'You are a careful coding agent. '.repeat(Math.ceil((PROMPT_KB * 1024) / 32)).slice(0, PROMPT_KB * 1024) : null;
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
    messages: [{ role: 'user', content: [{ type: 'text', text: SLOW > 0 ? `LONG ${WORDS}\nSLOW ${SLOW}` : `LONG ${WORDS}` }] }],
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

async function phase(mode: Mode, t: Target, requests: number, kids: { engine: Child; upstream: Child }): Promise<PhaseResult> {
  await Promise.all([kids.engine.mark(), kids.upstream.mark()]);
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
  // Let work the phase left behind in the children (the meter's deferred ledger writes, sockets closing) land in this
  // phase's CPU figures rather than the next phase's. Outside the timed window.
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  const [eng, up] = await Promise.all([kids.engine.mark(), kids.upstream.mark()]);
  const samples = perSession.flat();
  return {
    mode,
    samples,
    wallMs,
    bytes: samples.reduce((a, s) => a + s.bytes, 0),
    cpuMs: { client: (cpu.user + cpu.system) / 1000, engine: eng.cpuMs, upstream: up.cpuMs },
    loopP99Ms: { engine: eng.loopP99Ms, client: loop.percentile(99) / 1e6 },
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
const cpuPerReq = (rs: PhaseResult[], who: keyof PhaseResult['cpuMs']) =>
  rs.reduce((a, r) => a + r.cpuMs[who], 0) / rs.reduce((a, r) => a + r.samples.length, 0);
const f = (n: number, d = 2) => n.toFixed(d).padStart(8);
const pass = (ok: boolean) => (ok ? 'PASS' : 'FAIL');

// ---------------------------------------------------------------------------------------------------------------------
// Setup: the upstream child first, then the engine child pointed at it (its ready line carries the ports and tokens).

async function main(): Promise<number> {
  const started = performance.now();
  const kids: { upstream?: Child; engine?: Child } = {};
  let code = 0;
  try {
    const upstream = (kids.upstream = await startChild('./meter-upstream.ts', [API_KEY], 'upstream'));
    const upPort = Number(upstream.ready.port);
    const upBase = String(upstream.ready.anthropicBaseUrl); // Moonshot's shape: https://api.moonshot.ai/anthropic
    const engine = (kids.engine = await startChild(
      './meter-proxy.ts',
      [JSON.stringify({ upstreamBaseUrl: upBase, apiKey: API_KEY, sessions: N, model: MODEL })],
      'engine',
    ));
    const tokens = engine.ready.tokens as string[];
    const meteredPort = Number(engine.ready.meteredPort);
    const barePort = Number(engine.ready.barePort);
    const floorPort = Number(engine.ready.floorPort);
    const k = { engine, upstream };

    const targets: Record<Mode, Target> = {
      direct: { port: upPort, path: () => '/anthropic/v1/messages', headers: () => ({ 'x-api-key': API_KEY }) },
      floor: { port: floorPort, path: (s) => `/s/${tokens[s]}/v1/messages`, headers: (s) => ({ 'x-api-key': tokens[s]! }) },
      bare: { port: barePort, path: (s) => `/s/${tokens[s]}/v1/messages`, headers: (s) => ({ 'x-api-key': tokens[s]! }) },
      metered: { port: meteredPort, path: (s) => `/s/${tokens[s]}/v1/messages`, headers: (s) => ({ 'x-api-key': tokens[s]! }) },
    };

    let meteredRequests = 0;
    // Warm-up: JIT in all three processes, sockets (N per path, client and proxy→upstream), SQLite pages. Twice per
    // path, interleaved.
    const warmModes: Mode[] = BARE ? ['direct', 'floor', 'bare', 'metered'] : ['direct', 'floor', 'metered'];
    const warm = Math.max(3, Math.ceil(R / 5));
    for (let i = 0; i < 2; i++)
      for (const m of warmModes) {
        await phase(m, targets[m], warm, k);
        if (m === 'metered') meteredRequests += N * warm;
      }
    const sample = await oneRequest(targets.direct, 0);

    const order: Mode[] = [];
    const forward: Mode[] = BARE ? ['direct', 'floor', 'bare', 'metered'] : ['direct', 'floor', 'metered'];
    for (let r = 0; r < ROUNDS; r++) order.push(...(r % 2 === 0 ? forward : [...forward].reverse()));

    console.log(
      `meter bench: ${N} sessions × ${R} sequential streaming requests per phase, LONG ${WORDS} → ${(sample.bytes / 1024).toFixed(1)} KB SSE per response` +
        `${SLOW > 0 ? ` paced ${SLOW} ms/event` : ' unpaced'}, request ${(requestBody.length / 1024).toFixed(1)} KB; phases ${order.join(' → ')}`,
    );
    console.log(
      `processes: upstream pid ${String(upstream.ready.pid)}, engine pid ${String(engine.ready.pid)}, clients pid ${process.pid}; ${availableParallelism()} CPU cores`,
    );
    console.log('');
    console.log('                          TTFB                              CPU ms/req                  loop p99 ms');
    console.log('phase      n       p50 ms     p99 ms  total p50      MB/s    engine  upstream    client    engine    client');
    const results: PhaseResult[] = [];
    for (const m of order) {
      if (performance.now() - started > DEADLINE_MS)
        throw new Error(`over the ${DEADLINE_MS / 1000} s budget: lower --requests or --words`);
      const r = await phase(m, targets[m], R, k);
      if (m === 'metered') meteredRequests += r.samples.length;
      results.push(r);
      const tt = r.samples.map((s) => s.ttfbMs).sort((a, b) => a - b);
      const tot = r.samples.map((s) => s.totalMs).sort((a, b) => a - b);
      const n = r.samples.length;
      console.log(
        `${m.padEnd(8)} ${String(n).padStart(4)} ${f(pct(tt, 50), 3)}   ${f(pct(tt, 99), 3)}   ${f(pct(tot, 50))} ${f(mbps([r]), 1)}  ` +
          `${f(r.cpuMs.engine / n, 3)}  ${f(r.cpuMs.upstream / n, 3)}  ${f(r.cpuMs.client / n, 3)}  ${f(r.loopP99Ms.engine)}  ${f(r.loopP99Ms.client)}`,
      );
    }

    const of = (m: Mode) => results.filter((r) => r.mode === m);
    const D = of('direct');
    const M = of('metered');
    const B = of('bare');
    const F = of('floor');
    const dT = sortedTtfb(D);
    const mT = sortedTtfb(M);
    const added50 = pct(mT, 50) - pct(dT, 50);
    const added99 = pct(mT, 99) - pct(dT, 99);
    const ratio = mbps(M) / mbps(D);
    console.log('');
    console.log(`                  TTFB p50   TTFB p99        MB/s   engine CPU ms/req`);
    const row = (name: string, rs: PhaseResult[]) => {
      const t = sortedTtfb(rs);
      console.log(`${name.padEnd(16)} ${f(pct(t, 50), 3)} ms ${f(pct(t, 99), 3)} ms ${f(mbps(rs), 1)}   ${f(cpuPerReq(rs, 'engine'), 3)}`);
    };
    row('direct', D);
    row('floor (pipe)', F);
    if (B.length) row('bare proxy', B);
    row('metered', M);
    console.log('');
    const fT = sortedTtfb(F);
    const cpuOverFloor = cpuPerReq(M, 'engine') / cpuPerReq(F, 'engine');
    console.log(
      `added TTFB p50 / p99 (floor − direct)   ${f(pct(fT, 50) - pct(dT, 50), 3)} / ${f(pct(fT, 99) - pct(dT, 99), 3)} ms   (a Node hop at its least)`,
    );
    console.log(
      `added TTFB p50 / p99 (metered − floor)  ${f(pct(mT, 50) - pct(fT, 50), 3)} / ${f(pct(mT, 99) - pct(fT, 99), 3)} ms   (ours over the floor)`,
    );
    console.log(
      `engine CPU per request metered / floor  ${f(cpuOverFloor, 2)} ×   (${f(cpuPerReq(M, 'engine'), 3)} / ${f(cpuPerReq(F, 'engine'), 3)} ms)   target ≤ 1.5   ${pass(cpuOverFloor <= 1.5)}`,
    );
    console.log(`added TTFB p50 (metered − direct)  ${f(added50, 3)} ms`);
    console.log(
      `added TTFB p99 (metered − direct)  ${f(added99, 3)} ms   target < ${TARGET_ADDED_P99_MS} ms   ${pass(added99 < TARGET_ADDED_P99_MS)}`,
    );
    console.log(
      `throughput metered / direct        ${f(ratio * 100, 1)} %    target ≥ ${TARGET_THROUGHPUT_RATIO * 100} %   ${pass(ratio >= TARGET_THROUGHPUT_RATIO)}`,
    );
    if (B.length) {
      const bT = sortedTtfb(B);
      console.log(
        `added TTFB p50 / p99 (bare − direct)    ${f(pct(bT, 50) - pct(dT, 50), 3)} / ${f(pct(bT, 99) - pct(dT, 99), 3)} ms   (the hop alone)`,
      );
      console.log(
        `added TTFB p50 / p99 (metered − bare)   ${f(pct(mT, 50) - pct(bT, 50), 3)} / ${f(pct(mT, 99) - pct(bT, 99), 3)} ms   (the meter alone)`,
      );
      console.log(
        `  of which the hop (bare / direct) ${f((mbps(B) / mbps(D)) * 100, 1)} %, the meter (metered / bare) ${f((mbps(M) / mbps(B)) * 100, 1)} %`,
      );
      console.log(
        `  engine CPU per request: hop (bare) ${f(cpuPerReq(B, 'engine'), 3)} ms, meter (metered − bare) ${f(cpuPerReq(M, 'engine') - cpuPerReq(B, 'engine'), 3)} ms`,
      );
    } else {
      console.log(`  engine CPU per request (metered): ${f(cpuPerReq(M, 'engine'), 3)} ms`);
    }
    if (D.length >= 2) {
      const p99s = D.map((r) =>
        pct(
          r.samples.map((s) => s.ttfbMs).sort((a, b) => a - b),
          99,
        ),
      );
      const rates = D.map((r) => mbps([r]));
      console.log(
        `noise (direct phases): TTFB p99 ${Math.min(...p99s).toFixed(3)}–${Math.max(...p99s).toFixed(3)} ms, ` +
          `${Math.min(...rates).toFixed(1)}–${Math.max(...rates).toFixed(1)} MB/s`,
      );
    }

    // The ledger (in the engine child): one closed row per metered request, and real dollars.
    const rep = await engine.call<{
      rows: number;
      exact: number;
      spendRequests: number;
      totals: { usd: number; inputTokens: number; cacheReadTokens: number; outputTokens: number };
    }>('report');
    const totals = rep.totals;
    console.log('');
    console.log(
      `ledger rows ${rep.rows} (exact ${rep.exact}) for ${meteredRequests} metered requests (incl. ${meteredRequests - M.reduce((a, r) => a + r.samples.length, 0)} warm-up)` +
        `   ${pass(rep.rows === meteredRequests && rep.exact === meteredRequests)}`,
    );
    console.log(
      `metered spend $${totals.usd.toFixed(6)} (${totals.inputTokens} in, ${totals.cacheReadTokens} cache read, ${totals.outputTokens} out tokens; meter says ${rep.spendRequests} requests)` +
        `   ${pass(totals.usd > 0)}`,
    );
    if (rep.rows !== meteredRequests || rep.exact !== meteredRequests || !(totals.usd > 0) || rep.spendRequests !== meteredRequests)
      code = 1;

    // The compatibility layer's own cost per request and the byte identity of streams through it (bench/compat).
    console.log('');
    if (!(await compatBench(COMPAT_RUNS))) code = 1;
    console.log(`(${((performance.now() - started) / 1000).toFixed(1)} s)`);
  } finally {
    clientAgent.destroy();
    await Promise.all([kids.engine?.stop(), kids.upstream?.stop()]);
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
