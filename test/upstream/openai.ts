// A stand-in for Moonshot's OpenAI-compatible surface (https://api.moonshot.ai/v1): Chat Completions and the Responses
// API (what Codex CLI speaks), plus the balance endpoint. Loopback only; scripted by the same directives as the
// Anthropic surface (list at the top of index.ts, parsing and planning in script.ts). Served by `startUpstream` (index.ts).
//
// Tools. A step runs only when the request declares a tool that can carry it out, matched by name, case and `_`/`-`
// ignored: WRITE → write | write_file | create_file; EDIT → edit | edit_file | str_replace | replace;
// BASH → bash | shell | shell_command | exec_command | run_command | terminal; PATCH → apply_patch (a Responses `custom`
// tool gets a `custom_tool_call` whose `input` is the patch text; a function tool gets `{"input": patch}`), else a shell
// tool running `apply_patch` (Codex intercepts that). Arguments follow the declared JSON schema where it names the keys
// (`file_path` / `path` / `filePath`, `content`, `old_string` / `oldString`, `command` as a string or Codex's argv array,
// `workdir`); without a schema: `{file_path, content}`, `{file_path, old_string, new_string}`, `{command}`.
//
// Usage (deterministic in the body): prompt ≈ JSON length / 4 of (instructions, messages/input, tools); cached = the same
// estimate of the prefix up to and including the last assistant turn (0 on a first turn; a subset of prompt); output ≈
// the length of what is sent / 4; reasoning 0. `USAGE in cr cw out [reasoning]` serves prompt = in + cr + cw, cached = cr
// (OpenAI has no cache-write field), output = out.
import type http from 'node:http';
import path from 'node:path';
import {
  beginSse,
  callInput,
  estimateTokens,
  findCwd,
  hash,
  patchText,
  planTurn,
  sendJson,
  sendJsonCut,
  sleep,
  splitInto,
  sseFrame,
  statusForType,
  textPieces,
  writeFrames,
  type ConvoMessage,
  type Counters,
  type Decision,
  type ErrorSpec,
  type ForcedUsage,
  type Frame,
  type RecordedRequest,
  type Step,
} from './script.ts';

/** Moonshot's departures from OpenAI's streaming usage (reference §4). */
export interface OpenAIQuirks {
  /** Streaming chat: usage inside `choices[0].usage` of the last chunk (the one with finish_reason), whatever include_usage says. */
  usageInChoice?: boolean;
  /** Chat: cache hits as top-level `usage.cached_tokens` instead of `usage.prompt_tokens_details.cached_tokens`. */
  topLevelCachedTokens?: boolean;
}

export interface Balance {
  available_balance: number;
  voucher_balance: number;
  cash_balance: number;
}

export const DEFAULT_BALANCE: Balance = { available_balance: 49.58, voucher_balance: 46.58, cash_balance: 3.0 };

import { strictMoonshotRejection } from './strict.ts';

export interface OpenAIUpstreamOptions {
  /** When set, requests must carry `Authorization: Bearer <key>`. */
  apiKey?: string;
  /** Delay between SSE events, in ms (default 0). A `SLOW <ms>` directive overrides it per request. */
  chunkDelayMs?: number;
  /** Model ids listed by GET /v1/models. */
  models?: string[];
  /** Answer 404 resource_not_found_error to a model id not in `models` (default false: any id is served). */
  rejectUnknownModels?: boolean;
  /** Enforce the reported Moonshot rejections that apply to the OpenAI surfaces (tools over 128, $ref on K3). */
  strict?: 'moonshot';
  quirks?: OpenAIQuirks;
}

export interface OpenAIContext {
  opts: OpenAIUpstreamOptions & { models: string[] };
  counters: Counters;
}

/** Moonshot's OpenAI-surface error envelope. */
export function openaiErrorBody(type: string, message: string) {
  return { error: { type, message } };
}

