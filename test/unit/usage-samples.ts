// Wire samples for the usage parser tests (test/unit/usage-*.test.ts): Anthropic streams captured from the stand-in
// upstream over loopback, and hand-written OpenAI chat / Responses / Anthropic samples with the providers' quirks.
import { startAnthropicUpstream } from '../upstream/index.ts';
import type { ApiStyle } from '../../electron/engine/meter/usage/index.ts';

export interface Sample {
  name: string;
  style: ApiStyle;
  status: number;
  contentType: string | undefined;
  bytes: Buffer;
}

export const CWD = '/tmp/flotilla-usage-test/repo';
const TOOLS = ['Write', 'Edit', 'Bash', 'MultiEdit', 'NotebookEdit'].map((name) => ({
  name,
  description: name,
  input_schema: { type: 'object' },
}));

export function mainBody(task: string, stream = true) {
  return {
    model: 'kimi-k2.6',
    max_tokens: 32000,
    stream,
    system: [{ type: 'text', text: 'You are a coding agent.' }],
    tools: TOOLS,
    messages: [
      { role: 'user', content: [{ type: 'text', text: task }] },
      { role: 'system', content: [{ type: 'text', text: `# Environment\n - Primary working directory: ${CWD}\n` }] },
    ],
  };
}

/** Capture real Anthropic responses from the stand-in upstream (fetch over loopback). */
export async function captureAnthropic(): Promise<Record<string, Sample>> {
  const up = await startAnthropicUpstream({ pingEvery: 2 });
  try {
    const grab = async (name: string, task: string, stream = true): Promise<Sample> => {
      const res = await fetch(up.url + '/v1/messages?beta=true', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
        body: JSON.stringify(mainBody(task, stream)),
      });
      const bytes = Buffer.from(await res.arrayBuffer());
      return { name, style: 'anthropic', status: res.status, contentType: res.headers.get('content-type') ?? undefined, bytes };
    };
    return {
      write: await grab('anthropic: Write tool_use (captured)', 'WRITE src/café.txt Grüße 🚀 — naïve\\nline two'),
      edit: await grab('anthropic: Edit tool_use (captured)', 'EDIT src/a.ts const a = 1 => const a = "é🎉"'),
      say: await grab('anthropic: text with é and emoji (captured)', 'SAY Voilà — ça marche 🎉 naïve café 日本語 👩‍💻'),
      long: await grab('anthropic: long text (captured)', 'LONG 400'),
      json: await grab('anthropic: non-streaming Write (captured)', 'WRITE notes/plan.md the plan', false),
      fail429: await grab('anthropic: 429 error body (captured)', 'FAIL 429 rate_limit_reached_error Your account reached max RPM: 3'),
    };
  } finally {
    await up.close();
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// Hand-written samples

export const sse = (event: string | null, data: unknown, eol = '\n') =>
  (event ? `event: ${event}${eol}` : '') + `data: ${typeof data === 'string' ? data : JSON.stringify(data)}${eol}${eol}`;

/** Anthropic event (event line + data with the same type). */
const a = (type: string, rest: Record<string, unknown> = {}, eol = '\n') => sse(type, { type, ...rest }, eol);

/** A thinking + text stream with \r\n line endings, a comment, multi-line data and several cumulative message_deltas. */
export function anthropicThinking(): Sample {
  const E = '\r\n';
  let s = ': keep-alive comment' + E + E;
  s += a(
    'message_start',
    {
      message: {
        id: 'msg_1',
        type: 'message',
        role: 'assistant',
        model: 'kimi-k2-thinking',
        content: [],
        stop_reason: null,
        usage: { input_tokens: 120, cache_read_input_tokens: 4096, cache_creation_input_tokens: 64, output_tokens: 1 },
      },
    },
    E,
  );
  s += a('ping', {}, E);
  s += a('content_block_start', { index: 0, content_block: { type: 'thinking', thinking: '' } }, E);
  for (const t of ['Let me think… ', 'the user wants "é" ', 'and \\n escapes\n', '— done 🤔'])
    s += a('content_block_delta', { index: 0, delta: { type: 'thinking_delta', thinking: t } }, E);
  s += a('content_block_delta', { index: 0, delta: { type: 'signature_delta', signature: 'EqQBCgIYAhIM1gbcDa9GJwZA' } }, E);
  s += a('content_block_stop', { index: 0 }, E);
  s += a('content_block_start', { index: 1, content_block: { type: 'text', text: '' } }, E);
  s += a('content_block_delta', { index: 1, delta: { type: 'text_delta', text: 'Here is ' } }, E);
  s += a('ping', {}, E);
  s += a('content_block_delta', { index: 1, delta: { type: 'text_delta', text: 'the answer: ✓ \u2028 \t "quoted" \\ 🎉' } }, E);
  s += a('content_block_stop', { index: 1 }, E);
  // cumulative usage, three times; the last carries refreshed input/cache fields
  s += a('message_delta', { delta: { stop_reason: null }, usage: { output_tokens: 20 } }, E);
  // multi-line data (joined with \n: still the same JSON)
  s +=
    'event: message_delta' +
    E +
    'data: {"type":"message_delta",' +
    E +
    'data: "delta":{"stop_reason":null},"usage":{"output_tokens":35}}' +
    E +
    E;
  s += a(
    'message_delta',
    {
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { output_tokens: 42, input_tokens: 121, cache_read_input_tokens: 4096, cache_creation_input_tokens: null },
    },
    E,
  );
  s += a('message_stop', {}, E);
  return {
    name: 'anthropic: thinking + text, CRLF, multi-line data',
    style: 'anthropic',
    status: 200,
    contentType: 'text/event-stream',
    bytes: Buffer.from(s),
  };
}

/** Tool uses naming files: MultiEdit, NotebookEdit, a Bash (no intent), JSON in many small pieces; no event: lines. */
export function anthropicTools(): Sample {
  let s = '';
  const d = (o: Record<string, unknown>) => sse(null, o); // data-only frames (event names omitted)
  s += d({ type: 'message_start', message: { model: 'kimi-k2.6', usage: { input_tokens: 900, output_tokens: 1 } } });
  const tool = (index: number, name: string, input: unknown, pieces: number) => {
    let out = d({ type: 'content_block_start', index, content_block: { type: 'tool_use', id: `toolu_${index}`, name, input: {} } });
    const json = JSON.stringify(input);
    const size = Math.max(1, Math.ceil(json.length / pieces));
    out += d({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: '' } });
    for (let i = 0; i < json.length; i += size)
      out += d({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: json.slice(i, i + size) } });
    out += d({ type: 'content_block_stop', index });
    return out;
  };
  s += tool(0, 'MultiEdit', { file_path: '/repo/src/ünï.ts', edits: [{ old_string: 'a', new_string: 'b 🚀' }] }, 37);
  s += d({ type: 'ping' });
  s += tool(1, 'Bash', { command: 'ls -la', description: 'list' }, 3);
  s += tool(2, 'NotebookEdit', { notebook_path: '/repo/nb/analysis.ipynb', new_source: 'print("hé")' }, 5);
  s += tool(3, 'Write', { content: 'x'.repeat(300) + '"quoted" é', file_path: '/repo/late-key.txt' }, 64);
  s += d({ type: 'message_delta', delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 180 } });
  s += d({ type: 'message_stop' });
  return {
    name: 'anthropic: MultiEdit/NotebookEdit/Bash/Write, data-only frames',
    style: 'anthropic',
    status: 200,
    contentType: undefined,
    bytes: Buffer.from(s),
  };
}

