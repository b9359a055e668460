import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSse, startAnthropicUpstream, type AnthropicUpstream } from '../upstream/index.ts';

const KEY = 'sk-upstream-test';
const CWD = '/tmp/flotilla-upstream-test/repo';
const TOOLS = [
  { name: 'Write', description: 'write a file', input_schema: { type: 'object' } },
  { name: 'Bash', description: 'run a command', input_schema: { type: 'object' } },
];

/** A body shaped like Claude Code 2.1.332's: the task among system-reminder blocks, the cwd in a role "system" message. */
function mainBody(task: string, extra: any[] = [], stream = true) {
  return {
    model: 'kimi-k2.6',
    max_tokens: 32000,
    stream,
    system: [{ type: 'text', text: 'You are a coding agent.' }],
    tools: TOOLS,
    messages: [
      {
        role: 'user',
        content: [
          { type: 'text', text: '<system-reminder>\nSome context.\n</system-reminder>' },
          { type: 'text', text: task },
        ],
      },
      { role: 'system', content: [{ type: 'text', text: `# Environment\n - Primary working directory: ${CWD}\n` }] },
      ...extra,
    ],
  };
}

let up: AnthropicUpstream;
beforeAll(async () => {
  up = await startAnthropicUpstream({ apiKey: KEY });
});
afterAll(async () => {
  await up.close();
});

async function post(path: string, body: unknown, headers: Record<string, string> = { authorization: `Bearer ${KEY}` }) {
  return fetch(up.url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', ...headers },
    body: JSON.stringify(body),
  });
}

