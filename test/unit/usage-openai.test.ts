import { describe, expect, it } from 'vitest';
import { createResponseParser, tokensFromChars, type ParseResult } from '../../electron/engine/meter/usage/index.ts';
import { openaiJson, openaiMoonshot, openaiStandard, openaiTools, type Sample } from './usage-samples.ts';

function run(s: Sample, onIntent?: (i: { tool: string; path: string }) => void, bytes = s.bytes) {
  const p = createResponseParser(s.style, { status: s.status, contentType: s.contentType, events: { onIntent } });
  p.push(bytes);
  return p.end();
}

const chunk = (o: unknown) => `data: ${JSON.stringify(o)}\n\n`;

describe('OpenAI chat completions', () => {
  it('standard stream: include_usage chunk (choices: []), prompt includes cached → inputTokens = prompt − cached', () => {
    const r = run(openaiStandard());
    expect(r).toEqual<ParseResult>({
      model: 'kimi-k2.6',
      usage: { inputTokens: 1200 - 1024, cacheReadTokens: 1024, cacheWriteTokens: 0, outputTokens: 9 },
      complete: true,
      estimatedOutputTokens: tokensFromChars(['', 'Héllo', ' wörld ', '🚀 — "quoted"\n', 'done.'].join('').length),
      stopReason: 'stop',
      error: null,
    });
  });

  it('Moonshot: usage in choices[0].usage of the last chunk, cache hits in top-level cached_tokens; reasoning_content counted', () => {
    const r = run(openaiMoonshot());
    expect(r.usage).toEqual({ inputTokens: 200, cacheReadTokens: 300, cacheWriteTokens: 0, outputTokens: 12 });
    expect(r).toMatchObject({ model: 'kimi-k2-thinking', complete: true, stopReason: 'stop' });
    expect(r.estimatedOutputTokens).toBe(tokensFromChars(('Thinking about é' + ' and 日本語…' + 'Ça ' + 'va 👍').length));
  });

  it('tool_calls: apply_patch (every path, pieces concatenated by index) and write_file; read_file none', () => {
    const seen: Array<{ tool: string; path: string }> = [];
    const r = run(openaiTools(), (i) => seen.push(i));
    expect(seen).toEqual([
      { tool: 'apply_patch', path: 'src/new-é.ts' },
      { tool: 'apply_patch', path: 'src/old.ts' },
      { tool: 'apply_patch', path: 'src/renamed.ts' },
      { tool: 'apply_patch', path: 'docs/obsolete.md' },
      { tool: 'write_file', path: 'notes/todo é.md' },
    ]);
    // prompt_tokens_details.cached_tokens = 0 but top-level cached_tokens = 2048 (Moonshot): the cache hit counts.
    expect(r.usage).toEqual({ inputTokens: 3000 - 2048, cacheReadTokens: 2048, cacheWriteTokens: 0, outputTokens: 150 });
    expect(r.stopReason).toBe('tool_calls');
  });

  it('a tool call is complete (intent fired) when the next call of the choice starts, or at finish_reason', () => {
    const text = openaiTools().bytes.toString('utf8');
    const frames = text.split(/(?<=\n\n)/);
    const log: string[] = [];
    const p = createResponseParser('openai', {
      status: 200,
      contentType: 'text/event-stream',
      events: { onIntent: (i) => log.push(`intent ${i.path}`) },
    });
    frames.forEach((f, n) => {
      log.push(`frame ${n}`);
      p.push(Buffer.from(f));
    });
    p.end();
    const startOfCall1 = frames.findIndex((f) => f.includes('"id":"call_b"'));
    const startOfCall2 = frames.findIndex((f) => f.includes('"id":"call_c"'));
    expect(log[log.indexOf('intent src/new-é.ts') - 1]).toBe(`frame ${startOfCall1}`);
    expect(log[log.indexOf('intent notes/todo é.md') - 1]).toBe(`frame ${startOfCall2}`);

    // A single call: its intent comes with the finish_reason chunk.
    const one =
      chunk({
        id: 'z',
        model: 'm',
        choices: [
          {
            index: 0,
            delta: { tool_calls: [{ index: 0, id: 'c', function: { name: 'create_file', arguments: '' } }] },
            finish_reason: null,
          },
        ],
      }) +
      chunk({
        id: 'z',
        model: 'm',
        choices: [
          {
            index: 0,
            delta: { tool_calls: [{ index: 0, function: { arguments: '{"filePath":"a/b.ts","content":""}' } }] },
            finish_reason: null,
          },
        ],
      });
    const fin = chunk({ id: 'z', model: 'm', choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] });
    const seen: string[] = [];
    const q = createResponseParser('openai', {
      status: 200,
      contentType: 'text/event-stream',
      events: { onIntent: (i) => seen.push(i.path) },
    });
    q.push(Buffer.from(one));
    expect(seen).toEqual([]);
    q.push(Buffer.from(fin));
    expect(seen).toEqual(['a/b.ts']);
    // …and a cut stream (no finish, no [DONE]) gives none.
    const cutSeen: string[] = [];
    const c = createResponseParser('openai', {
      status: 200,
      contentType: 'text/event-stream',
      events: { onIntent: (i) => cutSeen.push(i.path) },
    });
    c.push(Buffer.from(one));
    c.end();
    expect(cutSeen).toEqual([]);
  });

  it('non-streaming body: usage (Moonshot cached_tokens), message tool_calls, content', () => {
    const seen: string[] = [];
    const r = run(openaiJson(), (i) => seen.push(`${i.tool}:${i.path}`));
    expect(r).toMatchObject({ model: 'kimi-k2.6', complete: true, stopReason: 'tool_calls', error: null });
    expect(r.usage).toEqual({ inputTokens: 288, cacheReadTokens: 512, cacheWriteTokens: 0, outputTokens: 40 });
    expect(seen).toEqual(['edit_file:src/x.ts']);
  });

  it('complete = [DONE], or finish_reason + usage without [DONE]; finish without usage and no [DONE] is not complete', () => {
    const s = openaiStandard();
    const text = s.bytes.toString('utf8');
    const noDone = text.replace('data: [DONE]\n\n', '');
    expect(run(s, undefined, Buffer.from(noDone)).complete).toBe(true);
    const noUsage = noDone.slice(0, noDone.lastIndexOf('data: {'));
    const r = run(s, undefined, Buffer.from(noUsage));
    expect(r).toMatchObject({ complete: false, usage: null, stopReason: 'stop' });
    expect(r.estimatedOutputTokens).toBeGreaterThan(0);
  });

  it('a stream cut mid-way: no usage, complete=false, estimate from the content received', () => {
    const s = openaiStandard();
    const text = s.bytes.toString('utf8');
    const cut = text.indexOf('wörld') + 3;
    const r = run(s, undefined, Buffer.from(text.slice(0, cut)));
    expect(r).toEqual<ParseResult>({
      model: 'kimi-k2.6',
      usage: null,
      complete: false,
      estimatedOutputTokens: tokensFromChars('Héllo'.length),
      stopReason: null,
      error: null,
    });
  });

  it('an error chunk mid-stream and an HTTP error body ({"error":{…}})', () => {
    const mid =
      chunk({ id: 'x', model: 'kimi-k2.6', choices: [{ index: 0, delta: { content: 'Hi' }, finish_reason: null }] }) +
      chunk({ error: { message: 'The engine is currently overloaded, please try again later', type: 'engine_overloaded_error' } });
    const s: Sample = { name: 'mid', style: 'openai', status: 200, contentType: 'text/event-stream', bytes: Buffer.from(mid) };
    expect(run(s).error).toEqual({
      status: 200,
      type: 'engine_overloaded_error',
      message: 'The engine is currently overloaded, please try again later',
    });

    const body = { error: { message: 'Invalid Authentication', type: 'invalid_authentication_error' } };
    const e: Sample = {
      name: 'e',
      style: 'openai',
      status: 401,
      contentType: 'application/json',
      bytes: Buffer.from(JSON.stringify(body)),
    };
    expect(run(e)).toMatchObject({
      complete: true,
      usage: null,
      error: { status: 401, type: 'invalid_authentication_error', message: 'Invalid Authentication' },
    });

    const html: Sample = {
      name: 'h',
      style: 'openai',
      status: 502,
      contentType: 'text/html',
      bytes: Buffer.from('<html>Bad Gateway</html>'),
    };
    expect(run(html).error).toEqual({ status: 502, type: null, message: '<html>Bad Gateway</html>' });
    const empty: Sample = { name: 'h', style: 'openai', status: 503, contentType: undefined, bytes: Buffer.alloc(0) };
    expect(run(empty).error).toEqual({ status: 503, type: null, message: 'HTTP 503' });
  });

  it('missing content-type: sniffs SSE from data:, JSON from {', () => {
    const s = openaiStandard();
    expect(run({ ...s, contentType: undefined }).usage).toEqual(run(s).usage);
    const j = openaiJson();
    expect(run({ ...j, contentType: undefined }).usage).toEqual(run(j).usage);
  });

  it('usage: null on every chunk and "usage" inside content do not confuse the fast path', () => {
    const m = 'kimi-k2.6';
    const text =
      chunk({ id: 'a', model: m, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }], usage: null }) +
      chunk({
        id: 'a',
        model: m,
        choices: [{ index: 0, delta: { content: 'say "usage": {"prompt_tokens": 9} and "finish_reason":"stop"' }, finish_reason: null }],
        usage: null,
      }) +
      chunk({
        id: 'a',
        model: m,
        choices: [{ index: 0, delta: {}, finish_reason: 'length' }],
        usage: { prompt_tokens: 10, completion_tokens: 20 },
      }) +
      'data: [DONE]\n\n';
    const r = run({ name: 'q', style: 'openai', status: 200, contentType: 'text/event-stream', bytes: Buffer.from(text) });
    expect(r).toEqual<ParseResult>({
      model: m,
      usage: { inputTokens: 10, cacheReadTokens: 0, cacheWriteTokens: 0, outputTokens: 20 },
      complete: true,
      estimatedOutputTokens: tokensFromChars('say "usage": {"prompt_tokens": 9} and "finish_reason":"stop"'.length),
      stopReason: 'length',
      error: null,
    });
  });
});