const chunk = (id: string, model: string, choices: unknown[], extra: Record<string, unknown> = {}) =>
  sse(null, { id, object: 'chat.completion.chunk', created: 1767225600, model, choices, ...extra });

/** Standard OpenAI chat stream with include_usage: final chunk with empty choices, usage:null on the others. */
export function openaiStandard(): Sample {
  const m = 'kimi-k2.6';
  let s = chunk('c1', m, [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }], { usage: null });
  for (const t of ['Héllo', ' wörld ', '🚀 — "quoted"\n', 'done.'])
    s += chunk('c1', m, [{ index: 0, delta: { content: t }, finish_reason: null }], { usage: null });
  s += chunk('c1', m, [{ index: 0, delta: {}, finish_reason: 'stop' }], { usage: null });
  s += chunk('c1', m, [], {
    usage: { prompt_tokens: 1200, completion_tokens: 9, total_tokens: 1209, prompt_tokens_details: { cached_tokens: 1024 } },
  });
  s += 'data: [DONE]\n\n';
  return {
    name: 'openai: standard stream, include_usage chunk',
    style: 'openai',
    status: 200,
    contentType: 'text/event-stream; charset=utf-8',
    bytes: Buffer.from(s),
  };
}

/** Moonshot quirks: usage in choices[0].usage of the last chunk, cache hits in top-level usage.cached_tokens; reasoning_content. */
export function openaiMoonshot(): Sample {
  const m = 'kimi-k2-thinking';
  let s = chunk('m1', m, [{ index: 0, delta: { role: 'assistant', content: null, reasoning_content: '' }, finish_reason: null }]);
  for (const t of ['Thinking about é', ' and 日本語…'])
    s += chunk('m1', m, [{ index: 0, delta: { reasoning_content: t }, finish_reason: null }]);
  for (const t of ['Ça ', 'va 👍']) s += chunk('m1', m, [{ index: 0, delta: { content: t }, finish_reason: null }]);
  s += chunk('m1', m, [
    {
      index: 0,
      delta: {},
      finish_reason: 'stop',
      usage: { prompt_tokens: 500, completion_tokens: 12, total_tokens: 512, cached_tokens: 300 },
    },
  ]);
  s += 'data: [DONE]\n\n';
  return {
    name: 'openai: Moonshot choices[0].usage + cached_tokens',
    style: 'openai',
    status: 200,
    contentType: 'text/event-stream',
    bytes: Buffer.from(s),
  };
}