describe('stand-in Anthropic upstream', () => {
  it('streams a tool_use as well-formed SSE with pings and cumulative message_delta usage', async () => {
    const res = await post('/v1/messages?beta=true', mainBody('WRITE src/hello.txt hi there'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const text = await res.text();
    // Every frame is `event: <type>\ndata: <json>` with data.type === the event name.
    const events = parseSse(text);
    for (const e of events) expect(e.data.type).toBe(e.event);
    const types = events.map((e) => e.event);
    expect(types[0]).toBe('message_start');
    expect(types.at(-1)).toBe('message_stop');
    expect(types.filter((t) => t === 'ping').length).toBeGreaterThanOrEqual(2);

    const start = events[0].data.message;
    expect(start.usage).toEqual({
      input_tokens: expect.any(Number),
      cache_read_input_tokens: expect.any(Number),
      cache_creation_input_tokens: expect.any(Number),
      output_tokens: 1,
    });

    const toolStart = events.find((e) => e.event === 'content_block_start' && e.data.content_block.type === 'tool_use')!;
    expect(toolStart.data.content_block).toMatchObject({ name: 'Write', input: {} });
    const idx = toolStart.data.index;
    const pieces = events
      .filter((e) => e.event === 'content_block_delta' && e.data.index === idx)
      .map((e) => {
        expect(e.data.delta.type).toBe('input_json_delta');
        return e.data.delta.partial_json as string;
      });
    expect(pieces.filter((p) => p.length > 0).length).toBeGreaterThanOrEqual(3);
    expect(JSON.parse(pieces.join(''))).toEqual({ file_path: `${CWD}/src/hello.txt`, content: 'hi there' });

    const deltas = events.filter((e) => e.event === 'message_delta').map((e) => e.data);
    expect(deltas.length).toBeGreaterThanOrEqual(2);
    const outs = deltas.map((d) => d.usage.output_tokens as number);
    for (let i = 1; i < outs.length; i++) expect(outs[i]).toBeGreaterThanOrEqual(outs[i - 1]);
    // The final total is repeated (cumulative, not incremental): a consumer must keep the last value, never sum.
    expect(outs.at(-1)).toBe(outs.at(-2));
    expect(deltas.at(-1).delta.stop_reason).toBe('tool_use');
    expect(deltas.at(-1).usage.input_tokens).toBe(start.usage.input_tokens);

    const rec = up.requests.at(-1)!;
    expect(rec).toMatchObject({ method: 'POST', path: '/v1/messages', url: '/v1/messages?beta=true', status: 200 });
    expect(rec.kind).toBe('tool_use:Write');
    expect(rec.body.model).toBe('kimi-k2.6');
    expect(rec.finished).toBe(true);
  });

  it('answers "Done." once the tool_result is in the conversation', async () => {
    const first = parseSse(await (await post('/v1/messages', mainBody('WRITE a.txt x'))).text());
    const toolUse = first.find((e) => e.event === 'content_block_start' && e.data.content_block.type === 'tool_use')!.data.content_block;
    const extra = [
      { role: 'assistant', content: [{ type: 'tool_use', id: toolUse.id, name: 'Write', input: {} }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: toolUse.id, content: 'File created successfully' }] },
    ];
    const events = parseSse(await (await post('/v1/messages', mainBody('WRITE a.txt x', extra))).text());
    const text = events
      .filter((e) => e.event === 'content_block_delta')
      .map((e) => e.data.delta.text)
      .join('');
    expect(text).toBe('Done.');
    expect(events.filter((e) => e.event === 'message_delta').at(-1)!.data.delta.stop_reason).toBe('end_turn');
  });

  it('is deterministic: the same request gets byte-identical streams', async () => {
    const a = await (await post('/v1/messages', mainBody('SAY same bytes please'))).text();
    const b = await (await post('/v1/messages', mainBody('SAY same bytes please'))).text();
    expect(a).toBe(b);
    expect(a).toContain('same bytes please'.split(' ')[0]);
  });

  it('answers non-streaming requests with a JSON message', async () => {
    const res = await post('/v1/messages', mainBody('SAY hello world', [], false));
    expect(res.status).toBe(200);
    const msg = await res.json();
    expect(msg).toMatchObject({
      type: 'message',
      role: 'assistant',
      model: 'kimi-k2.6',
      stop_reason: 'end_turn',
      content: [{ type: 'text', text: 'hello world' }],
    });
    expect(msg.usage).toEqual({
      input_tokens: expect.any(Number),
      output_tokens: expect.any(Number),
      cache_read_input_tokens: expect.any(Number),
      cache_creation_input_tokens: expect.any(Number),
    });
  });

  it('rejects missing or wrong credentials with 401 and accepts Bearer or x-api-key', async () => {
    for (const headers of [{}, { authorization: 'Bearer nope' }, { 'x-api-key': 'nope' }] as Record<string, string>[]) {
      const res = await post('/v1/messages', mainBody('SAY hi'), headers);
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({
        type: 'error',
        error: { type: 'authentication_error', message: 'Invalid Authentication' },
      });
    }
    expect((await post('/v1/messages', mainBody('SAY hi'), { 'x-api-key': KEY })).status).toBe(200);
    expect((await post('/v1/messages', mainBody('SAY hi'), { authorization: `Bearer ${KEY}` })).status).toBe(200);
  });

  it('counts tokens, lists models, answers the /api/hello probe', async () => {
    const ct = await post('/v1/messages/count_tokens?beta=true', { model: 'kimi-k2.6', messages: [{ role: 'user', content: 'hello' }] });
    expect(ct.status).toBe(200);
    expect(await ct.json()).toEqual({ input_tokens: expect.any(Number) });

    const models = await fetch(up.url + '/v1/models', { headers: { 'x-api-key': KEY } });
    const list = await models.json();
    expect(list.data.map((m: any) => m.id)).toContain('kimi-k2.6');

    expect((await fetch(up.url + '/api/hello', { method: 'HEAD' })).status).toBe(200);
    expect((await fetch(up.url + '/api/hello')).status).toBe(200);
  });

  it('answers side requests harmlessly (JSON that fits a requested schema)', async () => {
    const res = await post('/v1/messages', {
      model: 'kimi-k2.6',
      max_tokens: 100,
      stream: false,
      system: [{ type: 'text', text: 'You are naming a coding session.' }],
      messages: [{ role: 'user', content: [{ type: 'text', text: '<session>\nWRITE a.txt x\n</session>' }] }],
      output_config: {
        format: {
          type: 'json_schema',
          schema: { type: 'object', properties: { title: { type: 'string' } }, required: ['title'] },
        },
      },
    });
    const msg = await res.json();
    expect(msg.content).toHaveLength(1);
    expect(msg.content[0].type).toBe('text');
    expect(JSON.parse(msg.content[0].text)).toEqual({ title: expect.any(String) });
    expect(up.requests.at(-1)!.kind).toBe('side');
  });

  it('scripts provider errors with FAIL', async () => {
    const res = await post('/v1/messages', mainBody('FAIL 429 rate_limit_reached_error slow down'));
    expect(res.status).toBe(429);
    expect(await res.json()).toEqual({ type: 'error', error: { type: 'rate_limit_reached_error', message: 'slow down' } });
  });

  it('paces the stream with chunkDelayMs', async () => {
    const slow = await startAnthropicUpstream({ chunkDelayMs: 20 });
    try {
      const t0 = Date.now();
      const res = await fetch(slow.url + '/v1/messages', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(mainBody('SAY one two three four five six')),
      });
      const events = parseSse(await res.text());
      expect(Date.now() - t0).toBeGreaterThanOrEqual(15 * (events.length - 1));
    } finally {
      await slow.close();
    }
  });
});

