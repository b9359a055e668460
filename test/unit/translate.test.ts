// The Anthropic ⇄ OpenAI Chat translation, on Claude Code's recorded request and on streams cut at every byte.
import { describe, expect, it } from 'vitest';
import { CLAUDE_CODE_MAIN_REQUEST } from '../../electron/engine/probe/claude-code-shape.ts';
import {
  ChatToAnthropicStream,
  anthropicToChat,
  chatErrorToAnthropic,
  chatJsonToAnthropic,
} from '../../electron/engine/meter/translate/index.ts';
import { createResponseParser } from '../../electron/engine/meter/usage/index.ts';
import { compatProfile } from '../../electron/engine/meter/index.ts';

const chunk = (o: object) => `data: ${JSON.stringify(o)}\n\n`;

/** Anthropic SSE text → its events, in order. */
function events(text: string): Array<{ event: string; data: any }> {
  return text
    .split('\n\n')
    .filter(Boolean)
    .map((frame) => {
      const ev = /^event: (.*)$/m.exec(frame)?.[1] ?? '';
      const data = JSON.parse(/^data: (.*)$/m.exec(frame)?.[1] ?? 'null');
      return { event: ev, data };
    });
}

/** A K2-like chat stream: reasoning, text, one tool call in pieces, finish, usage last (include_usage). */
const K2_STREAM = [
  chunk({
    id: 'chatcmpl-1',
    model: 'kimi-k2.7-code',
    choices: [{ index: 0, delta: { role: 'assistant', reasoning_content: 'The user wants ' } }],
  }),
  chunk({ id: 'chatcmpl-1', choices: [{ index: 0, delta: { reasoning_content: 'a file.' } }] }),
  chunk({ id: 'chatcmpl-1', choices: [{ index: 0, delta: { content: 'Writing it ✓ now.' } }] }),
  chunk({
    id: 'chatcmpl-1',
    choices: [
      {
        index: 0,
        delta: { tool_calls: [{ index: 0, id: 'functions.Write:0', type: 'function', function: { name: 'Write', arguments: '' } }] },
      },
    ],
  }),
  chunk({
    id: 'chatcmpl-1',
    choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '{"file_path":"/r/a.txt",' } }] } }],
  }),
  chunk({
    id: 'chatcmpl-1',
    choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '"content":"hi\\n"}' } }] } }],
  }),
  chunk({ id: 'chatcmpl-1', choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] }),
  chunk({
    id: 'chatcmpl-1',
    choices: [],
    usage: { prompt_tokens: 1200, completion_tokens: 57, prompt_tokens_details: { cached_tokens: 1000 } },
  }),
  'data: [DONE]\n\n',
].join('');

