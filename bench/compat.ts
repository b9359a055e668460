// bench/compat: what the compatibility layer adds per request, and proof that it leaves the response alone.
//  1. Cost, in this process: the meter already parses every request body (inspectRequest); the rewrite adds the rules'
//     look at the parsed body and, when one fires, one re-serialisation. Measured on Claude Code's real request shape
//     (electron/engine/probe/claude-code-shape.json) and on the same shape grown to a long conversation, each against the
//     baseline of inspectRequest without a profile, interleaved, p50/p99 of many runs.
//  2. Streams downstream: the same request through MeterProxy + Meter with the moonshot profile, and straight to the
//     stand-in upstream with the body the rewrite produced — the SSE bytes the client receives must be identical.
//
//   npx tsx bench/compat.ts [--runs 3000]      (bench/meter runs it too, after its own phases)
import http from 'node:http';
import { createHash } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { compatProfile } from '../electron/engine/meter/index.ts';
import { inspectRequest } from '../electron/engine/meter/usage/index.ts';
import { CLAUDE_CODE_MAIN_REQUEST } from '../electron/engine/probe/claude-code-shape.ts';
import { startUpstream } from '../test/upstream/index.ts';
import { startMeterStack } from './meter-stack.ts';

const TARGET_P50_MS = 0.2;
const profile = compatProfile('moonshot');

function body(model: string, conversationKb: number): Buffer {
  const b = JSON.parse(JSON.stringify(CLAUDE_CODE_MAIN_REQUEST)) as Record<string, any>;
  b.model = model;
  const filler = 'x'.repeat(1024);
  for (let i = 0; i < conversationKb; i += 2) {
    b.messages.push(
      { role: 'assistant', content: [{ type: 'text', text: filler }] },
      { role: 'user', content: [{ type: 'text', text: filler }] },
    );
  }
  return Buffer.from(JSON.stringify(b));
}

const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

function measure(raw: Buffer, model: string, runs: number): { base: number[]; compat: number[] } {
  const base: number[] = [];
  const compat: number[] = [];
  // Exactly what the meter does (meter.ts: profile.rewriter), fires discarded.
  const rewrite = profile.rewriter('anthropic', model, () => {});
  for (let i = 0; i < runs; i++) {
    // Interleaved, alternating which goes first, so drift and GC hit both alike.
    const first = i % 2 === 0;
    for (const withCompat of first ? [false, true] : [true, false]) {
      const t0 = performance.now();
      const r = inspectRequest('anthropic', '/v1/messages', raw, withCompat ? rewrite : undefined);
      const ms = performance.now() - t0;
      if (r.model !== model) throw new Error('inspectRequest lost the model');
      (withCompat ? compat : base).push(ms);
    }
  }
  base.sort((a, b) => a - b);
  compat.sort((a, b) => a - b);
  return { base, compat };
}

/** Prints both parts; true when the cost is under target and the stream is byte-identical. */
export async function compatBench(runs = 3000): Promise<boolean> {
  let failed = false;
  console.log(`bench/compat: ${runs} runs per case, profile moonshot (Node ${process.version})`);
  console.log('case                                         body KB   base p50   +compat p50   added p50   added p99');
  for (const [label, model, kb] of [
    ['Claude Code shape, kimi-k2.7-code (fires)', 'kimi-k2.7-code', 0],
    ['Claude Code shape, kimi-k2.6 (looks only)', 'kimi-k2.6', 0],
    ['long conversation, kimi-k2.7-code (fires)', 'kimi-k2.7-code', 200],
    ['long conversation, kimi-k2.6 (looks only)', 'kimi-k2.6', 200],
  ] as const) {
    const raw = body(model, kb);
    const { base, compat } = measure(raw, model, runs);
    const added50 = pct(compat, 50) - pct(base, 50);
    const added99 = pct(compat, 99) - pct(base, 99);
    if (kb === 0 && added50 >= TARGET_P50_MS) failed = true;
    console.log(
      `${label.padEnd(44)} ${String(Math.round(raw.length / 1024)).padStart(7)}   ${pct(base, 50).toFixed(3).padStart(8)}   ${pct(compat, 50).toFixed(3).padStart(11)}   ${added50.toFixed(3).padStart(9)}   ${added99.toFixed(3).padStart(9)}`,
    );
  }
  console.log(`target: added p50 < ${TARGET_P50_MS} ms on Claude Code's request shape   ${failed ? 'FAIL' : 'PASS'}`);

  // 2. Byte identity downstream.
  const upstream = await startUpstream({ apiKey: 'sk-bench' });
  const stack = await startMeterStack('compat');
  const { meter, proxy, port } = stack;
  meter.addSession({ sessionId: 's', runId: 'r', style: 'anthropic', model: 'kimi-k2.7-code', budgetUsd: null, compat: profile });
  proxy.register('tok', { sessionId: 's', upstreamBaseUrl: upstream.url, apiKey: 'sk-bench', style: 'anthropic' });

  function post(p: number, path: string, payload: Buffer, auth: string): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port: p,
          method: 'POST',
          path,
          headers: { 'content-type': 'application/json', authorization: `Bearer ${auth}` },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve(Buffer.concat(chunks)));
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  const raw = body('kimi-k2.7-code', 0);
  const sample = JSON.parse(raw.toString());
  sample.stream = true;
  sample.messages[0].content = [{ type: 'text', text: 'LONG 400' }];
  sample.tools = [{ name: 'Write', input_schema: { type: 'object' } }];
  const request = Buffer.from(JSON.stringify(sample));
  const proxied = await post(port, '/s/tok/v1/messages', request, 'tok');
  const sentUpstream = upstream.requests.at(-1)!;
  const direct = await post(upstream.port, '/v1/messages', Buffer.from(sentUpstream.rawBody), 'sk-bench');
  const h = (b: Buffer) => createHash('sha256').update(b).digest('hex').slice(0, 16);
  const identical = proxied.equals(direct);
  if (!identical) failed = true;
  console.log(
    `stream downstream through the profile vs straight from the upstream: ${proxied.length} vs ${direct.length} bytes, sha256 ${h(proxied)} vs ${h(direct)}   ${identical ? 'PASS identical' : 'FAIL'}`,
  );
  console.log(
    `the rewrite went upstream: thinking ${JSON.stringify(sentUpstream.body.thinking)} (agent sent ${JSON.stringify(sample.thinking)})`,
  );

  stack.close();
  await upstream.close();
  return !failed;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '3000' } } });
  compatBench(Number(values.runs)).then(
    (ok) => process.exit(ok ? 0 : 1),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
