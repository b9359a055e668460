// bench/failover: what failing over costs. The proxy of a run of two providers, on loopback: the first answers 503 at
// once (or refuses the connection), the second streams an answer whose first byte it sends after a fixed TTFT. Measured
// per request, interleaved with the baseline in the same process:
//   - baseline: the same request on a route to the second provider alone (time to the client's first byte);
//   - failover: time to the client's first byte through the first provider's failure;
//   - gap: from the moment the first provider's answer ended (or the refusal) to the second provider receiving the
//     request — the proxy's own part. Target: failover − baseline < 50 ms (the second provider's TTFT is in both).
//
//   npx tsx bench/failover.ts [--runs 300] [--ttft 20]
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { MeterProxy, ProviderRouter, type ProxyRoute, type RoutedProvider } from '../electron/engine/meter/index.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '300' }, ttft: { type: 'string', default: '20' } } });
const runs = Number(values.runs);
const ttftMs = Number(values.ttft);
const TARGET_MS = 50;

let failEndedAt = 0;
let secondGotAt = 0;

async function listen(handler: http.RequestListener): Promise<{ url: string; server: http.Server }> {
  const server = http.createServer(handler);
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

const failing = await listen((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(503, { 'content-type': 'application/json' });
    res.end('{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}', () => {
      failEndedAt = performance.now();
    });
  });
});
const serving = await listen((req, res) => {
  secondGotAt = performance.now();
  req.resume();
  req.on('end', () => {
    setTimeout(() => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(
        'event: message_start\ndata: {"type":"message_start","message":{"id":"m","usage":{"input_tokens":10,"output_tokens":1}}}\n\n',
      );
      res.end('event: message_stop\ndata: {"type":"message_stop"}\n\n');
    }, ttftMs);
  });
});
// A port nothing listens on.
const gone = await listen(() => {});
const refusedUrl = gone.url;
await new Promise<void>((r) => gone.server.close(() => r()));

const proxy = new MeterProxy();
const front = await listen((req, res) => {
  if (!proxy.handle(req, res)) res.writeHead(404).end();
});

const route = (name: string, url: string): ProxyRoute & { provider: string } => ({
  sessionId: 's',
  upstreamBaseUrl: url,
  apiKey: null,
  style: 'anthropic',
  provider: name,
});
const provider = (r: ProxyRoute & { provider: string }): RoutedProvider => ({
  route: r,
  speedKey: r.provider,
  rateKey: null,
  turnUsd: null,
});
const agent = new http.Agent({ keepAlive: true });
const body = JSON.stringify({ model: 'kimi-k2.6', max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'hi' }] });

/** One request through the proxy; ms to the first body byte the client sees. */
function send(token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = http.request(`${front.url}/s/${token}/v1/messages`, {
      method: 'POST',
      agent,
      headers: { 'content-type': 'application/json' },
    });
    req.on('response', (res) => {
      let first = 0;
      res.on('data', () => {
        first ||= performance.now() - t0;
      });
      res.on('end', () => (res.statusCode === 200 ? resolve(first) : reject(new Error(`status ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

let n = 0;
/** A fresh token per request, with a fresh router: no cool-down or stickiness carries over (each is a first failure). */
async function once(kind: 'direct' | '503' | 'refused'): Promise<{ ttfb: number; gap: number | null }> {
  const token = `t${n++}`;
  if (kind === 'direct') proxy.register(token, route('second', serving.url));
  else {
    const list = [provider(route('first', kind === '503' ? failing.url : refusedUrl)), provider(route('second', serving.url))];
    proxy.register(token, list[0]!.route, new ProviderRouter().choice('s', list, 'ordered'));
  }
  failEndedAt = 0;
  const failedAt = performance.now();
  const ttfb = await send(token);
  proxy.unregister(token);
  // 503: from the first provider's answer ending; refused: from the request leaving the client (the refusal is instant).
  const gap = kind === '503' ? secondGotAt - failEndedAt : kind === 'refused' ? secondGotAt - failedAt : null;
  return { ttfb, gap };
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const f = (x: number) => `${x.toFixed(2)} ms`;

for (let i = 0; i < 20; i++) for (const k of ['direct', '503', 'refused'] as const) await once(k); // warm-up
const out = { direct: [] as number[], '503': [] as number[], refused: [] as number[] };
const gaps = { '503': [] as number[], refused: [] as number[] };
for (let i = 0; i < runs; i++) {
  const order = i % 2 ? (['direct', '503', 'refused'] as const) : (['refused', '503', 'direct'] as const);
  for (const k of order) {
    const r = await once(k);
    out[k].push(r.ttfb);
    if (k !== 'direct' && r.gap !== null) gaps[k].push(r.gap);
  }
}

console.log(`bench/failover: ${runs} requests each, second provider's TTFT ${ttftMs} ms (Node ${process.version})`);
console.log(`  baseline (second provider alone): first byte p50 ${f(pct(out.direct, 50))}, p99 ${f(pct(out.direct, 99))}`);
let ok = true;
for (const k of ['503', 'refused'] as const) {
  const added50 = pct(out[k], 50) - pct(out.direct, 50);
  const added99 = pct(out[k], 99) - pct(out.direct, 99);
  ok &&= added50 < TARGET_MS;
  console.log(
    `  first provider ${k === '503' ? 'answers 503' : 'refuses connections'}: first byte p50 ${f(pct(out[k], 50))}, p99 ${f(pct(out[k], 99))}` +
      ` — added vs baseline p50 ${f(added50)}, p99 ${f(added99)}; ratio ${(pct(out[k], 50) / pct(out.direct, 50)).toFixed(3)}`,
  );
  console.log(
    `    gap from ${k === '503' ? "the 503's end" : 'sending the request'} to the second provider receiving it: p50 ${f(pct(gaps[k], 50))}, p99 ${f(pct(gaps[k], 99))}`,
  );
}
console.log(`  target: failover adds < ${TARGET_MS} ms to the second provider's first byte — ${ok ? 'met' : 'NOT met'}`);
agent.destroy();
proxy.destroy();
for (const s of [failing.server, serving.server, front.server]) s.close();