export function balanceBody(b: Balance) {
  return { code: 0, data: { ...b }, scode: '0x0', status: true };
}

/** `created` / `created_at`: fixed, so identical requests get byte-identical answers. 2026-01-01T00:00:00Z. */
const CREATED = 1767225600;

// ───────────────────────────── reading requests ─────────────────────────────

/** Text of a content value: a string, or parts (`text`, `input_text`, `output_text`). */
function partsText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .filter((p: any) => p && typeof p.text === 'string' && /^(text|input_text|output_text)$/.test(p.type ?? 'text'))
    .map((p: any) => p.text as string)
    .join('\n');
}

function chatConvo(messages: any[]): ConvoMessage[] {
  return messages.map((m) => {
    const role = typeof m?.role === 'string' ? m.role : '';
    const text = partsText(m?.content);
    return { role, typed: role === 'user' ? text : '', text, toolResults: role === 'tool' ? 1 : 0, toolError: null };
  });
}

const TOOL_OUTPUTS = new Set(['function_call_output', 'custom_tool_call_output', 'local_shell_call_output']);
const ASSISTANT_ITEMS = new Set(['function_call', 'custom_tool_call', 'local_shell_call', 'reasoning']);

/** Responses `input` items as messages: tool outputs become role "tool", calls and reasoning role "assistant". */
function responsesConvo(input: any[]): ConvoMessage[] {
  return input.map((it) => {
    if (TOOL_OUTPUTS.has(it?.type)) {
      const out = typeof it.output === 'string' ? it.output : JSON.stringify(it.output ?? '');
      return { role: 'tool', typed: '', text: out, toolResults: 1, toolError: null };
    }
    if (ASSISTANT_ITEMS.has(it?.type)) return { role: 'assistant', typed: '', text: '', toolResults: 0, toolError: null };
    const role = typeof it?.role === 'string' ? it.role : '';
    const text = partsText(it?.content);
    return { role, typed: role === 'user' ? text : '', text, toolResults: 0, toolError: null };
  });
}

const responsesInput = (body: any): any[] =>
  typeof body?.input === 'string' ? [{ role: 'user', content: body.input }] : Array.isArray(body?.input) ? body.input : [];

interface DeclaredTool {
  name: string;
  kind: 'function' | 'custom';
  /** The JSON schema of a function tool's arguments (may be absent). */
  schema: any;
}

function declaredTools(body: any): DeclaredTool[] {
  const out: DeclaredTool[] = [];
  for (const t of Array.isArray(body?.tools) ? body.tools : []) {
    if (t?.type === 'function' && t.function && typeof t.function.name === 'string')
      out.push({ name: t.function.name, kind: 'function', schema: t.function.parameters }); // chat
    else if (t?.type === 'function' && typeof t.name === 'string') out.push({ name: t.name, kind: 'function', schema: t.parameters });
    else if (t?.type === 'custom' && typeof t.name === 'string') out.push({ name: t.name, kind: 'custom', schema: null });
  }
  return out;
}

const ALIASES: Record<Exclude<Step['tool'], 'Call'>, string[]> = {
  Write: ['write', 'writefile', 'createfile'],
  Edit: ['edit', 'editfile', 'strreplace', 'replace'],
  Bash: ['bash', 'shell', 'shellcommand', 'execcommand', 'runcommand', 'terminal'],
  Patch: ['applypatch'],
};
const norm = (n: string) => n.toLowerCase().replace(/[^a-z]/g, '');

function toolFor(step: Step, tools: DeclaredTool[]): DeclaredTool | null {
  const byName = (names: string[]) => {
    for (const a of names) {
      const t = tools.find((x) => norm(x.name) === a && (x.kind === 'function' || a === 'applypatch'));
      if (t) return t;
    }
    return null;
  };
  if (step.tool === 'Call') return tools.find((x) => x.name === step.name && x.kind === 'function') ?? null;
  // No apply_patch tool: Codex also accepts `apply_patch` run through its shell tool.
  return byName(ALIASES[step.tool]) ?? (step.tool === 'Patch' ? byName(ALIASES.Bash) : null);
}