export const PATCH = [
  '*** Begin Patch',
  '*** Add File: src/new-é.ts',
  '+export const x = "🚀";',
  '*** Update File: src/old.ts',
  '*** Move to: src/renamed.ts',
  '@@',
  '-a',
  '+b',
  '*** Delete File: docs/obsolete.md',
  '*** End Patch',
].join('\n');

/** Chat tool calls: apply_patch (arguments in many pieces) then write_file, then finish_reason + usage chunk. */
export function openaiTools(): Sample {
  const m = 'kimi-k2.6';
  let s = chunk('t1', m, [{ index: 0, delta: { role: 'assistant', content: 'Patching.' }, finish_reason: null }]);
  const call = (index: number, id: string, name: string, args: string, pieces: number) => {
    let out = chunk('t1', m, [
      { index: 0, delta: { tool_calls: [{ index, id, type: 'function', function: { name, arguments: '' } }] }, finish_reason: null },
    ]);
    const size = Math.ceil(args.length / pieces);
    for (let i = 0; i < args.length; i += size)
      out += chunk('t1', m, [
        { index: 0, delta: { tool_calls: [{ index, function: { arguments: args.slice(i, i + size) } }] }, finish_reason: null },
      ]);
    return out;
  };
  s += call(0, 'call_a', 'apply_patch', JSON.stringify({ input: PATCH }), 23);
  s += call(1, 'call_b', 'write_file', JSON.stringify({ path: 'notes/todo é.md', content: 'hello' }), 4);
  s += call(2, 'call_c', 'read_file', JSON.stringify({ path: 'README.md' }), 2);
  s += chunk('t1', m, [{ index: 0, delta: {}, finish_reason: 'tool_calls' }]);
  s += chunk('t1', m, [], {
    usage: {
      prompt_tokens: 3000,
      completion_tokens: 150,
      total_tokens: 3150,
      prompt_tokens_details: { cached_tokens: 0 },
      cached_tokens: 2048,
    },
  });
  s += 'data: [DONE]\n\n';
  return {
    name: 'openai: tool_calls apply_patch + write_file',
    style: 'openai',
    status: 200,
    contentType: 'text/event-stream',
    bytes: Buffer.from(s),
  };
}

