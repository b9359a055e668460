import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_BALANCE,
  parseSse,
  startAnthropicUpstream,
  startUpstream,
  type RecordedRequest,
  type Upstream,
} from '../upstream/index.ts';

const KEY = 'sk-upstream-openai-test';
const CWD = '/tmp/flotilla-upstream-openai/repo';
const AUTH = { authorization: `Bearer ${KEY}` };

/** Chat tools shaped like opencode's / aider's (JSON-schema parameters). */
const CHAT_TOOLS = [
  {
    type: 'function',
    function: {
      name: 'write',
      parameters: { type: 'object', properties: { filePath: { type: 'string' }, content: { type: 'string' } } },
    },
  },
  { type: 'function', function: { name: 'bash', parameters: { type: 'object', properties: { command: { type: 'string' } } } } },
];

/** Responses tools shaped like Codex's: a `shell` function with an argv array, and apply_patch as a custom tool. */
const CODEX_TOOLS = [
  {
    type: 'function',
    name: 'shell',
    parameters: {
      type: 'object',
      properties: { command: { type: 'array', items: { type: 'string' } }, workdir: { type: 'string' } },
    },
  },
  { type: 'custom', name: 'apply_patch', description: 'patch files', format: { type: 'grammar', syntax: 'lark', definition: '…' } },
];

function chatBody(task: string, opts: { stream?: boolean; includeUsage?: boolean; extra?: any[]; tools?: any[]; more?: any } = {}) {
  return {
    model: 'kimi-k2.6',
    stream: opts.stream ?? true,
    ...(opts.includeUsage ? { stream_options: { include_usage: true } } : {}),
    tools: opts.tools ?? CHAT_TOOLS,
    messages: [
      { role: 'system', content: `You are a coding agent.\nPrimary working directory: ${CWD}` },
      { role: 'user', content: task },
      ...(opts.extra ?? []),
    ],
    ...(opts.more ?? {}),
  };
}

/** A body shaped like Codex's: instructions, an environment_context turn, the prompt, tools. */
function responsesBody(task: string, opts: { stream?: boolean; extra?: any[]; tools?: any[]; more?: any } = {}) {
  return {
    model: 'kimi-k2.6',
    instructions: 'You are Codex.',
    stream: opts.stream ?? true,
    tools: opts.tools ?? CODEX_TOOLS,
    input: [
      {
        type: 'message',
        role: 'user',
        content: [{ type: 'input_text', text: `<environment_context>\n  <cwd>${CWD}</cwd>\n</environment_context>` }],
      },
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: task }] },
      ...(opts.extra ?? []),
    ],
    ...(opts.more ?? {}),
  };
}

/** Claude Code-shaped Anthropic body (see upstream.test.ts). */
function anthropicBody(task: string, stream = true) {
  return {
    model: 'kimi-k2.6',
    max_tokens: 32000,
    stream,
    system: [{ type: 'text', text: 'You are a coding agent.' }],
    tools: [
      { name: 'Write', input_schema: { type: 'object' } },
      { name: 'Bash', input_schema: { type: 'object' } },
    ],
    messages: [
      { role: 'user', content: [{ type: 'text', text: task }] },
      { role: 'system', content: [{ type: 'text', text: `Primary working directory: ${CWD}` }] },
    ],
  };
}

let up: Upstream;
beforeAll(async () => {
  up = await startUpstream({ apiKey: KEY });
});
afterAll(async () => {
  await up.close();
});

async function post(path: string, body: unknown, headers: Record<string, string> = AUTH, base = up.url) {
  return fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}
const chat = (body: unknown, headers?: Record<string, string>) => post('/v1/chat/completions', body, headers);
const responses = (body: unknown, headers?: Record<string, string>) => post('/v1/responses', body, headers);
const last = (): RecordedRequest => up.requests.at(-1)!;

/** Read a body to its end or until the connection breaks: what arrived, and whether it ended cleanly. */
async function readAll(res: Response): Promise<{ text: string; clean: boolean }> {
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  let text = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { text, clean: true };
      text += dec.decode(value, { stream: true });
    }
  } catch {
    return { text, clean: false };
  }
}

