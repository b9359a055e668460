// bench/translate: what the Anthropic ⇄ OpenAI Chat translation adds per request, and proof that a translated stream
// carries the same answer as a direct one.
//  1. Request: anthropicToChat + JSON.stringify on Claude Code's recorded request (and the same grown to a ~200 KB
//     conversation), against the baseline the proxy pays anyway for a request it inspects: JSON.parse of the body.
//     Interleaved, p50/p99 over many runs; target p50 < 0.3 ms added.
//  2. Response: a 2 000-token K2 stream (reasoning, text, a tool call) through ChatToAnthropicStream, against reading
//     the same bytes with the SSE reader alone (what the meter's tap does anyway).
//  3. Equality: the stand-in upstream answers the same scripted turn on its Anthropic surface and, translated, on its
//     Chat surface; both parsed by the meter's Anthropic parser must give the same text and the same tool call.
//
//   npx tsx bench/translate.ts [--runs 2000]
import { parseArgs } from 'node:util';
import { ChatToAnthropicStream, anthropicToChat } from '../electron/engine/meter/translate/index.ts';
import { createResponseParser } from '../electron/engine/meter/usage/index.ts';
import { SseReader } from '../electron/engine/meter/usage/sse.ts';
import { CLAUDE_CODE_MAIN_REQUEST } from '../electron/engine/probe/claude-code-shape.ts';
import { startUpstream } from '../test/upstream/index.ts';

const TARGET_P50_MS = 0.3;
const { values } = parseArgs({ options: { runs: { type: 'string', default: '2000' } } });
const runs = Number(values.runs);

const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const fmt = (x: number) => `${x.toFixed(3)} ms`;

function request(conversationKb: number): Buffer {
  const b = structuredClone(CLAUDE_CODE_MAIN_REQUEST) as Record<string, any>;
  b.model = 'kimi-k2.6';
  const filler = 'x'.repeat(1024);
  for (let i = 0; i < conversationKb; i += 2)
    b.messages.push(
      { role: 'assistant', content: [{ type: 'text', text: filler }] },
      { role: 'user', content: [{ type: 'text', text: filler }] },
    );
  return Buffer.from(JSON.stringify(b));
}

/** Interleaved timings of `base` and `withIt`, alternating which goes first so drift and GC hit both alike. */
function interleave(base: () => void, withIt: () => void): { base: number[]; added: number[] } {
  const b: number[] = [];
  const a: number[] = [];
  for (let i = 0; i < runs; i++) {
    for (const which of i % 2 ? [0, 1] : [1, 0]) {
      const t0 = performance.now();
      (which ? withIt : base)();
      (which ? a : b).push(performance.now() - t0);
    }
  }
  b.sort((x, y) => x - y);
  a.sort((x, y) => x - y);
  return { base: b, added: a };
}

let ok = true;
console.log(`bench/translate: ${runs} runs each (Node ${process.version})`);
for (const kb of [0, 200]) {
  const raw = request(kb);
  const r = interleave(
    () => JSON.parse(raw.toString('utf8')),
    () => Buffer.from(JSON.stringify(anthropicToChat(JSON.parse(raw.toString('utf8'))).body)),
  );
  const added50 = pct(r.added, 50) - pct(r.base, 50);
  // The target is for Claude Code's recorded request; the long conversation is printed to show how the cost grows.
  if (kb === 0) ok &&= added50 < TARGET_P50_MS;
  console.log(
    `request ${String(Math.round(raw.length / 1024)).padStart(4)} KB: parse ${fmt(pct(r.base, 50))} p50 / ${fmt(pct(r.base, 99))} p99;` +
      ` parse + translate ${fmt(pct(r.added, 50))} / ${fmt(pct(r.added, 99))}; added p50 ${fmt(added50)}${kb === 0 ? ` (target < ${TARGET_P50_MS} ms)` : ''}`,
  );
}