interface Call {
  name: string;
  kind: 'function' | 'custom';
  /** JSON arguments (function) or raw input (custom). */
  args: string;
}

/** Render a step as a call of the declared tool, with argument keys taken from its schema where it names them. */
function renderCall(step: Step, tool: DeclaredTool, at: (rel: string) => string, cwd: string | undefined): Call {
  const props: Record<string, any> = tool.schema?.properties ?? {};
  const pick = (keys: string[]) => keys.find((k) => k in props) ?? keys[0];
  const pathKey = pick(['file_path', 'path', 'filePath', 'filename', 'file']);
  const fn = (args: Record<string, unknown>): Call => ({ name: tool.name, kind: 'function', args: JSON.stringify(args) });
  const shell = (command: string, argv: string[]) => {
    const key = pick(['command', 'cmd']);
    const args: Record<string, unknown> = { [key]: props[key]?.type === 'array' ? argv : command };
    if ('workdir' in props && cwd) args.workdir = cwd;
    return fn(args);
  };
  switch (step.tool) {
    case 'Write':
      return fn({ [pathKey]: at(step.path), [pick(['content', 'contents', 'text', 'file_text'])]: step.content });
    case 'Edit':
      return fn({
        [pathKey]: at(step.path),
        [pick(['old_string', 'oldString', 'old_str', 'old', 'search'])]: step.old,
        [pick(['new_string', 'newString', 'new_str', 'new', 'replace'])]: step.new,
      });
    case 'Bash':
      return shell(step.command, ['bash', '-lc', step.command]);
    case 'Call':
      return fn(callInput(step, cwd));
    case 'Patch': {
      const patch = patchText(step);
      if (tool.kind === 'custom') return { name: tool.name, kind: 'custom', args: patch };
      if (norm(tool.name) === 'applypatch') return fn({ [pick(['input', 'patch'])]: patch });
      return shell(`apply_patch <<'EOF'\n${patch}\nEOF`, ['apply_patch', patch]);
    }
  }
}

/** The declared limit on output tokens: `max_output_tokens` (Responses), `max_completion_tokens` / `max_tokens` (chat). */
const outputLimit = (body: any): number | null => {
  const v = body?.max_output_tokens ?? body?.max_completion_tokens ?? body?.max_tokens;
  return typeof v === 'number' && v > 0 ? v : null;
};

interface Numbers {
  prompt: number;
  cached: number;
  output: number;
  reasoning: number;
}

/** What a turn will send: text, an optional tool call, the usage numbers and how the turn ends. */
interface Answer {
  kind: string;
  decision: Decision;
  text: string;
  call: (Call & { callId: string }) | null;
  /** The answer was cut short by the output limit (finish_reason "length" / status "incomplete"). */
  truncated: boolean;
  failMid: ErrorSpec | null;
  numbers: Numbers;
  /** K2's reasoning, streamed as `reasoning_content` before the text (strict K2 models that always reason). */
  reasoning?: string;
}