/** Chat SSE: every frame is a lone `data:` line holding a chunk, or [DONE]. */
function chatChunks(text: string) {
  const events = parseSse(text);
  for (const e of events) {
    expect(e.event).toBeNull();
    if (e.raw !== '[DONE]') expect(e.data).toMatchObject({ object: 'chat.completion.chunk', model: 'kimi-k2.6' });
  }
  return events;
}

/** Responses SSE: `event: <type>` matches data.type, sequence numbers count up from 0. */
function responsesEvents(text: string) {
  const events = parseSse(text);
  events.forEach((e, i) => {
    expect(e.data.type).toBe(e.event);
    expect(e.data.sequence_number).toBe(i);
  });
  return events;
}

describe('Chat Completions surface', () => {
  it('streams well-formed chunks ending in [DONE], without usage unless include_usage asks for it', async () => {
    const res = await chat(chatBody('SAY one two three four five six seven'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = chatChunks(await res.text());
    expect(events.at(-1)!.raw).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((e) => e.data);
    expect(chunks[0].choices[0].delta).toEqual({ role: 'assistant', content: '' });
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect(chunks.map((c) => c.choices[0].delta.content ?? '').join('')).toBe('one two three four five six seven');
    expect(chunks.filter((c) => c.choices[0].delta.content).length).toBeGreaterThanOrEqual(3);
    expect(chunks.at(-1).choices[0]).toEqual({ index: 0, delta: {}, finish_reason: 'stop' });
    expect(chunks.some((c) => 'usage' in c || 'usage' in c.choices[0])).toBe(false);
    expect(last()).toMatchObject({ surface: 'chat', kind: 'text', status: 200, finished: true, servedUsage: null });
  });

  it('sends a last chunk with empty choices and usage when stream_options.include_usage is true', async () => {
    const events = chatChunks(await (await chat(chatBody('SAY hello there', { includeUsage: true }))).text());
    expect(events.at(-1)!.raw).toBe('[DONE]');
    const usageChunk = events.at(-2)!.data;
    expect(usageChunk.choices).toEqual([]);
    const u = usageChunk.usage;
    expect(u).toEqual({
      prompt_tokens: expect.any(Number),
      completion_tokens: expect.any(Number),
      total_tokens: expect.any(Number),
      prompt_tokens_details: { cached_tokens: 0 },
    });
    expect(u.total_tokens).toBe(u.prompt_tokens + u.completion_tokens);
    expect(events.at(-3)!.data.choices[0].finish_reason).toBe('stop');
    expect(last().servedUsage).toEqual(u);
  });

  it('streams a tool call whose argument deltas concatenate to valid JSON (keys from the schema, cwd resolved)', async () => {
    const events = chatChunks(await (await chat(chatBody('WRITE src/a.txt hello\\nworld', { includeUsage: true }))).text());
    const calls = events.filter((e) => e.data?.choices?.[0]?.delta?.tool_calls).map((e) => e.data.choices[0].delta.tool_calls[0]);
    expect(calls[0]).toMatchObject({
      index: 0,
      id: expect.stringMatching(/^call_/),
      type: 'function',
      function: { name: 'write', arguments: '' },
    });
    const pieces = calls.slice(1).map((c) => {
      expect(c.index).toBe(0);
      return c.function.arguments as string;
    });
    expect(pieces.length).toBeGreaterThanOrEqual(3);
    expect(JSON.parse(pieces.join(''))).toEqual({ filePath: `${CWD}/src/a.txt`, content: 'hello\nworld' });
    const finish = events.find((e) => e.data?.choices?.[0]?.finish_reason)!.data.choices[0];
    expect(finish.finish_reason).toBe('tool_calls');
    expect(last().kind).toBe('tool_call:write');
  });

  it('answers non-streaming requests with a chat.completion; tool results advance the task and later turns hit the cache', async () => {
    const task = 'WRITE a.txt x\nBASH ls -la\nSAY all done';
    const first = await (await chat(chatBody(task, { stream: false }))).json();
    expect(first).toMatchObject({ object: 'chat.completion', model: 'kimi-k2.6', choices: [{ index: 0, finish_reason: 'tool_calls' }] });
    const msg = first.choices[0].message;
    expect(msg.tool_calls).toEqual([
      {
        id: expect.any(String),
        type: 'function',
        function: { name: 'write', arguments: JSON.stringify({ filePath: `${CWD}/a.txt`, content: 'x' }) },
      },
    ]);
    expect(first.usage.prompt_tokens_details.cached_tokens).toBe(0);
    expect(last().servedUsage).toEqual(first.usage);

    const extra: any[] = [msg, { role: 'tool', tool_call_id: msg.tool_calls[0].id, content: 'ok' }];
    const second = await (await chat(chatBody(task, { stream: false, extra }))).json();
    const call2 = second.choices[0].message.tool_calls[0];
    expect(call2.function).toEqual({ name: 'bash', arguments: JSON.stringify({ command: 'ls -la' }) });
    expect(call2.id).not.toBe(msg.tool_calls[0].id);
    // The prefix through the last assistant turn counts as cached: > 0, and a subset of the prompt.
    const u = second.usage;
    expect(u.prompt_tokens_details.cached_tokens).toBeGreaterThan(0);
    expect(u.prompt_tokens_details.cached_tokens).toBeLessThan(u.prompt_tokens);
    expect(u.prompt_tokens).toBeGreaterThan(first.usage.prompt_tokens);

    extra.push(second.choices[0].message, { role: 'tool', tool_call_id: call2.id, content: 'total 0' });
    const third = await (await chat(chatBody(task, { stream: false, extra }))).json();
    expect(third.choices[0]).toMatchObject({ finish_reason: 'stop', message: { role: 'assistant', content: 'all done' } });
  });

  it('finishes with "length" when max_tokens is smaller than the answer', async () => {
    const j = await (await chat(chatBody('LONG 100', { stream: false, more: { max_tokens: 10 } }))).json();
    expect(j.choices[0].finish_reason).toBe('length');
    expect(j.usage.completion_tokens).toBe(10);
    expect(j.choices[0].message.content.length).toBeLessThanOrEqual(40);
  });

  it('is deterministic: the same request gets byte-identical streams', async () => {
    const a = await (await chat(chatBody('WRITE a.txt same', { includeUsage: true }))).text();
    const b = await (await chat(chatBody('WRITE a.txt same', { includeUsage: true }))).text();
    expect(a).toBe(b);
  });
});

describe('Moonshot quirks (chat)', () => {
  let q: Upstream;
  beforeAll(async () => {
    q = await startUpstream({ quirks: { usageInChoice: true } });
  });
  afterAll(async () => {
    await q.close();
  });
  const send = (body: unknown) => post('/v1/chat/completions', body, {}, q.url);

  it('usageInChoice: usage inside choices[0] of the finish chunk, with or without include_usage', async () => {
    for (const includeUsage of [false, true]) {
      const events = chatChunks(await (await send(chatBody('SAY quirky usage', { includeUsage }))).text());
      expect(events.at(-1)!.raw).toBe('[DONE]');
      const fin = events.at(-2)!.data;
      expect(fin.choices).toHaveLength(1);
      expect(fin.choices[0]).toMatchObject({
        finish_reason: 'stop',
        usage: { prompt_tokens: expect.any(Number), completion_tokens: expect.any(Number) },
      });
      expect(fin.usage).toBeUndefined();
      expect(events.some((e) => Array.isArray(e.data?.choices) && e.data.choices.length === 0)).toBe(false);
      expect(q.requests.at(-1)!.servedUsage).toEqual(fin.choices[0].usage);
    }
  });

  it('topLevelCachedTokens: cache hits as usage.cached_tokens (streaming and not)', async () => {
    q.setQuirks({ topLevelCachedTokens: true });
    const extra = [
      { role: 'assistant', content: 'Earlier answer with some words in it.' },
      { role: 'user', content: 'SAY second turn' },
    ];
    const events = chatChunks(await (await send(chatBody('SAY first', { includeUsage: true, extra }))).text());
    const u = events.at(-2)!.data.usage;
    expect(u.prompt_tokens_details).toBeUndefined();
    expect(u.cached_tokens).toBeGreaterThan(0);
    expect(u.cached_tokens).toBeLessThan(u.prompt_tokens);
    const j = await (await send(chatBody('SAY first', { stream: false, extra }))).json();
    expect(j.usage).toEqual({
      prompt_tokens: u.prompt_tokens,
      completion_tokens: expect.any(Number),
      total_tokens: expect.any(Number),
      cached_tokens: u.cached_tokens,
    });
    expect(j.choices[0].message.content).toBe('second turn');
  });
});

describe('Responses surface', () => {
  it('streams text: created → in_progress → item/part events → completed with usage', async () => {
    const res = await responses(responsesBody('SAY the quick brown fox jumps over'));
    expect(res.status).toBe(200);
    const events = responsesEvents(await res.text());
    expect(events.map((e) => e.event)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(events[0].data.response).toMatchObject({ object: 'response', status: 'in_progress', model: 'kimi-k2.6', usage: null });
    const text = events
      .filter((e) => e.event === 'response.output_text.delta')
      .map((e) => e.data.delta)
      .join('');
    expect(text).toBe('the quick brown fox jumps over');
    const done = events.at(-1)!.data.response;
    expect(done.id).toBe(events[0].data.response.id);
    expect(done.status).toBe('completed');
    expect(done.output).toEqual([
      {
        id: expect.any(String),
        type: 'message',
        status: 'completed',
        role: 'assistant',
        content: [{ type: 'output_text', text, annotations: [] }],
      },
    ]);
    expect(done.usage).toEqual({
      input_tokens: expect.any(Number),
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: expect.any(Number),
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: done.usage.input_tokens + done.usage.output_tokens,
    });
    expect(last()).toMatchObject({ surface: 'responses', kind: 'text', servedUsage: done.usage });
  });

  it('streams a function_call whose argument deltas concatenate to valid JSON (Codex shell: argv + workdir)', async () => {
    const events = responsesEvents(await (await responses(responsesBody('BASH npm test'))).text());
    const added = events.find((e) => e.event === 'response.output_item.added' && e.data.item.type === 'function_call')!.data;
    expect(added.item).toMatchObject({ type: 'function_call', name: 'shell', call_id: expect.stringMatching(/^call_/), arguments: '' });
    const deltas = events.filter((e) => e.event === 'response.function_call_arguments.delta');
    expect(deltas.length).toBeGreaterThanOrEqual(3);
    for (const d of deltas) expect(d.data).toMatchObject({ item_id: added.item.id, output_index: added.output_index });
    const args = deltas.map((d) => d.data.delta).join('');
    expect(JSON.parse(args)).toEqual({ command: ['bash', '-lc', 'npm test'], workdir: CWD });
    expect(events.find((e) => e.event === 'response.function_call_arguments.done')!.data.arguments).toBe(args);
    const itemDone = events.filter((e) => e.event === 'response.output_item.done').at(-1)!.data.item;
    expect(itemDone).toMatchObject({ type: 'function_call', status: 'completed', arguments: args, call_id: added.item.call_id });
    expect(events.at(-1)!.data.response.output.at(-1)).toEqual(itemDone);
  });

  it('PATCH: a custom_tool_call apply_patch whose input is the patch text; the output advances the task', async () => {
    const task = 'PATCH a.txt hello\nPATCH b.txt x => y';
    const events = responsesEvents(await (await responses(responsesBody(task))).text());
    const item = events.filter((e) => e.event === 'response.output_item.done').at(-1)!.data.item;
    expect(item).toMatchObject({ type: 'custom_tool_call', name: 'apply_patch', status: 'completed' });
    expect(item.input).toBe('*** Begin Patch\n*** Add File: a.txt\n+hello\n*** End Patch');
    const deltas = events.filter((e) => e.event === 'response.custom_tool_call_input.delta').map((e) => e.data.delta);
    expect(deltas.length).toBeGreaterThanOrEqual(3);
    expect(deltas.join('')).toBe(item.input);
    expect(events.find((e) => e.event === 'response.custom_tool_call_input.done')!.data.input).toBe(item.input);

    const extra = [
      { type: 'custom_tool_call', call_id: item.call_id, name: 'apply_patch', input: item.input },
      { type: 'custom_tool_call_output', call_id: item.call_id, output: 'Success. Updated: A a.txt' },
    ];
    const second = await (await responses(responsesBody(task, { stream: false, extra }))).json();
    expect(second.output.at(-1).input).toBe('*** Begin Patch\n*** Update File: b.txt\n@@\n-x\n+y\n*** End Patch');
    expect(second.usage.input_tokens_details.cached_tokens).toBeGreaterThan(0);
    expect(second.usage.input_tokens_details.cached_tokens).toBeLessThan(second.usage.input_tokens);
  });

  it('PATCH through an apply_patch function tool, or through the shell when there is no apply_patch tool', async () => {
    const fnTool = [{ type: 'function', name: 'apply_patch', parameters: { type: 'object', properties: { input: { type: 'string' } } } }];
    const a = await (await responses(responsesBody('PATCH a.txt hi', { stream: false, tools: fnTool }))).json();
    expect(a.output.at(-1)).toMatchObject({ type: 'function_call', name: 'apply_patch' });
    expect(JSON.parse(a.output.at(-1).arguments)).toEqual({ input: '*** Begin Patch\n*** Add File: a.txt\n+hi\n*** End Patch' });

    const b = await (await responses(responsesBody('PATCH a.txt hi', { stream: false, tools: [CODEX_TOOLS[0]] }))).json();
    expect(JSON.parse(b.output.at(-1).arguments)).toEqual({
      command: ['apply_patch', '*** Begin Patch\n*** Add File: a.txt\n+hi\n*** End Patch'],
      workdir: CWD,
    });
    // A chat request can carry the patch too (function apply_patch).
    const c = await (
      await chat(chatBody('PATCH a.txt hi', { stream: false, tools: [{ type: 'function', function: { name: 'apply_patch' } }] }))
    ).json();
    expect(JSON.parse(c.choices[0].message.tool_calls[0].function.arguments).input).toContain('*** Add File: a.txt');
  });

  it('ends with response.incomplete (max_output_tokens) when the limit is smaller than the answer', async () => {
    const events = responsesEvents(await (await responses(responsesBody('LONG 200', { more: { max_output_tokens: 16 } }))).text());
    const term = events.at(-1)!;
    expect(term.event).toBe('response.incomplete');
    expect(term.data.response).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } });
    expect(term.data.response.usage.output_tokens).toBe(16);
    expect(term.data.response.output[0].status).toBe('incomplete');
    expect(events.some((e) => e.event === 'response.completed')).toBe(false);

    const j = await (await responses(responsesBody('LONG 200', { stream: false, more: { max_output_tokens: 16 } }))).json();
    expect(j).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' }, usage: { output_tokens: 16 } });
  });

  it('FAILMID: an error event, then response.failed carrying the usage consumed', async () => {
    const events = responsesEvents(await (await responses(responsesBody('FAILMID overloaded\nLONG 30'))).text());
    expect(events.filter((e) => e.event === 'response.output_text.delta').length).toBeGreaterThanOrEqual(1);
    const err = events.at(-2)!;
    expect(err.event).toBe('error');
    expect(err.data).toMatchObject({
      code: 'engine_overloaded_error',
      message: 'The engine is currently overloaded, please try again later',
    });
    const failed = events.at(-1)!;
    expect(failed.event).toBe('response.failed');
    expect(failed.data.response).toMatchObject({ status: 'failed', error: { code: 'engine_overloaded_error' } });
    expect(failed.data.response.usage.output_tokens).toBeGreaterThan(0);
    expect(last()).toMatchObject({ kind: 'failmid', servedUsage: failed.data.response.usage });
  });

  it('accepts a plain string input and answers non-streaming requests with a response object', async () => {
    const j = await (await responses({ model: 'kimi-k2.6', input: 'SAY plain', stream: false })).json();
    expect(j).toMatchObject({ object: 'response', status: 'completed', output: [{ type: 'message', content: [{ text: 'plain' }] }] });
    expect(last().servedUsage).toEqual(j.usage);
  });
});