// A K2 answer as a Chat host streams it: ~500 chunks of reasoning and text, one tool call in pieces, usage last.
const chunk = (o: object) => `data: ${JSON.stringify(o)}\n\n`;
const parts: string[] = [];
for (let i = 0; i < 200; i++)
  parts.push(chunk({ id: 'c', model: 'kimi-k2.6', choices: [{ index: 0, delta: { reasoning_content: 'thinking a bit ' } }] }));
for (let i = 0; i < 300; i++) parts.push(chunk({ id: 'c', choices: [{ index: 0, delta: { content: 'word word ' } }] }));
parts.push(
  chunk({
    id: 'c',
    choices: [{ index: 0, delta: { tool_calls: [{ index: 0, id: 'functions.Write:0', function: { name: 'Write', arguments: '' } }] } }],
  }),
);
for (let i = 0; i < 20; i++)
  parts.push(
    chunk({
      id: 'c',
      choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: i ? ' ' : '{"file_path":"a","content":"' } }] } }],
    }),
  );
parts.push(chunk({ id: 'c', choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '"}' } }] } }] }));
parts.push(chunk({ id: 'c', choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] }));
parts.push(
  chunk({
    id: 'c',
    choices: [],
    usage: { prompt_tokens: 20000, completion_tokens: 2000, prompt_tokens_details: { cached_tokens: 18000 } },
  }),
);
parts.push('data: [DONE]\n\n');
const streamChunks = parts.map((p) => Buffer.from(p));
const s = interleave(
  () => {
    const r = new SseReader(() => {});
    for (const c of streamChunks) r.push(c);
    r.end();
  },
  () => {
    const t = new ChatToAnthropicStream('kimi-k2.6', 100);
    for (const c of streamChunks) t.push(c);
    t.end();
  },
);
console.log(
  `stream of ${streamChunks.length} chunks: SSE read ${fmt(pct(s.base, 50))} p50; read + translate ${fmt(pct(s.added, 50))} p50 / ${fmt(pct(s.added, 99))} p99` +
    ` → ${(((pct(s.added, 50) - pct(s.base, 50)) / streamChunks.length) * 1000).toFixed(2)} µs added per chunk`,
);

// Equality against the stand-in's own Anthropic answer for the same scripted turn.
const up = await startUpstream({ apiKey: 'k' });
try {
  const turn = {
    model: 'kimi-k2.6',
    max_tokens: 1000,
    stream: true,
    tools: [
      { name: 'Write', input_schema: { type: 'object', properties: { file_path: { type: 'string' }, content: { type: 'string' } } } },
    ],
    messages: [{ role: 'user', content: 'Primary working directory: /tmp/x\nWRITE a.txt same answer\nSAY done' }],
  };
  const post = async (path: string, body: unknown) =>
    Buffer.from(
      await (
        await fetch(`${up.url}${path}`, {
          method: 'POST',
          headers: { authorization: 'Bearer k', 'content-type': 'application/json' },
          body: JSON.stringify(body),
        })
      ).arrayBuffer(),
    );
  const direct = await post('/v1/messages', turn);
  const viaChat = await post('/v1/chat/completions', anthropicToChat(turn).body);
  const t = new ChatToAnthropicStream('kimi-k2.6', 0);
  const translated = Buffer.from(t.push(viaChat) + t.end());
  const read = (bytes: Buffer) => {
    const intents: string[] = [];
    const p = createResponseParser('anthropic', {
      status: 200,
      contentType: 'text/event-stream',
      events: { onIntent: (i) => intents.push(`${i.tool} ${i.path}`) },
    });
    p.push(bytes);
    const r = p.end();
    return { complete: r.complete, intents };
  };
  const a = read(direct);
  const b = read(translated);
  const same = JSON.stringify(a) === JSON.stringify(b);
  ok &&= same && a.intents.length === 1;
  console.log(
    `translated stream vs direct (parsed by the meter): ${same ? 'same' : 'DIFFERENT'} — ${JSON.stringify(a)} / ${JSON.stringify(b)}`,
  );
} finally {
  await up.close();
}
console.log(ok ? 'bench/translate: OK' : 'bench/translate: a target was missed');
process.exitCode = ok ? 0 : 1;