export function openaiJson(): Sample {
  const body = {
    id: 'chatcmpl-x',
    object: 'chat.completion',
    created: 1,
    model: 'kimi-k2.6',
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: 'Writing it. é',
          tool_calls: [
            {
              id: 'c1',
              type: 'function',
              function: { name: 'edit_file', arguments: JSON.stringify({ file_path: 'src/x.ts', old: 'a', new: 'b' }) },
            },
          ],
        },
        finish_reason: 'tool_calls',
      },
    ],
    usage: { prompt_tokens: 800, completion_tokens: 40, total_tokens: 840, cached_tokens: 512 },
  };
  return {
    name: 'openai: non-streaming with tool_calls (Moonshot cached_tokens)',
    style: 'openai',
    status: 200,
    contentType: 'application/json',
    bytes: Buffer.from(JSON.stringify(body)),
  };
}

const r = (type: string, rest: Record<string, unknown> = {}) => sse(type, { type, ...rest });
let seq = 0;
const rs = (type: string, rest: Record<string, unknown> = {}) => r(type, { ...rest, sequence_number: seq++ });

function responsesStream(final: 'completed' | 'incomplete' | 'failed'): string {
  seq = 0;
  const resp = (status: string, extra: Record<string, unknown> = {}) => ({
    id: 'resp_1',
    object: 'response',
    created_at: 1,
    status,
    model: 'kimi-k2.6',
    output: [],
    instructions: 'You are Codex.',
    ...extra,
  });
  let s = rs('response.created', { response: resp('in_progress') });
  s += rs('response.in_progress', { response: resp('in_progress') });
  s += rs('response.output_item.added', { output_index: 0, item: { id: 'rs_1', type: 'reasoning', summary: [] } });
  for (const t of ['**Planning** the é', ' change 🤔'])
    s += rs('response.reasoning_summary_text.delta', { item_id: 'rs_1', output_index: 0, summary_index: 0, delta: t });
  s += rs('response.output_item.done', {
    output_index: 0,
    item: { id: 'rs_1', type: 'reasoning', summary: [{ type: 'summary_text', text: '**Planning** the é change 🤔' }] },
  });
  s += rs('response.output_item.added', {
    output_index: 1,
    item: { id: 'msg_1', type: 'message', role: 'assistant', status: 'in_progress', content: [] },
  });
  s += rs('response.content_part.added', { item_id: 'msg_1', output_index: 1, content_index: 0, part: { type: 'output_text', text: '' } });
  for (const t of ["I'll ", 'patch — "two" files ', '🚀'])
    s += rs('response.output_text.delta', { item_id: 'msg_1', output_index: 1, content_index: 0, delta: t });
  s += rs('response.output_text.done', { item_id: 'msg_1', output_index: 1, content_index: 0, text: 'I\'ll patch — "two" files 🚀' });
  s += rs('response.output_item.done', {
    output_index: 1,
    item: { id: 'msg_1', type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'I\'ll patch — "two" files 🚀' }] },
  });
  // function_call apply_patch, arguments in deltas
  const args = JSON.stringify({ input: PATCH });
  s += rs('response.output_item.added', {
    output_index: 2,
    item: { id: 'fc_1', type: 'function_call', call_id: 'call_1', name: 'apply_patch', arguments: '' },
  });
  for (let i = 0; i < args.length; i += 17)
    s += rs('response.function_call_arguments.delta', { item_id: 'fc_1', output_index: 2, delta: args.slice(i, i + 17) });
  s += rs('response.function_call_arguments.done', { item_id: 'fc_1', output_index: 2, arguments: args });
  s += rs('response.output_item.done', {
    output_index: 2,
    item: { id: 'fc_1', type: 'function_call', call_id: 'call_1', name: 'apply_patch', arguments: args },
  });
  // custom tool call apply_patch (freeform input)
  const patch2 = '*** Begin Patch\n*** Update File: README.md\n@@\n-old\n+new\n*** End Patch\n';
  s += rs('response.output_item.added', {
    output_index: 3,
    item: { id: 'ctc_1', type: 'custom_tool_call', call_id: 'call_2', name: 'apply_patch', input: '' },
  });
  for (let i = 0; i < patch2.length; i += 11)
    s += rs('response.custom_tool_call_input.delta', { item_id: 'ctc_1', output_index: 3, delta: patch2.slice(i, i + 11) });
  s += rs('response.custom_tool_call_input.done', { item_id: 'ctc_1', output_index: 3, input: patch2 });
  s += rs('response.output_item.done', {
    output_index: 3,
    item: { id: 'ctc_1', type: 'custom_tool_call', call_id: 'call_2', name: 'apply_patch', input: patch2 },
  });
  const usage = {
    input_tokens: 2000,
    input_tokens_details: { cached_tokens: 1500 },
    output_tokens: 300,
    output_tokens_details: { reasoning_tokens: 100 },
    total_tokens: 2300,
  };
  if (final === 'completed') s += rs('response.completed', { response: resp('completed', { usage }) });
  else if (final === 'incomplete')
    s += rs('response.incomplete', { response: resp('incomplete', { usage, incomplete_details: { reason: 'max_output_tokens' } }) });
  else
    s += rs('response.failed', {
      response: resp('failed', { usage, error: { code: 'server_error', message: 'The model failed to generate a response.' } }),
    });
  return s;
}