describe('directives: CUT, SLOW, USAGE, FAILMID', () => {
  it('CUT ends the connection mid-stream without a terminal event, on every surface', async () => {
    // Anthropic: message_start + 3 events, then the socket goes.
    const a = await readAll(await post('/v1/messages', anthropicBody('CUT 3\nLONG 40')));
    expect(a.clean).toBe(false);
    const ae = parseSse(a.text);
    expect(ae.map((e) => e.event)).toEqual(['message_start', 'ping', 'content_block_start', 'content_block_delta']);
    const ar = last();
    expect(ar).toMatchObject({ surface: 'anthropic', cut: true, finished: false });
    // What was served is message_start's usage (input and cache counts; output 1).
    expect(ar.servedUsage).toEqual(ae[0].data.message.usage);

    const c = await readAll(await chat(chatBody('CUT 2\nLONG 40', { includeUsage: true })));
    expect(c.clean).toBe(false);
    const ce = chatChunks(c.text);
    expect(ce).toHaveLength(3);
    expect(ce.some((e) => e.raw === '[DONE]' || e.data.choices?.[0]?.finish_reason)).toBe(false);
    expect(last()).toMatchObject({ cut: true, servedUsage: null });

    // More events asked for than there are: still cut before the terminal one.
    const r = await readAll(await responses(responsesBody('CUT 500\nSAY short')));
    expect(r.clean).toBe(false);
    const re = responsesEvents(r.text);
    expect(re.at(-1)!.event).toBe('response.output_item.done');
    expect(re.some((e) => e.event === 'response.completed')).toBe(false);
    expect(last()).toMatchObject({ cut: true, servedUsage: null });
  });

  it('CUT xN cuts only the first N attempts; a non-streaming answer is cut half way', async () => {
    const body = chatBody('CUT x1 1\nSAY recovered', { stream: false });
    const first = await chat(body);
    expect(first.status).toBe(200);
    await expect(first.text()).rejects.toThrow();
    const second = await (await chat(body)).json();
    expect(second.choices[0].message.content).toBe('recovered');
  });

  it('SLOW paces every event (time to first token stays short)', async () => {
    const t0 = Date.now();
    const res = await chat(chatBody('SLOW 40\nSAY one two three four five six seven eight nine'));
    const reader = res.body!.getReader();
    await reader.read();
    const ttft = Date.now() - t0;
    let text = '';
    const dec = new TextDecoder();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += dec.decode(value);
    }
    const total = Date.now() - t0;
    const n = parseSse(text).length + 1;
    expect(n).toBeGreaterThanOrEqual(6);
    expect(ttft).toBeLessThan(40 * 2);
    expect(total).toBeGreaterThanOrEqual(35 * (n - 1));
  });

  it('USAGE forces the served numbers on all three surfaces', async () => {
    const task = 'USAGE 1000 2000 300 400\nSAY priced';
    const ae = parseSse(await (await post('/v1/messages', anthropicBody(task))).text());
    const aFinal = ae.filter((e) => e.event === 'message_delta').at(-1)!.data.usage;
    const anthropicUsage = { input_tokens: 1000, cache_read_input_tokens: 2000, cache_creation_input_tokens: 300, output_tokens: 400 };
    expect(aFinal).toEqual(expect.objectContaining(anthropicUsage));
    expect(last().servedUsage).toEqual(anthropicUsage);

    const cj = await (await chat(chatBody(task, { stream: false }))).json();
    expect(cj.usage).toEqual({
      prompt_tokens: 3300,
      completion_tokens: 400,
      total_tokens: 3700,
      prompt_tokens_details: { cached_tokens: 2000 },
    });
    const chatRec = last();
    expect(chatRec.servedUsage).toEqual(cj.usage);
    // kimi-k2.6 ($0.95 miss / $0.16 hit / $4.00 out per 1M): what a meter must charge for the chat answer.
    const s = chatRec.servedUsage!;
    const cached = s.prompt_tokens_details.cached_tokens;
    const dollars = ((s.prompt_tokens - cached) * 0.95 + cached * 0.16 + s.completion_tokens * 4.0) / 1e6;
    expect(dollars).toBeCloseTo(0.003155, 9);

    const re = responsesEvents(await (await responses(responsesBody('USAGE 10 20 0 30 7\nSAY priced'))).text());
    expect(re.at(-1)!.data.response.usage).toEqual({
      input_tokens: 30,
      input_tokens_details: { cached_tokens: 20 },
      output_tokens: 30,
      output_tokens_details: { reasoning_tokens: 7 },
      total_tokens: 60,
    });
    expect(last().servedUsage).toEqual(re.at(-1)!.data.response.usage);
  });

  it('FAILMID: text, then an error in the stream (Anthropic event: error; chat data: {error}, no [DONE])', async () => {
    const a = await readAll(await post('/v1/messages', anthropicBody('FAILMID rate_limit_reached_error too fast\nLONG 20')));
    expect(a.clean).toBe(true);
    const ae = parseSse(a.text);
    expect(ae.some((e) => e.event === 'content_block_delta')).toBe(true);
    expect(ae.at(-1)).toMatchObject({
      event: 'error',
      data: { type: 'error', error: { type: 'rate_limit_reached_error', message: 'too fast' } },
    });
    expect(ae.some((e) => e.event === 'message_stop')).toBe(false);

    const c = await readAll(await chat(chatBody('FAILMID overloaded\nLONG 20', { includeUsage: true })));
    const ce = chatChunks(c.text.replace(/data: \{"error".*\n\n$/, ''));
    expect(ce.some((e) => e.data.choices?.[0]?.delta?.content)).toBe(true);
    const tail = parseSse(c.text).at(-1)!;
    expect(tail.data).toEqual({
      error: { type: 'engine_overloaded_error', message: 'The engine is currently overloaded, please try again later' },
    });
    expect(c.text).not.toContain('[DONE]');
    expect(last()).toMatchObject({ kind: 'failmid', servedUsage: null });

    // Non-streaming: the same error as an HTTP status.
    const j = await chat(chatBody('FAILMID overloaded', { stream: false }));
    expect(j.status).toBe(429);
  });
});