function answerFor(
  body: any,
  decision: Decision,
  tools: DeclaredTool[],
  at: (rel: string) => string,
  cwd: string | undefined,
  idBase: string,
  promptParts: { s: unknown; m: unknown[]; t: unknown },
  forced: ForcedUsage | null,
): Answer {
  let text = '';
  let call: Answer['call'] = null;
  let truncated = false;
  let kind = decision.type as string;
  if (decision.type === 'tool') {
    const c = renderCall(decision.step, toolFor(decision.step, tools)!, at, cwd);
    call = { ...c, callId: `call_${idBase}${String(decision.index).padStart(2, '0')}` };
    text = `I'll use ${c.name}.`;
    kind = `tool_call:${c.name}`;
  } else if (decision.type === 'text' || decision.type === 'failmid') {
    text = decision.text;
    const limit = outputLimit(body);
    if (decision.type === 'text' && limit !== null && estimateTokens(text) > limit) {
      text = text.slice(0, limit * 4);
      truncated = true;
    }
  }
  // The cached prefix: everything up to and including the last assistant turn (a first turn has nothing cached).
  const m = promptParts.m;
  let lastAssistant = -1;
  m.forEach((x: any, i) => {
    if (x?.role === 'assistant' || ASSISTANT_ITEMS.has(x?.type)) lastAssistant = i;
  });
  const prompt = estimateTokens(JSON.stringify(promptParts));
  const cached =
    lastAssistant < 0 ? 0 : Math.min(prompt - 1, estimateTokens(JSON.stringify({ ...promptParts, m: m.slice(0, lastAssistant + 1) })));
  const sentOut = decision.type === 'failmid' ? halfText(text) : text + (call?.args ?? '');
  const numbers: Numbers = forced
    ? {
        prompt: forced.input + forced.cacheRead + forced.cacheWrite,
        cached: forced.cacheRead,
        output: forced.output,
        reasoning: forced.reasoning,
      }
    : { prompt, cached, output: estimateTokens(sentOut), reasoning: 0 };
  return { kind, decision, text, call, truncated, failMid: decision.type === 'failmid' ? decision.error : null, numbers };
}

/** The pieces of text a FAILMID stream sends before its error: the first half (at least one). */
const halfPieces = (text: string) => {
  const p = textPieces(text);
  return p.slice(0, Math.max(1, Math.ceil(p.length / 2)));
};
const halfText = (text: string) => halfPieces(text).join('');

// ───────────────────────────── chat completions ─────────────────────────────

function chatUsage(n: Numbers, quirks: OpenAIQuirks) {
  const u: Record<string, any> = { prompt_tokens: n.prompt, completion_tokens: n.output, total_tokens: n.prompt + n.output };
  if (quirks.topLevelCachedTokens) u.cached_tokens = n.cached;
  else u.prompt_tokens_details = { cached_tokens: n.cached };
  if (n.reasoning) u.completion_tokens_details = { reasoning_tokens: n.reasoning };
  return u;
}

function chatFrames(body: any, id: string, a: Answer, quirks: OpenAIQuirks): Frame[] {
  const base = { id, object: 'chat.completion.chunk', created: CREATED, model: body.model };
  const frames: Frame[] = [];
  const chunk = (delta: unknown, finish: string | null = null, extra: Record<string, unknown> = {}) =>
    sseFrame(null, { ...base, choices: [{ index: 0, delta, finish_reason: finish, ...extra }] });
  frames.push({ text: chunk({ role: 'assistant', content: '' }) });
  if (a.reasoning) for (const piece of textPieces(a.reasoning)) frames.push({ text: chunk({ reasoning_content: piece }) });
  if (a.failMid) {
    for (const piece of halfPieces(a.text)) frames.push({ text: chunk({ content: piece }) });
    frames.push({ text: sseFrame(null, openaiErrorBody(a.failMid.type, a.failMid.message)), terminal: true });
    return frames;
  }
  if (a.text) for (const piece of textPieces(a.text)) frames.push({ text: chunk({ content: piece }) });
  if (a.call) {
    frames.push({
      text: chunk({ tool_calls: [{ index: 0, id: a.call.callId, type: 'function', function: { name: a.call.name, arguments: '' } }] }),
    });
    for (const piece of splitInto(a.call.args, 4))
      frames.push({ text: chunk({ tool_calls: [{ index: 0, function: { arguments: piece } }] }) });
  }
  const finish = a.call ? 'tool_calls' : a.truncated ? 'length' : 'stop';
  const usage = chatUsage(a.numbers, quirks);
  if (quirks.usageInChoice) {
    frames.push({ text: chunk({}, finish, { usage }), terminal: true, usage });
  } else {
    frames.push({ text: chunk({}, finish), terminal: true });
    if (body.stream_options?.include_usage === true)
      frames.push({ text: sseFrame(null, { ...base, choices: [], usage }), terminal: true, usage });
  }
  frames.push({ text: sseFrame(null, '[DONE]'), terminal: true });
  return frames;
}

