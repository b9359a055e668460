import { describe, expect, it } from 'vitest';
import { inspectRequest, isBillable, wireStyleForPath } from '../../electron/engine/meter/usage/index.ts';

const buf = (o: unknown) => Buffer.from(typeof o === 'string' ? o : JSON.stringify(o));

describe('isBillable', () => {
  it.each([
    ['anthropic', 'POST', '/v1/messages', true],
    ['anthropic', 'POST', '/v1/messages?beta=true', true],
    ['anthropic', 'post', '/anthropic/v1/messages/', true],
    ['anthropic', 'POST', '/coding/v1/messages?beta=true', true],
    ['anthropic', 'POST', '/v1/messages/count_tokens', false],
    ['anthropic', 'POST', '/v1/messages/count_tokens?beta=true', false],
    ['anthropic', 'GET', '/v1/messages', false],
    ['anthropic', 'HEAD', '/api/hello', false],
    ['anthropic', 'GET', '/v1/models', false],
    ['openai', 'POST', '/v1/chat/completions', true],
    ['openai', 'POST', '/openai/v1/chat/completions?x=1', true],
    ['openai', 'GET', '/v1/users/me/balance', false],
    ['openai', 'GET', '/v1/models', false],
    ['responses', 'POST', '/v1/responses', true],
    ['responses', 'POST', '/v1/responses?stream=true', true],
    ['responses', 'GET', '/v1/responses/resp_123', false],
    ['responses', 'POST', '/v1/responses/resp_123/cancel', false],
    ['responses', 'POST', '/v1/responses/input_tokens', false],
  ] as const)('%s %s %s → %s', (style, method, path, want) => {
    expect(isBillable(style, method, path)).toBe(want);
  });

  it('wireStyleForPath names the wire format of a model call', () => {
    expect(wireStyleForPath('/v1/messages?beta=true')).toBe('anthropic');
    expect(wireStyleForPath('/v1/chat/completions')).toBe('openai');
    expect(wireStyleForPath('/v1/responses')).toBe('responses');
    expect(wireStyleForPath('/v1/models')).toBeNull();
  });
});