describe('stand-in upstream directives for later tests', () => {
  it('FAIL xN fails the first N attempts of a task, then recovers; WAIT delays the answer', async () => {
    const up2 = await startAnthropicUpstream();
    try {
      const send = () =>
        fetch(up2.url + '/v1/messages', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(mainBody('FAIL x2 529 overloaded_error busy\nSAY recovered', [], false)),
        });
      expect((await send()).status).toBe(529);
      expect((await send()).status).toBe(529);
      const ok = await send();
      expect(ok.status).toBe(200);
      expect((await ok.json()).content[0].text).toBe('recovered');

      const t0 = Date.now();
      const slow = await fetch(up2.url + '/v1/messages', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(mainBody('WAIT 300\nSAY late')),
      });
      const reader = slow.body!.getReader();
      await reader.read();
      expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
      await reader.cancel();
    } finally {
      await up2.close();
    }
  });

  it('can refuse role "system" turns the way Anthropic words it (rejectSystemMessages)', async () => {
    const strict = await startAnthropicUpstream({ rejectSystemMessages: true });
    try {
      const send = (b: unknown) =>
        fetch(strict.url + '/v1/messages', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(b) });
      const res = await send(mainBody('SAY hi', [], false));
      expect(res.status).toBe(400);
      const j = await res.json();
      expect(j.error.type).toBe('invalid_request_error');
      expect(j.error.message).toMatch(/Unexpected role "system".*input message role/);
      // Without the system turn (Claude Code's fallback) it answers, still finding the cwd in the user turn.
      const b = mainBody(`WRITE x.txt y\nPrimary working directory: /elsewhere`, [], false);
      b.messages = b.messages.filter((m: any) => m.role !== 'system');
      const ok = await send(b);
      expect(ok.status).toBe(200);
      expect((await ok.json()).content[1].input.file_path).toBe('/elsewhere/x.txt');
    } finally {
      await strict.close();
    }
  });

  it('runs several WRITE/EDIT/BASH steps in order, one per turn, and reports tool errors', async () => {
    const up2 = await startAnthropicUpstream();
    try {
      const task = 'WRITE a.txt one\nEDIT a.txt one => two\nBASH ls -la';
      const extra: any[] = [];
      const seen: string[] = [];
      for (let turn = 0; turn < 4; turn++) {
        const res = await fetch(up2.url + '/v1/messages', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ ...mainBody(task, extra, false), tools: [...TOOLS, { name: 'Edit', input_schema: {} }] }),
        });
        const msg = await res.json();
        const tu = msg.content.find((b: any) => b.type === 'tool_use');
        if (!tu) {
          seen.push(`text:${msg.content[0].text}`);
          break;
        }
        seen.push(`${tu.name}:${JSON.stringify(tu.input)}`);
        extra.push({ role: 'assistant', content: msg.content });
        const isError = tu.name === 'Bash';
        extra.push({
          role: 'user',
          content: [{ type: 'tool_result', tool_use_id: tu.id, content: isError ? 'command not found' : 'ok', is_error: isError }],
        });
      }
      expect(seen).toEqual([
        `Write:${JSON.stringify({ file_path: `${CWD}/a.txt`, content: 'one' })}`,
        `Edit:${JSON.stringify({ file_path: `${CWD}/a.txt`, old_string: 'one', new_string: 'two' })}`,
        `Bash:${JSON.stringify({ command: 'ls -la', description: 'Run a command' })}`,
        'text:Tool error: command not found',
      ]);
    } finally {
      await up2.close();
    }
  });

  it('CALL names any declared tool with a JSON input, $CWD replaced; undeclared or malformed, it is no step', async () => {
    const tools = [...TOOLS, { name: 'Read', input_schema: {} }];
    const answer = async (task: string) => {
      const res = await post('/v1/messages', { ...mainBody(task, [], false), tools });
      return ((await res.json()).content as any[]).find((b) => b.type === 'tool_use') ?? null;
    };
    const tu = await answer('CALL Read {"file_path":"$CWD/doc.pdf","pages":["1"]}');
    expect(tu).toMatchObject({ name: 'Read', input: { file_path: `${CWD}/doc.pdf`, pages: ['1'] } });
    expect(await answer('CALL ToolSearch {"query":"x"}')).toBeNull();
    expect(await answer('CALL Read {not json}')).toBeNull();
  });
});