function chatMessage(body: any, id: string, a: Answer, quirks: OpenAIQuirks) {
  const message: Record<string, unknown> = { role: 'assistant', content: a.text };
  if (a.reasoning) message.reasoning_content = a.reasoning;
  if (a.call) message.tool_calls = [{ id: a.call.callId, type: 'function', function: { name: a.call.name, arguments: a.call.args } }];
  return {
    id,
    object: 'chat.completion',
    created: CREATED,
    model: body.model,
    choices: [{ index: 0, message, finish_reason: a.call ? 'tool_calls' : a.truncated ? 'length' : 'stop' }],
    usage: chatUsage(a.numbers, quirks),
  };
}

// ───────────────────────────── responses ─────────────────────────────

function responsesUsage(n: Numbers) {
  return {
    input_tokens: n.prompt,
    input_tokens_details: { cached_tokens: n.cached },
    output_tokens: n.output,
    output_tokens_details: { reasoning_tokens: n.reasoning },
    total_tokens: n.prompt + n.output,
  };
}

function responseObject(body: any, id: string, status: string, output: unknown[], usage: unknown, extra: Record<string, unknown> = {}) {
  return {
    id,
    object: 'response',
    created_at: CREATED,
    status,
    error: null,
    incomplete_details: null,
    instructions: body.instructions ?? null,
    max_output_tokens: body.max_output_tokens ?? null,
    model: body.model,
    output,
    parallel_tool_calls: body.parallel_tool_calls ?? true,
    previous_response_id: body.previous_response_id ?? null,
    reasoning: body.reasoning ?? null,
    tool_choice: body.tool_choice ?? 'auto',
    tools: body.tools ?? [],
    usage,
    metadata: body.metadata ?? {},
    ...extra,
  };
}

interface Items {
  message: { id: string; text: string } | null;
  call: (Call & { callId: string; id: string }) | null;
}

function responseItems(rawBody: string, a: Answer): Items {
  return {
    message: a.text ? { id: `msg_${hash(`${rawBody}:msg`, 24)}`, text: a.text } : null,
    call: a.call ? { ...a.call, id: `${a.call.kind === 'custom' ? 'ctc' : 'fc'}_${hash(`${rawBody}:call`, 24)}` } : null,
  };
}

const messageItem = (m: { id: string; text: string }, status: string) => ({
  id: m.id,
  type: 'message',
  status,
  role: 'assistant',
  content: [{ type: 'output_text', text: m.text, annotations: [] }],
});

const callItem = (c: NonNullable<Items['call']>, done: boolean) =>
  c.kind === 'custom'
    ? {
        id: c.id,
        type: 'custom_tool_call',
        status: done ? 'completed' : 'in_progress',
        name: c.name,
        call_id: c.callId,
        input: done ? c.args : '',
      }
    : {
        id: c.id,
        type: 'function_call',
        status: done ? 'completed' : 'in_progress',
        name: c.name,
        call_id: c.callId,
        arguments: done ? c.args : '',
      };

function finalOutput(items: Items, a: Answer): unknown[] {
  const out: unknown[] = [];
  if (items.message) out.push(messageItem(items.message, a.truncated ? 'incomplete' : 'completed'));
  if (items.call) out.push(callItem(items.call, true));
  return out;
}