export function responsesSample(final: 'completed' | 'incomplete' | 'failed'): Sample {
  return {
    name: `responses: ${final}`,
    style: 'responses',
    status: 200,
    contentType: 'text/event-stream',
    bytes: Buffer.from(responsesStream(final)),
  };
}

export function responsesJson(): Sample {
  const body = {
    id: 'resp_2',
    object: 'response',
    status: 'completed',
    model: 'kimi-k2.6',
    output: [
      { id: 'msg', type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Done ✓' }] },
      {
        id: 'fc',
        type: 'function_call',
        name: 'apply_patch',
        call_id: 'c',
        arguments: JSON.stringify({ input: '*** Begin Patch\n*** Add File: a.txt\n+x\n*** End Patch' }),
      },
    ],
    usage: {
      input_tokens: 100,
      input_tokens_details: { cached_tokens: 60 },
      output_tokens: 20,
      output_tokens_details: { reasoning_tokens: 0 },
    },
  };
  return {
    name: 'responses: non-streaming',
    style: 'responses',
    status: 200,
    contentType: 'application/json',
    bytes: Buffer.from(JSON.stringify(body)),
  };
}

/** Anthropic error mid-stream (HTTP 200 SSE, `event: error`). */
export function anthropicMidStreamError(): Sample {
  let s = a('message_start', {
    message: { model: 'kimi-k2.6', usage: { input_tokens: 50, cache_read_input_tokens: 0, output_tokens: 1 } },
  });
  s += a('content_block_start', { index: 0, content_block: { type: 'text', text: '' } });
  s += a('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'partial answ' } });
  s += a('error', { error: { type: 'overloaded_error', message: 'Overloaded' } });
  return {
    name: 'anthropic: error event mid-stream',
    style: 'anthropic',
    status: 200,
    contentType: 'text/event-stream',
    bytes: Buffer.from(s),
  };
}

/** Hand-written samples (no network). */
export function handSamples(): Sample[] {
  return [
    anthropicThinking(),
    anthropicTools(),
    anthropicMidStreamError(),
    openaiStandard(),
    openaiMoonshot(),
    openaiTools(),
    openaiJson(),
    responsesSample('completed'),
    responsesSample('incomplete'),
    responsesSample('failed'),
    responsesJson(),
  ];
}