describe('FAIL: every error kind the meter classifies, in each surface envelope', () => {
  const cases: Array<[string, number, string, RegExp]> = [
    ['ratelimit', 429, 'rate_limit_reached_error', /request reached organization max RPM/],
    ['overloaded', 429, 'engine_overloaded_error', /engine is currently overloaded/],
    ['quota', 429, 'exceeded_current_quota_error', /insufficient balance/],
    ['quota403', 403, 'exceeded_current_quota_error', /insufficient balance/],
    ['auth', 401, 'invalid_authentication_error', /^Invalid Authentication$/],
    ['model', 404, 'resource_not_found_error', /^Not found the model kimi-k2\.6 or Permission denied$/],
    ['context', 400, 'invalid_request_error', /^Your request exceeded model token limit: 262144 \(requested: \d+\)$/],
  ];
  for (const [preset, status, type, message] of cases) {
    it(`FAIL ${preset} → ${status} ${type}`, async () => {
      const o = await chat(chatBody(`FAIL ${preset}`));
      expect(o.status).toBe(status);
      const oj = await o.json();
      expect(Object.keys(oj)).toEqual(['error']);
      expect(oj.error).toEqual({ type, message: expect.stringMatching(message) });
      expect(last()).toMatchObject({ surface: 'chat', kind: 'error', status, servedUsage: null });

      const r = await responses(responsesBody(`FAIL ${preset}`));
      expect(r.status).toBe(status);
      expect((await r.json()).error).toEqual({ type, message: expect.stringMatching(message) });

      const a = await post('/v1/messages', anthropicBody(`FAIL ${preset}`));
      expect(a.status).toBe(status);
      expect(await a.json()).toEqual({ type: 'error', error: { type, message: expect.stringMatching(message) } });
    });
  }

  it('FAIL <status> <type> [message] and FAIL xN work as on the Anthropic surface', async () => {
    const r = await chat(chatBody('FAIL 429 rate_limit_reached_error slow down'));
    expect(await r.json()).toEqual({ error: { type: 'rate_limit_reached_error', message: 'slow down' } });
    const body = responsesBody('FAIL x2 429 engine_overloaded_error\nSAY back', { stream: false });
    expect((await responses(body)).status).toBe(429);
    expect((await responses(body)).status).toBe(429);
    const ok = await responses(body);
    expect(ok.status).toBe(200);
    expect((await ok.json()).output[0].content[0].text).toBe('back');
  });

  it('a token limit error names a requested size above the limit, from the request', async () => {
    const j = await (await chat(chatBody('FAIL context', { more: { max_tokens: 300000 } }))).json();
    const requested = Number(j.error.message.match(/requested: (\d+)/)[1]);
    expect(requested).toBeGreaterThan(300000);
  });
});

