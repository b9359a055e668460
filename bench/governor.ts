// bench/governor: ten sessions sharing one provider account. 10 sessions × 20 sequential requests of ~20 000 tokens
// each go through MeterProxy + Meter to a stand-in that enforces Moonshot's Tier1 limits (concurrency 50, 200 requests
// and 2 000 000 tokens per window) with the minute scaled down to --window ms, answering 429 + retry-after beyond
// them. Clients behave like Claude Code: on a 429 they wait retry-after, then send the request again. Three phases in
// one run, each against a fresh account:
//   none      no governor (what ten agents do against the provider directly)
//   learning  the governor without limits: it only pauses the key for a 429's retry-after
//   governed  the governor with the account's limits (provider.limits: { tier: 1 })
// For each: upstream 429s and the time until every request is done, against the ideal schedule the limits allow (an
// event simulation: each request starts as early as concurrency, requests and tokens per window let it, and takes
// the answer time measured here unloaded). Goal: governed 0 429s and within 1.1× the ideal.
//
//   npx tsx bench/governor.ts [--window 6000] [--sessions 10] [--requests 20] [--kb 80]
import http from 'node:http';
import { parseArgs } from 'node:util';
import { MOONSHOT_TIERS, NO_LIMITS, type EffectiveLimits } from '../electron/shared/contract.ts';
import { Governor } from '../electron/engine/meter/index.ts';
import { startUpstream } from '../test/upstream/index.ts';
import { startMeterStack } from './meter-stack.ts';

const { values } = parseArgs({
  options: {
    window: { type: 'string', default: '6000' },
    sessions: { type: 'string', default: '10' },
    requests: { type: 'string', default: '20' },
    kb: { type: 'string', default: '80' },
  },
});
const W = Number(values.window);
const N = Number(values.sessions);
const M = Number(values.requests);
const KB = Number(values.kb);
const TIER1 = MOONSHOT_TIERS[1]!;
const KEY = 'sk-bench-governor';
const ANSWER_MS = 150;

/** A request body of ~KB kilobytes (Claude Code re-sends its whole context every turn). */
function body(session: number, i: number): Buffer {
  const filler = 'context '.repeat(Math.round((KB * 1024) / 8));
  return Buffer.from(
    JSON.stringify({
      model: 'kimi-k2.6',
      max_tokens: 256,
      stream: false,
      tools: [{ name: 'Write', input_schema: { type: 'object' } }],
      messages: [{ role: 'user', content: `WAIT ${ANSWER_MS}\nSAY s${session} r${i}\n${filler}` }],
    }),
  );
}

interface Phase {
  name: string;
  limits: EffectiveLimits | null;
}

async function phase(p: Phase, n = N, m = M): Promise<{ ms: number; upstream429: number; clientRetries: number }> {
  const upstream = await startUpstream({ apiKey: KEY, rateLimits: { ...TIER1, windowMs: W } });
  const stack = await startMeterStack('governor', { governor: new Governor({ windowMs: W }) });
  const { meter, proxy, port } = stack;
  for (let s = 0; s < n; s++) {
    meter.addSession({
      sessionId: `s${s}`,
      runId: 'r',
      style: 'anthropic',
      model: 'kimi-k2.6',
      budgetUsd: null,
      rateKey: p.limits ? { id: 'acct', label: 'MOONSHOT_API_KEY', limits: p.limits } : null,
    });
    proxy.register(`t${s}`, { sessionId: `s${s}`, upstreamBaseUrl: upstream.url, apiKey: KEY, style: 'anthropic' });
  }
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  let clientRetries = 0;

  const send = (s: number, b: Buffer) =>
    new Promise<{ status: number; retryAfter: number }>((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: `/s/t${s}/v1/messages`,
          agent,
          headers: { 'content-type': 'application/json', 'content-length': b.length },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: Number(res.headers['retry-after'] ?? 1) }));
        },
      );
      req.on('error', reject);
      req.end(b);
    });

  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: n }, async (_, s) => {
      for (let i = 0; i < m; i++) {
        const b = body(s, i);
        for (;;) {
          const r = await send(s, b);
          if (r.status === 200) break;
          if (r.status !== 429) throw new Error(`session ${s} request ${i}: HTTP ${r.status}`);
          clientRetries++;
          await new Promise((res) => setTimeout(res, r.retryAfter * 1000));
        }
      }
    }),
  );
  const ms = performance.now() - t0;
  const upstream429 = upstream.rateRefused().concurrency + upstream.rateRefused().rpm + upstream.rateRefused().tpm;
  agent.destroy();
  stack.close();
  await upstream.close();
  return { ms, upstream429, clientRetries };
}