function responsesFrames(body: any, id: string, items: Items, a: Answer): Frame[] {
  const frames: Frame[] = [];
  let seq = 0;
  const ev = (type: string, data: Record<string, unknown>, extra: Omit<Frame, 'text'> = {}) =>
    frames.push({ text: sseFrame(type, { type, sequence_number: seq++, ...data }), ...extra });
  ev('response.created', { response: responseObject(body, id, 'in_progress', [], null) });
  ev('response.in_progress', { response: responseObject(body, id, 'in_progress', [], null) });
  let index = 0;
  if (items.message) {
    const m = items.message;
    const item_id = m.id;
    const output_index = index++;
    ev('response.output_item.added', { output_index, item: { ...messageItem(m, 'in_progress'), content: [] } });
    const part = { type: 'output_text', text: '', annotations: [] };
    ev('response.content_part.added', { item_id, output_index, content_index: 0, part });
    const pieces = a.failMid ? halfPieces(m.text) : textPieces(m.text);
    for (const delta of pieces) ev('response.output_text.delta', { item_id, output_index, content_index: 0, delta });
    if (a.failMid) {
      // The stream breaks off: an `error` event, then the failed response with what was consumed.
      const usage = responsesUsage(a.numbers);
      const { type, message } = a.failMid;
      ev('error', { code: type, message, param: null }, { terminal: true });
      ev(
        'response.failed',
        { response: responseObject(body, id, 'failed', [], usage, { error: { code: type, message } }) },
        { terminal: true, usage },
      );
      return frames;
    }
    ev('response.output_text.done', { item_id, output_index, content_index: 0, text: m.text });
    ev('response.content_part.done', { item_id, output_index, content_index: 0, part: { ...part, text: m.text } });
    ev('response.output_item.done', { output_index, item: messageItem(m, a.truncated ? 'incomplete' : 'completed') });
  }
  if (items.call) {
    const c = items.call;
    const item_id = c.id;
    const output_index = index++;
    ev('response.output_item.added', { output_index, item: callItem(c, false) });
    const custom = c.kind === 'custom';
    for (const delta of splitInto(c.args, 4))
      ev(custom ? 'response.custom_tool_call_input.delta' : 'response.function_call_arguments.delta', { item_id, output_index, delta });
    if (custom) ev('response.custom_tool_call_input.done', { item_id, output_index, input: c.args });
    else ev('response.function_call_arguments.done', { item_id, output_index, name: c.name, arguments: c.args });
    ev('response.output_item.done', { output_index, item: callItem(c, true) });
  }
  const usage = responsesUsage(a.numbers);
  const output = finalOutput(items, a);
  if (a.truncated) {
    const extra = { incomplete_details: { reason: 'max_output_tokens' } };
    ev('response.incomplete', { response: responseObject(body, id, 'incomplete', output, usage, extra) }, { terminal: true, usage });
  } else {
    ev('response.completed', { response: responseObject(body, id, 'completed', output, usage) }, { terminal: true, usage });
  }
  return frames;
}

// ───────────────────────────── K2 on a Chat host ─────────────────────────────

/**
 * What a strict K2 host sends: tool-call ids in K2's own form, `functions.<name>:<n>` with one counter across the
 * conversation (n = the calls already in it), and for models that always reason, their reasoning as
 * `reasoning_content` (which they then want back on later turns: strict.ts refuses a turn without it).
 */
function k2Answer(body: any, a: Answer): void {
  if (a.call) {
    const before = (body.messages as any[]).reduce(
      (n, m) => n + (m?.role === 'assistant' && Array.isArray(m.tool_calls) ? m.tool_calls.length : 0),
      0,
    );
    a.call.callId = `functions.${a.call.name}:${before}`;
  }
  if (/kimi-k3|kimi-k2\.7-code/.test(String(body.model))) a.reasoning = 'The task says what to do next; doing it.';
}

// ───────────────────────────── serving ─────────────────────────────

