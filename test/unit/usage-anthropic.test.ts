import { beforeAll, describe, expect, it } from 'vitest';
import { parseSse } from '../upstream/index.ts';
import {
  createResponseParser,
  tokensFromChars,
  type ParserEvents,
  type ParseResult,
  type TokenCounts,
} from '../../electron/engine/meter/usage/index.ts';
import { CWD, anthropicMidStreamError, anthropicThinking, anthropicTools, captureAnthropic, type Sample } from './usage-samples.ts';

let cap: Record<string, Sample>;
beforeAll(async () => {
  cap = await captureAnthropic();
});

function run(s: Sample, events?: ParserEvents, pieces: Buffer[] = [s.bytes], opts: { anthropicInputIncludesCache?: boolean } = {}) {
  const p = createResponseParser(s.style, { status: s.status, contentType: s.contentType, events, ...opts });
  for (const b of pieces) p.push(b);
  return p.end();
}

/** Independent oracle: the stand-in's own SSE parser, summing output characters. */
function oracleChars(text: string): number {
  let n = 0;
  for (const e of parseSse(text)) {
    const d = e.data?.delta;
    if (e.data?.type !== 'content_block_delta' || !d) continue;
    n += (d.text ?? d.thinking ?? d.partial_json ?? '').length;
  }
  return n;
}

describe('Anthropic SSE (captured from the stand-in upstream)', () => {
  it('takes input/cache from message_start and the LAST cumulative message_delta (never the sum)', () => {
    const s = cap.write;
    const events = parseSse(s.bytes.toString('utf8'));
    const deltas = events.filter((e) => e.event === 'message_delta');
    expect(deltas.length).toBeGreaterThanOrEqual(3); // intermediate + final repeated: a summing consumer would double count
    const last = deltas.at(-1)!.data.usage;
    const summed = deltas.reduce((n, e) => n + e.data.usage.output_tokens, 0);
    const r = run(s);
    expect(r.usage).toEqual<TokenCounts>({
      inputTokens: last.input_tokens,
      cacheReadTokens: last.cache_read_input_tokens,
      cacheWriteTokens: last.cache_creation_input_tokens,
      outputTokens: last.output_tokens,
    });
    expect(r.usage!.outputTokens).not.toBe(summed);
    expect(r).toMatchObject({ model: 'kimi-k2.6', complete: true, stopReason: 'tool_use', error: null });
    expect(r.estimatedOutputTokens).toBe(tokensFromChars(oracleChars(s.bytes.toString('utf8'))));
    expect(events.some((e) => e.event === 'ping')).toBe(true);
  });

  it('fires one Write / Edit intent with the absolute path', () => {
    const seen: Array<{ tool: string; path: string }> = [];
    run(cap.write, { onIntent: (i) => seen.push(i) });
    expect(seen).toEqual([{ tool: 'Write', path: `${CWD}/src/café.txt` }]);
    seen.length = 0;
    run(cap.edit, { onIntent: (i) => seen.push(i) });
    expect(seen).toEqual([{ tool: 'Edit', path: `${CWD}/src/a.ts` }]);
  });

  it('counts streamed text characters (é, CJK, ZWJ emoji) for the estimate', () => {
    const r = run(cap.say);
    const text = 'Voilà — ça marche 🎉 naïve café 日本語 👩‍💻';
    expect(oracleChars(cap.say.bytes.toString('utf8'))).toBe(text.length);
    expect(r.estimatedOutputTokens).toBe(tokensFromChars(text.length));
    expect(r.stopReason).toBe('end_turn');
  });

  it('reads a non-streaming Messages body (usage, stop reason, tool_use intent)', () => {
    const body = JSON.parse(cap.json.bytes.toString('utf8'));
    const seen: Array<{ tool: string; path: string }> = [];
    const r = run(cap.json, { onIntent: (i) => seen.push(i) });
    expect(r).toMatchObject({ model: 'kimi-k2.6', complete: true, stopReason: 'tool_use', error: null });
    expect(r.usage).toEqual({
      inputTokens: body.usage.input_tokens,
      cacheReadTokens: body.usage.cache_read_input_tokens,
      cacheWriteTokens: body.usage.cache_creation_input_tokens,
      outputTokens: body.usage.output_tokens,
    });
    expect(seen).toEqual([{ tool: 'Write', path: `${CWD}/notes/plan.md` }]);
  });

  it('reads an HTTP error envelope ({"type":"error","error":{…}})', () => {
    const r = run(cap.fail429);
    expect(r.error).toEqual({ status: 429, type: 'rate_limit_reached_error', message: 'Your account reached max RPM: 3' });
    expect(r.usage).toBeNull();
  });

  it('a stream cut mid-way: complete=false, usage as far as seen, estimate from the characters received', () => {
    const full = cap.long.bytes;
    const text = full.toString('utf8');
    // Cut inside the data line of the 60th text delta.
    let at = -1;
    for (let k = 0; k < 60; k++) at = text.indexOf('"text_delta","text":"', at + 1);
    const cutChar = at + 30;
    const prefix = text.slice(0, cutChar);
    const cut = Buffer.from(prefix);
    const r = run(cap.long, undefined, [cut]);
    const startUsage = parseSse(text)[0]!.data.message.usage;
    expect(r.complete).toBe(false);
    expect(r.stopReason).toBeNull();
    expect(r.usage).toEqual({
      inputTokens: startUsage.input_tokens,
      cacheReadTokens: startUsage.cache_read_input_tokens,
      cacheWriteTokens: startUsage.cache_creation_input_tokens,
      outputTokens: 1,
    });
    const whole = prefix.slice(0, prefix.lastIndexOf('\n\n') + 2); // the complete frames
    expect(r.estimatedOutputTokens).toBe(tokensFromChars(oracleChars(whole)));
    expect(r.estimatedOutputTokens).toBeGreaterThan(30);

    // Cut before message_start completed: nothing known.
    const early = run(cap.long, undefined, [full.subarray(0, 40)]);
    expect(early).toEqual<ParseResult>({
      model: null,
      usage: null,
      complete: false,
      estimatedOutputTokens: 0,
      stopReason: null,
      error: null,
    });
  });

  it('first token fires once, at the first non-empty delta (not at message_start or ping)', () => {
    const frames = cap.say.bytes.toString('utf8').split(/(?<=\n\n)/);
    const log: string[] = [];
    const p = createResponseParser('anthropic', {
      status: 200,
      contentType: 'text/event-stream',
      events: { onFirstToken: () => log.push('first') },
    });
    for (const f of frames) {
      log.push(parseSse(f)[0]!.event!);
      p.push(Buffer.from(f));
    }
    p.end();
    expect(log.filter((x) => x === 'first')).toHaveLength(1);
    expect(log[log.indexOf('first') - 1]).toBe('content_block_delta');
  });

  it('onProgress: at most once per event, estimates non-decreasing, usage exact at the end; peek() mid-stream', () => {
    const frames = cap.long.bytes.toString('utf8').split(/(?<=\n\n)/);
    const progress: Array<{ usage: TokenCounts | null; estimatedOutputTokens: number }> = [];
    const p = createResponseParser('anthropic', {
      status: 200,
      contentType: 'text/event-stream',
      events: { onProgress: (x) => progress.push(x) },
    });
    let mid: ParseResult | null = null;
    frames.forEach((f, i) => {
      const before = progress.length;
      p.push(Buffer.from(f));
      expect(progress.length - before).toBeLessThanOrEqual(1);
      if (i === Math.floor(frames.length / 2)) mid = p.peek();
    });
    const r = p.end();
    for (let i = 1; i < progress.length; i++)
      expect(progress[i]!.estimatedOutputTokens).toBeGreaterThanOrEqual(progress[i - 1]!.estimatedOutputTokens);
    expect(progress.at(-1)).toEqual({ usage: r.usage, estimatedOutputTokens: r.estimatedOutputTokens });
    expect(mid!.complete).toBe(false);
    expect(mid!.estimatedOutputTokens).toBeGreaterThan(0);
    expect(mid!.estimatedOutputTokens).toBeLessThan(r.estimatedOutputTokens);
    expect(p.end()).toBe(r); // idempotent
  });
});