/** Sessions run their requests in sequence; each starts as early as the limits allow and takes `d` ms. */
function idealMs(tokens: number, d: number, l: { concurrency: number; rpm: number; tpm: number }): number {
  const ready = new Array<number>(N).fill(0);
  const left = new Array<number>(N).fill(M);
  const starts: number[] = [];
  const ends: number[] = [];
  let makespan = 0;
  while (left.some((n) => n > 0)) {
    let s = -1;
    for (let i = 0; i < N; i++) if (left[i]! > 0 && (s < 0 || ready[i]! < ready[s]!)) s = i;
    let t = ready[s]!;
    for (;;) {
      const inWindow = starts.filter((x) => x > t - W);
      const inFlight = ends.filter((e) => e > t).length;
      let next = t;
      if (inFlight >= l.concurrency) next = Math.max(next, Math.min(...ends.filter((e) => e > t)));
      if (inWindow.length >= l.rpm) next = Math.max(next, inWindow[inWindow.length - l.rpm]! + W);
      if (inWindow.length > 0 && (inWindow.length + 1) * tokens > l.tpm) {
        const keep = Math.floor(l.tpm / tokens) - 1;
        next = Math.max(next, inWindow[inWindow.length - 1 - keep]! + W);
      }
      if (next === t) break;
      t = next;
    }
    starts.push(t);
    starts.sort((a, b) => a - b);
    ends.push(t + d);
    ready[s] = t + d;
    left[s]!--;
    makespan = Math.max(makespan, t + d);
  }
  return makespan;
}

async function main(): Promise<number> {
  const sample = body(0, 0);
  const tokens = Math.ceil(sample.length / 4);
  console.log(
    `bench/governor: ${N} sessions × ${M} requests of ${Math.round(sample.length / 1024)} KB (~${tokens} tokens), Tier1 limits per ${W} ms window ` +
      `(concurrency ${TIER1.concurrency}, ${TIER1.rpm} requests, ${TIER1.tpm} tokens), answers take ${ANSWER_MS} ms (Node ${process.version})`,
  );
  // The answer time through the proxy, unloaded (one session, five requests): the ideal schedule's request duration.
  const d = (await phase({ name: 'unloaded', limits: null }, 1, 5)).ms / 5;
  const phases: Phase[] = [
    { name: 'none', limits: null },
    { name: 'learning', limits: NO_LIMITS },
    { name: 'governed', limits: { concurrency: TIER1.concurrency, rpm: TIER1.rpm, tpm: TIER1.tpm } },
  ];
  const ideal = idealMs(tokens, d, TIER1);
  console.log(`ideal schedule under the limits: ${(ideal / 1000).toFixed(2)} s (each request ${d.toFixed(0)} ms, measured unloaded)`);
  console.log('phase        upstream 429s   client retries   done in      × ideal');
  let ok = true;
  for (const p of phases) {
    const r = await phase(p);
    const ratio = r.ms / ideal;
    console.log(
      `${p.name.padEnd(12)} ${String(r.upstream429).padStart(13)}   ${String(r.clientRetries).padStart(14)}   ${(r.ms / 1000).toFixed(2).padStart(6)} s   ${ratio.toFixed(2).padStart(8)}`,
    );
    if (p.name === 'governed') {
      const pass = r.upstream429 === 0 && ratio <= 1.1;
      ok = pass;
      console.log(`target: governed 0 upstream 429s and ≤ 1.1× the ideal   ${pass ? 'PASS' : 'FAIL'}`);
    }
  }
  return ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