/** Serve POST /v1/chat/completions and POST /v1/responses. False when `p` is neither. Authorization is the caller's. */
export async function handleOpenAI(ctx: OpenAIContext, rec: RecordedRequest, res: http.ServerResponse, p: string): Promise<boolean> {
  if (rec.method !== 'POST' || (p !== '/v1/chat/completions' && p !== '/v1/responses')) return false;
  const chat = p === '/v1/chat/completions';
  rec.surface = chat ? 'chat' : 'responses';
  const { opts } = ctx;
  const quirks = opts.quirks ?? {};
  const body = rec.body;
  const fail = (status: number, type: string, message: string, kind: string) =>
    sendJson(rec, res, status, openaiErrorBody(type, message), kind);

  const valid = chat
    ? body && Array.isArray(body.messages) && typeof body.model === 'string'
    : body && typeof body.model === 'string' && (typeof body.input === 'string' || Array.isArray(body.input));
  if (!valid) {
    fail(400, 'invalid_request_error', chat ? 'messages and model are required' : 'input and model are required', 'invalid');
    return true;
  }
  if (opts.rejectUnknownModels && !opts.models.includes(body.model)) {
    fail(404, 'resource_not_found_error', `Not found the model ${body.model} or Permission denied`, 'unknown_model');
    return true;
  }
  if (opts.strict === 'moonshot') {
    const r = strictMoonshotRejection(body, opts.models, 'openai');
    if (r) {
      fail(r.status, r.type, r.message, 'strict_rejected');
      return true;
    }
  }

  const items: any[] = chat ? body.messages : responsesInput(body);
  const convo = chat ? chatConvo(items) : responsesConvo(items);
  const system = chat ? null : (body.instructions ?? null);
  const cwd = findCwd([typeof system === 'string' ? system : '', ...convo.map((m) => m.text)]);
  const at = (rel: string) => (cwd ? path.resolve(cwd, rel) : rel);
  const tools = declaredTools(body);
  const promptParts = { s: system, m: items, t: body.tools ?? [] };
  const {
    decision,
    directives: d,
    cut,
  } = planTurn(convo, {
    canRun: (s) => toolFor(s, tools) !== null,
    counters: ctx.counters,
    errorContext: { model: body.model, promptTokens: estimateTokens(JSON.stringify(promptParts)), maxTokens: outputLimit(body) ?? 0 },
  });

  if (d.waitMs) {
    await sleep(d.waitMs);
    if (rec.aborted || res.destroyed) return true;
  }
  if (decision.type === 'error') {
    fail(decision.error.status, decision.error.type, decision.error.message, 'error');
    return true;
  }
  const a = answerFor(body, decision, tools, at, cwd, hash(JSON.stringify(items), 16), promptParts, d.usage);
  if (a.failMid && !body.stream) {
    fail(statusForType(a.failMid.type), a.failMid.type, a.failMid.message, a.kind);
    return true;
  }
  if (chat && opts.strict === 'moonshot') k2Answer(body, a);
  const id = chat ? `chatcmpl-${hash(rec.rawBody, 24)}` : `resp_${hash(rec.rawBody, 24)}`;
  const respItems = chat ? null : responseItems(rec.rawBody, a);

  if (!body.stream) {
    const usage = chat ? chatUsage(a.numbers, quirks) : responsesUsage(a.numbers);
    const obj = chat
      ? chatMessage(body, id, a, quirks)
      : responseObject(
          body,
          id,
          a.truncated ? 'incomplete' : 'completed',
          finalOutput(respItems!, a),
          usage,
          a.truncated ? { incomplete_details: { reason: 'max_output_tokens' } } : {},
        );
    if (cut !== null) {
      await sendJsonCut(rec, res, obj, a.kind);
      return true;
    }
    rec.servedUsage = { ...usage };
    sendJson(rec, res, 200, obj, a.kind);
    return true;
  }
  beginSse(rec, res, a.kind);
  const frames = chat ? chatFrames(body, id, a, quirks) : responsesFrames(body, id, respItems!, a);
  await writeFrames(rec, res, frames, { delayMs: d.slowMs ?? opts.chunkDelayMs ?? 0, cutAfter: cut });
  return true;
}