describe('inspectRequest', () => {
  it('Anthropic: model, stream, prompt characters (system + messages + tools; base64 images skipped); never rewritten', () => {
    const body = {
      model: 'kimi-k2.6',
      stream: true,
      max_tokens: 32000,
      system: [{ type: 'text', text: 'You are helpful.' }],
      tools: [{ name: 'Write', description: 'Write a file', input_schema: { type: 'object' } }],
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'héllo 🚀' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'A'.repeat(100_000) } },
          ],
        },
      ],
    };
    const r = inspectRequest('anthropic', '/v1/messages?beta=true', buf(body));
    expect(r.model).toBe('kimi-k2.6');
    expect(r.stream).toBe(true);
    expect(r.rewritten).toBeNull();
    // every string value counted once (type tags and names included), the base64 payload not
    const strings = [
      'text',
      'You are helpful.',
      'Write',
      'Write a file',
      'object',
      'user',
      'text',
      'héllo 🚀',
      'image',
      'base64',
      'image/png',
    ];
    expect(r.promptChars).toBe(strings.join('').length);
  });

  it('tolerant: non-JSON, empty, array bodies', () => {
    const none = { model: null, stream: false, rewritten: null, promptChars: 0, maxTokens: null };
    expect(inspectRequest('anthropic', '/v1/messages', buf('not json'))).toEqual(none);
    expect(inspectRequest('openai', '/v1/chat/completions', Buffer.alloc(0))).toEqual(none);
    expect(inspectRequest('openai', '/v1/chat/completions', buf('[1,2]'))).toEqual(none);
    expect(inspectRequest('openai', '/v1/chat/completions', buf({ stream: 'yes' }))).toMatchObject({
      model: null,
      stream: false,
      rewritten: null,
    });
  });

  it('reads the output limit each style names, for the budget reservation', () => {
    expect(inspectRequest('anthropic', '/v1/messages', buf({ model: 'm', max_tokens: 32000 })).maxTokens).toBe(32000);
    expect(inspectRequest('responses', '/v1/responses', buf({ model: 'm', max_output_tokens: 900 })).maxTokens).toBe(900);
    expect(inspectRequest('openai', '/v1/chat/completions', buf({ model: 'm', max_completion_tokens: 64 })).maxTokens).toBe(64);
    expect(inspectRequest('openai', '/v1/chat/completions', buf({ model: 'm', max_tokens: -1 })).maxTokens).toBeNull();
  });

  it('OpenAI streaming without include_usage: inserts stream_options, every other byte unchanged', () => {
    const raw =
      '{\n  "model": "kimi-k2.6",\n  "stream": true,\n  "temperature": 1.0,\n  "messages": [{"role": "user", "content": "héllo"}]\n}';
    const r = inspectRequest('openai', '/v1/chat/completions', Buffer.from(raw));
    expect(r).toMatchObject({ model: 'kimi-k2.6', stream: true });
    expect(r.rewritten).not.toBeNull();
    const out = r.rewritten!.toString('utf8');
    expect(JSON.parse(out)).toEqual({ ...JSON.parse(raw), stream_options: { include_usage: true } });
    expect(out.replace('"stream_options":{"include_usage":true},', '')).toBe(raw); // 1.0 kept as written
    expect(r.promptChars).toBe('user'.length + 'héllo'.length);
  });

  it('OpenAI: existing stream_options without include_usage → merged; include_usage already true → untouched', () => {
    const a = inspectRequest(
      'openai',
      '/v1/chat/completions',
      buf({ model: 'm', stream: true, stream_options: { include_obfuscation: false }, messages: [] }),
    );
    expect(JSON.parse(a.rewritten!.toString())).toEqual({
      model: 'm',
      stream: true,
      stream_options: { include_obfuscation: false, include_usage: true },
      messages: [],
    });
    const b = inspectRequest(
      'openai',
      '/v1/chat/completions',
      buf({ model: 'm', stream: true, stream_options: { include_usage: false }, messages: [] }),
    );
    expect(JSON.parse(b.rewritten!.toString()).stream_options).toEqual({ include_usage: true });
    const c = inspectRequest('openai', '/v1/chat/completions', buf({ model: 'm', stream: true, stream_options: null, messages: [] }));
    expect(JSON.parse(c.rewritten!.toString()).stream_options).toEqual({ include_usage: true });
    const d = inspectRequest(
      'openai',
      '/v1/chat/completions',
      buf({ model: 'm', stream: true, stream_options: { include_usage: true }, messages: [] }),
    );
    expect(d.rewritten).toBeNull();
  });

  it('OpenAI: not streaming → not rewritten; Responses and Anthropic streams → not rewritten', () => {
    expect(inspectRequest('openai', '/v1/chat/completions', buf({ model: 'm', messages: [] })).rewritten).toBeNull();
    expect(inspectRequest('openai', '/v1/chat/completions', buf({ model: 'm', stream: false, messages: [] })).rewritten).toBeNull();
    const resp = inspectRequest(
      'responses',
      '/v1/responses',
      buf({ model: 'm', stream: true, instructions: 'Be brief.', input: [{ role: 'user', content: 'hi' }] }),
    );
    expect(resp).toMatchObject({
      model: 'm',
      stream: true,
      rewritten: null,
      promptChars: 'Be brief.'.length + 'user'.length + 'hi'.length,
    });
    // A Responses path on a route styled 'openai' is still not given chat's stream_options.
    expect(inspectRequest('openai', '/v1/responses', buf({ model: 'm', stream: true, input: 'x' })).rewritten).toBeNull();
    expect(inspectRequest('anthropic', '/v1/messages', buf({ model: 'm', stream: true, messages: [] })).rewritten).toBeNull();
  });

  it('OpenAI: an empty object body gets a valid rewrite', () => {
    const r = inspectRequest('openai', '/v1/chat/completions', buf(' {"stream":true} '));
    expect(JSON.parse(r.rewritten!.toString())).toEqual({ stream: true, stream_options: { include_usage: true } });
  });
});