describe('anthropicToChat', () => {
  it("translates Claude Code's recorded request: system, system turns, tools, stream with usage", () => {
    const { body, stream, promptTokensEstimate } = anthropicToChat(structuredClone(CLAUDE_CODE_MAIN_REQUEST), {
      model: 'moonshotai/kimi-k2.6',
    });
    expect(stream).toBe(true);
    expect(body.model).toBe('moonshotai/kimi-k2.6');
    expect(body.stream_options).toEqual({ include_usage: true });
    expect(body.messages[0]).toMatchObject({ role: 'system' });
    expect(body.messages[0].content).toContain('x-anthropic-billing-header');
    expect(body.messages.some((m: any) => m.role === 'system' && String(m.content).includes('Primary working directory'))).toBe(true);
    const user = body.messages.find((m: any) => m.role === 'user');
    expect(user.content).toContain('Reply with the single word: ok');
    const names = body.tools.map((t: any) => t.function.name);
    expect(names).toContain('Write');
    expect(body.tools.find((t: any) => t.function.name === 'Write').function.parameters.required).toEqual(['file_path', 'content']);
    expect(JSON.stringify(body)).not.toContain('cache_control');
    expect(body).not.toHaveProperty('thinking');
    expect(body).not.toHaveProperty('context_management');
    expect(promptTokensEstimate).toBeGreaterThan(1000);
  });

  it('keeps tool ids, turns tool results into tool messages next to the calls, thinking into reasoning_content', () => {
    const { body } = anthropicToChat({
      model: 'kimi-k2.7-code',
      max_tokens: 100,
      stop_sequences: ['END'],
      tool_choice: { type: 'any' },
      tools: [
        { name: 'Read', input_schema: { type: 'object', properties: { file_path: { type: 'string' } } } },
        { type: 'web_search_20250305', name: 'web_search' },
      ],
      messages: [
        { role: 'user', content: 'read a.txt' },
        {
          role: 'assistant',
          content: [
            { type: 'thinking', thinking: 'I should read it.', signature: 'sig' },
            { type: 'text', text: 'Reading.' },
            { type: 'tool_use', id: 'functions.Read:0', name: 'Read', input: { file_path: 'a.txt' } },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'functions.Read:0', content: [{ type: 'text', text: 'hello' }] },
            { type: 'text', text: 'and now?' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBO' } },
          ],
        },
      ],
    });
    expect(body.tools).toHaveLength(1);
    expect(body.tool_choice).toBe('required');
    expect(body.stop).toEqual(['END']);
    expect(body.messages[1]).toEqual({
      role: 'assistant',
      content: 'Reading.',
      reasoning_content: 'I should read it.',
      tool_calls: [{ id: 'functions.Read:0', type: 'function', function: { name: 'Read', arguments: '{"file_path":"a.txt"}' } }],
    });
    expect(body.messages[2]).toEqual({ role: 'tool', tool_call_id: 'functions.Read:0', content: 'hello' });
    expect(body.messages[3].content).toEqual([
      { type: 'text', text: 'and now?' },
      { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBO' } },
    ]);
  });
});

describe('ChatToAnthropicStream', () => {
  it('gives the same events however the host stream is cut, and the meter reads the right usage', () => {
    const whole = new ChatToAnthropicStream('kimi-k2.7-code', 900);
    const reference = whole.push(Buffer.from(K2_STREAM)) + whole.end();
    const bytes = Buffer.from(K2_STREAM);
    for (const size of [1, 2, 7, 64]) {
      const t = new ChatToAnthropicStream('kimi-k2.7-code', 900);
      let out = '';
      for (let i = 0; i < bytes.length; i += size) out += t.push(bytes.subarray(i, i + size));
      out += t.end();
      expect(out, `chunks of ${size} bytes`).toBe(reference);
    }
    const ev = events(reference);
    expect(ev.map((e) => e.event)).toEqual([
      'message_start',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'content_block_start',
      'content_block_delta',
      'content_block_stop',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    expect(ev.filter((e) => e.event === 'message_start')).toHaveLength(1);
    expect(ev[1]!.data.content_block).toEqual({ type: 'thinking', thinking: '' });
    expect(ev[6]!.data.content_block).toEqual({ type: 'text', text: '' });
    expect(ev[7]!.data.delta).toEqual({ type: 'text_delta', text: 'Writing it ✓ now.' });
    expect(ev[9]!.data.content_block).toEqual({ type: 'tool_use', id: 'functions.Write:0', name: 'Write', input: {} });
    const args = ev
      .filter((e) => e.data.delta?.type === 'input_json_delta')
      .map((e) => e.data.delta.partial_json)
      .join('');
    expect(JSON.parse(args)).toEqual({ file_path: '/r/a.txt', content: 'hi\n' });
    expect(ev[13]!.data).toEqual({
      type: 'message_delta',
      delta: { stop_reason: 'tool_use', stop_sequence: null },
      usage: { input_tokens: 200, output_tokens: 57, cache_read_input_tokens: 1000, cache_creation_input_tokens: 0 },
    });
    // The Anthropic side parsed by the meter's own parser: exact usage, the edit intent, complete.
    const intents: string[] = [];
    const p = createResponseParser('anthropic', {
      status: 200,
      contentType: 'text/event-stream',
      events: { onIntent: (i) => intents.push(i.path) },
    });
    p.push(Buffer.from(reference));
    const r = p.end();
    expect(r.complete).toBe(true);
    expect(r.usage).toMatchObject({ inputTokens: 200, cacheReadTokens: 1000, outputTokens: 57 });
    expect(intents).toEqual(['/r/a.txt']);
  });

  it("takes Moonshot's usage inside the choice, a stream with no [DONE], and turns a mid-stream error into an error event", () => {
    const t = new ChatToAnthropicStream('k', 10);
    const out =
      t.push(
        Buffer.from(
          chunk({
            id: 'x',
            choices: [
              {
                index: 0,
                delta: { content: 'ok' },
                finish_reason: 'stop',
                usage: { prompt_tokens: 30, completion_tokens: 2, cached_tokens: 10 },
              },
            ],
          }),
        ),
      ) + t.end();
    const ev = events(out);
    expect(ev.at(-2)!.data.usage).toEqual({
      input_tokens: 20,
      output_tokens: 2,
      cache_read_input_tokens: 10,
      cache_creation_input_tokens: 0,
    });
    expect(ev.at(-2)!.data.delta.stop_reason).toBe('end_turn');
    const e = new ChatToAnthropicStream('k', 10);
    const bad = events(
      e.push(Buffer.from(chunk({ error: { message: 'engine is overloaded', type: 'engine_overloaded_error', code: 429 } }))) + e.end(),
    );
    expect(bad.map((x) => x.event)).toEqual(['message_start', 'error']);
    expect(bad[1]!.data.error.type).toBe('rate_limit_error');
  });
});

describe('whole answers and errors', () => {
  it('a non-streamed answer becomes an Anthropic message with parsed tool input', () => {
    const m = chatJsonToAnthropic(
      {
        id: 'c1',
        model: 'kimi-k2.6',
        choices: [
          {
            index: 0,
            finish_reason: 'tool_calls',
            message: { content: 'ok', tool_calls: [{ id: 'functions.Bash:3', function: { name: 'Bash', arguments: '{"command":"ls"}' } }] },
          },
        ],
        usage: { prompt_tokens: 50, completion_tokens: 5 },
      },
      'kimi-k2.6',
    );
    expect(m.content).toEqual([
      { type: 'text', text: 'ok' },
      { type: 'tool_use', id: 'functions.Bash:3', name: 'Bash', input: { command: 'ls' } },
    ]);
    expect(m.stop_reason).toBe('tool_use');
    expect(m.usage).toEqual({ input_tokens: 50, output_tokens: 5, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 });
  });

  it("maps the hosts' errors to the types Claude Code acts on; a context overflow reads as 'prompt is too long'", () => {
    expect(chatErrorToAnthropic(429, '{"error":{"message":"slow down","type":"rate_limit_exceeded"}}').error.type).toBe('rate_limit_error');
    expect(chatErrorToAnthropic(503, 'Service Unavailable').error).toEqual({ type: 'overloaded_error', message: 'Service Unavailable' });
    const overflow = chatErrorToAnthropic(
      400,
      JSON.stringify({ error: { message: "This model's maximum context length is 262144 tokens", type: 'BadRequestError' } }),
    );
    expect(overflow.error.type).toBe('invalid_request_error');
    expect(overflow.error.message).toMatch(/^prompt is too long: This model's maximum context length/);
    expect(chatErrorToAnthropic(401, '{"error":"bad key"}').error).toEqual({ type: 'authentication_error', message: 'bad key' });
  });
});

describe("K2's rules on a Chat host (the moonshot profile, Chat requests)", () => {
  it('renames foreign tool-call ids with one counter, adds reasoning_content, drops sampling, downgrades tool_choice', () => {
    const body: any = {
      model: 'accounts/fireworks/models/kimi-k2p7-code',
      temperature: 0.2,
      top_p: 0.9,
      tool_choice: 'required',
      messages: [
        { role: 'user', content: 'go' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'toolu_01', type: 'function', function: { name: 'Read', arguments: '{}' } }],
        },
        { role: 'tool', tool_call_id: 'toolu_01', content: 'x' },
        {
          role: 'assistant',
          content: null,
          reasoning_content: 'kept',
          tool_calls: [{ id: 'functions.Bash:1', type: 'function', function: { name: 'Bash', arguments: '{}' } }],
        },
        { role: 'tool', tool_call_id: 'functions.Bash:1', content: 'y' },
      ],
    };
    const fires = compatProfile('moonshot').apply(body, 'openai', body.model);
    expect(fires.map((f) => f.rule)).toEqual(['k2-tool-call-ids', 'k2-reasoning-content', 'k2-fixed-sampling', 'k2-tool-choice-auto']);
    expect(body.messages[1].tool_calls[0].id).toBe('functions.Read:0');
    expect(body.messages[2].tool_call_id).toBe('functions.Read:0');
    expect(body.messages[3].tool_calls[0].id).toBe('functions.Bash:1');
    expect([body.messages[1].reasoning_content, body.messages[3].reasoning_content]).toEqual([' ', 'kept']);
    expect(body).not.toHaveProperty('temperature');
    expect(body).not.toHaveProperty('top_p');
    expect(body.tool_choice).toBe('auto');
    // Nothing to do on a conforming request, and none of them touches the Anthropic surface.
    expect(compatProfile('moonshot').apply(body, 'openai', body.model)).toEqual([]);
    expect(
      compatProfile('moonshot')
        .apply({ model: 'kimi-k2.6', temperature: 0.5 }, 'anthropic', 'kimi-k2.6')
        .map((f) => f.rule),
    ).toEqual([]);
  });
});