describe('auth, models, balance, and the one-server layout', () => {
  it('answers 401 with the OpenAI envelope for missing or wrong keys (Bearer only on the OpenAI routes)', async () => {
    const bad = [{}, { authorization: 'Bearer nope' }, { 'x-api-key': KEY }] as Record<string, string>[];
    for (const headers of bad) {
      for (const res of [await chat(chatBody('SAY hi'), headers), await responses(responsesBody('SAY hi'), headers)]) {
        expect(res.status).toBe(401);
        expect(await res.json()).toEqual({ error: { type: 'invalid_authentication_error', message: 'Invalid Authentication' } });
      }
    }
    const bal = await fetch(`${up.openaiBaseUrl}/users/me/balance`);
    expect(bal.status).toBe(401);
    expect(last()).toMatchObject({ status: 401, kind: 'unauthorized', servedUsage: null });
  });

  it('serves the balance (configurable) and the model list', async () => {
    const res = await fetch(`${up.openaiBaseUrl}/users/me/balance`, { headers: AUTH });
    expect(await res.json()).toEqual({
      code: 0,
      data: { available_balance: 49.58, voucher_balance: 46.58, cash_balance: 3.0 },
      scode: '0x0',
      status: true,
    });
    expect(DEFAULT_BALANCE.available_balance).toBe(49.58);
    up.setBalance({ available_balance: 0.5, cash_balance: 0.5, voucher_balance: 0 });
    const low = await (await fetch(`${up.url}/v1/users/me/balance`, { headers: AUTH })).json();
    expect(low.data).toEqual({ available_balance: 0.5, voucher_balance: 0, cash_balance: 0.5 });
    up.setBalance(DEFAULT_BALANCE);

    const models = await (await fetch(`${up.openaiBaseUrl}/models`, { headers: AUTH })).json();
    expect(models.object).toBe('list');
    expect(models.data[0]).toMatchObject({ id: 'kimi-k2.6', object: 'model', owned_by: 'moonshot', created: expect.any(Number) });
  });

  it("serves the Anthropic surface too, with or without Moonshot's /anthropic prefix", async () => {
    for (const base of [up.url, up.anthropicBaseUrl]) {
      const res = await post('/v1/messages?beta=true', anthropicBody('WRITE a.txt hi', false), AUTH, base);
      expect(res.status).toBe(200);
      const msg = await res.json();
      expect(msg.content[1]).toMatchObject({ type: 'tool_use', name: 'Write', input: { file_path: `${CWD}/a.txt`, content: 'hi' } });
      expect(last().servedUsage).toEqual(msg.usage);
    }
    const unauth = await post('/v1/messages', anthropicBody('SAY hi'), {}, up.anthropicBaseUrl);
    expect(await unauth.json()).toEqual({ type: 'error', error: { type: 'authentication_error', message: 'Invalid Authentication' } });
    expect((await fetch(`${up.url}/api/hello`, { method: 'HEAD' })).status).toBe(200);
    expect(up.modelRequests().every((r) => r.surface !== null)).toBe(true);
    expect(new Set(up.modelRequests().map((r) => r.surface))).toEqual(new Set(['anthropic', 'chat', 'responses']));
  });

  it('answers unknown routes with 404, and unknown models with 404 resource_not_found_error when asked to', async () => {
    const nf = await post('/v1/embeddings', { model: 'kimi-k2.6', input: 'x' });
    expect(nf.status).toBe(404);
    expect((await nf.json()).error.type).toBe('not_found_error');

    const strict = await startUpstream({ rejectUnknownModels: true });
    try {
      const r = await post('/v1/chat/completions', { ...chatBody('SAY hi'), model: 'kimi-k2-0905-preview' }, {}, strict.url);
      expect(r.status).toBe(404);
      expect(await r.json()).toEqual({
        error: { type: 'resource_not_found_error', message: 'Not found the model kimi-k2-0905-preview or Permission denied' },
      });
      expect((await post('/v1/chat/completions', chatBody('SAY hi'), {}, strict.url)).status).toBe(200);
    } finally {
      await strict.close();
    }
  });

  it('startAnthropicUpstream stays Anthropic-only', async () => {
    const a = await startAnthropicUpstream();
    try {
      const r = await post('/v1/chat/completions', chatBody('SAY hi'), {}, a.url);
      expect(r.status).toBe(404);
      expect((await r.json()).type).toBe('error');
    } finally {
      await a.close();
    }
  });
});