describe('Anthropic SSE (hand-written)', () => {
  it('thinking + text with CRLF, a comment, multi-line data; later message_delta input/cache overwrite (null kept)', () => {
    const s = anthropicThinking();
    const r = run(s);
    expect(r).toEqual<ParseResult>({
      model: 'kimi-k2-thinking',
      usage: { inputTokens: 121, cacheReadTokens: 4096, cacheWriteTokens: 64, outputTokens: 42 },
      complete: true,
      estimatedOutputTokens: tokensFromChars(oracleChars(s.bytes.toString('utf8'))),
      stopReason: 'end_turn',
      error: null,
    });
    // thinking deltas count; the signature does not
    const thinking = ['Let me think… ', 'the user wants "é" ', 'and \\n escapes\n', '— done 🤔'].join('').length;
    const text = ('Here is ' + 'the answer: ✓ \u2028 \t "quoted" \\ 🎉').length;
    expect(r.estimatedOutputTokens).toBe(tokensFromChars(thinking + text));
  });

  it('intents: MultiEdit, NotebookEdit and a late-keyed Write, JSON in many pieces → one intent each at content_block_stop; Bash none', () => {
    const s = anthropicTools();
    expect(s.contentType).toBeUndefined(); // sniffed as SSE
    const frames = s.bytes.toString('utf8').split(/(?<=\n\n)/);
    const log: string[] = [];
    const p = createResponseParser('anthropic', {
      status: 200,
      contentType: undefined,
      events: { onIntent: (i) => log.push(`intent ${i.tool} ${i.path}`) },
    });
    for (const f of frames) {
      const d = JSON.parse(f.slice(6));
      log.push(`push ${d.type}${d.index !== undefined ? ' ' + d.index : ''}`);
      p.push(Buffer.from(f));
    }
    const r = p.end();
    const intents = log.filter((l) => l.startsWith('intent'));
    expect(intents).toEqual([
      'intent MultiEdit /repo/src/ünï.ts',
      'intent NotebookEdit /repo/nb/analysis.ipynb',
      'intent Write /repo/late-key.txt',
    ]);
    // Each intent comes right after its block's content_block_stop, not before.
    expect(log[log.indexOf(intents[0]!) - 1]).toBe('push content_block_stop 0');
    expect(log[log.indexOf(intents[1]!) - 1]).toBe('push content_block_stop 2');
    expect(log[log.indexOf(intents[2]!) - 1]).toBe('push content_block_stop 3');
    expect(log.filter((l) => l === 'push content_block_delta 0').length).toBeGreaterThan(20); // many partial_json pieces
    expect(r).toMatchObject({ complete: true, stopReason: 'tool_use', usage: { inputTokens: 900, outputTokens: 180 } });
  });

  it('a tool_use whose input arrives whole in content_block_start (no deltas) still gives its intent', () => {
    const frames = [
      { type: 'message_start', message: { model: 'm', usage: { input_tokens: 1, output_tokens: 1 } } },
      {
        type: 'content_block_start',
        index: 0,
        content_block: { type: 'tool_use', id: 't', name: 'Write', input: { file_path: '/a/b.txt', content: 'x' } },
      },
      { type: 'content_block_stop', index: 0 },
      { type: 'message_stop' },
    ];
    const seen: string[] = [];
    const p = createResponseParser('anthropic', {
      status: 200,
      contentType: 'text/event-stream',
      events: { onIntent: (i) => seen.push(i.path) },
    });
    p.push(Buffer.from(frames.map((f) => `event: ${f.type}\ndata: ${JSON.stringify(f)}\n\n`).join('')));
    expect(p.end().complete).toBe(true);
    expect(seen).toEqual(['/a/b.txt']);
  });

  it('an open tool_use in a cut stream gives no intent', () => {
    const s = anthropicTools();
    const text = s.bytes.toString('utf8');
    const cut = text.indexOf('"content_block_stop","index":0');
    const seen: string[] = [];
    run(s, { onIntent: (i) => seen.push(i.path) }, [Buffer.from(text.slice(0, cut))]);
    expect(seen).toEqual([]);
  });

  it('an error event mid-stream: error with the provider type, complete=false, usage as seen', () => {
    const r = run(anthropicMidStreamError());
    expect(r).toEqual<ParseResult>({
      model: 'kimi-k2.6',
      usage: { inputTokens: 50, cacheReadTokens: 0, cacheWriteTokens: 0, outputTokens: 1 },
      complete: false,
      estimatedOutputTokens: tokensFromChars('partial answ'.length),
      stopReason: null,
      error: { status: 200, type: 'overloaded_error', message: 'Overloaded' },
    });
  });

  it('compat-layer guard: trusts the wire by default; anthropicInputIncludesCache subtracts cache reads when input ≥ them', () => {
    const body = {
      type: 'message',
      model: 'm',
      content: [],
      stop_reason: 'end_turn',
      usage: { input_tokens: 5000, cache_read_input_tokens: 4000, output_tokens: 7 },
    };
    const s: Sample = {
      name: 'x',
      style: 'anthropic',
      status: 200,
      contentType: 'application/json',
      bytes: Buffer.from(JSON.stringify(body)),
    };
    expect(run(s).usage).toEqual({ inputTokens: 5000, cacheReadTokens: 4000, cacheWriteTokens: 0, outputTokens: 7 });
    expect(run(s, undefined, undefined, { anthropicInputIncludesCache: true }).usage).toEqual({
      inputTokens: 1000,
      cacheReadTokens: 4000,
      cacheWriteTokens: 0,
      outputTokens: 7,
    });
    // input < cache reads: evidently not inclusive; left as is even with the option.
    expect(run(anthropicThinking(), undefined, undefined, { anthropicInputIncludesCache: true }).usage!.inputTokens).toBe(121);
  });

  it('a message_delta without message_start still gives usage; non-SSE garbage is ignored', () => {
    const s =
      'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"max_tokens"},"usage":{"output_tokens":9}}\n\n' +
      'data: not json\n\n' +
      'event: message_stop\ndata: {"type":"message_stop"}\n\n';
    const p = createResponseParser('anthropic', { status: 200, contentType: 'text/event-stream' });
    p.push(Buffer.from(s));
    expect(p.end()).toMatchObject({
      usage: { inputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, outputTokens: 9 },
      stopReason: 'max_tokens',
      complete: true,
    });
  });
});
