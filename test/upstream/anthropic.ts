// A stand-in for Moonshot's Anthropic-compatible surface (https://api.moonshot.ai/anthropic), good enough that the real
// Claude Code CLI runs against it offline. Loopback only. Behaviour is scripted by the conversation (directives: the
// full list is at the top of index.ts; the language is shared with the OpenAI surfaces in openai.ts, see script.ts).
// What Claude Code actually sends, and how it reacts, is written down in CLAUDE-CODE.md beside this file.
//
// Directives are read from the latest user turn that carries plain text (Claude Code keeps the task in the first user
// message; a follow-up prompt typed later becomes a new "task turn"). One directive per line:
//   WRITE <path> <content until end of line>   → a `Write` tool_use ({file_path: resolve(cwd, path), content}); "\n" in the
//                                                content stands for a newline. Several WRITE lines run one per turn.
//   EDIT <path> <old> => <new>                  → an `Edit` tool_use.
//   BASH <command until end of line>            → a `Bash` tool_use.
//   SAY <text>                                  → the final answer text (default "Done." after tools, else a short text).
//   LONG <n>                                    → the final answer is n words long (a long stream, e.g. for abort tests).
//   FAIL <status> <error type> [message]        → answer the main request with that HTTP error (Anthropic error shape).
//   FAIL xN <status> <error type> [message]     → the same for the first N main requests of this task, then carry on.
//   WAIT <ms>                                   → wait that long before answering a main request (time to first byte).
//   … and FAIL <preset>, FAILMID, CUT, SLOW, USAGE (index.ts). PATCH steps are skipped here (no apply_patch tool).
// The cwd is taken from the line `Primary working directory: <abs path>` (Claude Code 2.1.332 puts it in a role "system"
// message inside `messages`; older versions in `system`). Without it, relative paths are sent as they are (the agent
// then reports a tool error) rather than resolved against the stand-in's own cwd.
// Requests without the needed tool (Claude Code's side requests: titles, topics, quota probes …) get a harmless answer.
import type http from 'node:http';
import type { EventEmitter } from 'node:events';
import path from 'node:path';
import {
  authorized,
  callInput,
  beginSse,
  estimateTokens,
  findCwd,
  hash,
  planTurn,
  sendJson,
  sendJsonCut,
  sleep,
  splitInto,
  sseFrame,
  startRecordingServer,
  statusForType,
  stepTool,
  textPieces,
  writeFrames,
  type ConvoMessage,
  type Counters,
  type ErrorSpec,
  type ForcedUsage,
  type Frame,
  type RecordedRequest,
  type Step,
} from './script.ts';

import { STRICT_MODELS, strictMoonshotRejection } from './strict.ts';

export { parseSse } from './script.ts';
export type { RecordedRequest } from './script.ts';

export interface AnthropicUpstreamOptions {
  /** When set, requests must carry `Authorization: Bearer <key>` or `x-api-key: <key>`. */
  apiKey?: string;
  /** Delay between SSE events, in ms (default 0). A `SLOW <ms>` directive overrides it per request. */
  chunkDelayMs?: number;
  /** Send a `ping` event every this many content events (default 3; 0 = only the one after message_start). */
  pingEvery?: number;
  /** Fraction of the prompt reported as cache_read_input_tokens (default 0.5; deterministic). */
  cacheReadRatio?: number;
  /**
   * Cache reads as a host with automatic prefix caching counts them (Moonshot, vLLM, SGLang): the longest prefix of the
   * prompt — system, tools, then messages, as serialised — that this stand-in has served before. Wins over cacheReadRatio.
   */
  prefixCache?: boolean;
  /** Count every prompt token as this many (usage and `window` alike): a long conversation without megabytes. */
  tokenScale?: number;
  /** The model's window: a prompt over it (counted as usage is) is refused in Moonshot's words, before any answer. */
  window?: number;
  /** Model ids listed by GET /v1/models. */
  models?: string[];
  /**
   * Answer 400 to any /v1/messages body holding a `role: "system"` message (Claude Code 2.1.332 sends such turns; a
   * stricter compat layer may refuse them — Claude Code then retries once without them).
   */
  rejectSystemMessages?: boolean;
  /** Answer 404 resource_not_found_error to a model id not in `models` (default false: any id is served). */
  rejectUnknownModels?: boolean;
  /** Enforce every rejection Moonshot is reported to make, in its words (strict.ts); models default to STRICT_MODELS. */
  strict?: 'moonshot';
}

export interface AnthropicUpstream {
  url: string;
  port: number;
  requests: RecordedRequest[];
  /** Emits 'request' (RecordedRequest) when a request's body has arrived, 'finished' and 'aborted' when it ends. */
  events: EventEmitter;
  /** Requests to POST /v1/messages (streaming or not), in order. */
  messageRequests(): RecordedRequest[];
  close(): Promise<void>;
}

export const DEFAULT_MODELS = ['kimi-k2.6', 'kimi-k2.5', 'kimi-k2-thinking', 'kimi-k2-thinking-turbo', 'kimi-k2-turbo-preview'];

type Block = { type: 'text'; text: string } | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> };

interface Plan {
  kind: string;
  /** Delay before answering (headers included): time to first byte. */
  waitMs?: number;
  blocks: Block[];
  stopReason: 'end_turn' | 'tool_use';
  error?: ErrorSpec;
  /** FAILMID: stream part of the first text block, then an `error` event. */
  failMid?: ErrorSpec;
  /** CUT: the number of events after message_start before the connection is destroyed. */
  cut?: number | null;
  /** SLOW: delay between events for this request (overrides chunkDelayMs). */
  slowMs?: number | null;
  /** USAGE: the numbers to serve. */
  usage?: ForcedUsage | null;
}

export function errorBody(type: string, message: string) {
  return { type: 'error', error: { type, message } };
}

/** All text of a message's content (string or blocks, including tool_result text and system reminders). */
function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  const parts: string[] = [];
  for (const b of content) {
    if (!b || typeof b !== 'object') continue;
    if (b.type === 'text' && typeof b.text === 'string') parts.push(b.text);
    else if (b.type === 'tool_result') parts.push(contentText(b.content));
  }
  return parts.join('\n');
}

/** Text a user typed in a message (text blocks only: tool_results excluded). */
function typedText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .filter((b: any) => b && b.type === 'text' && typeof b.text === 'string')
    .map((b: any) => b.text as string)
    .join('\n');
}

/** The text of a failed tool_result in this message, as "Tool error: …"; else null. */
function toolErrorIn(m: any): string | null {
  if (m?.role !== 'user' || !Array.isArray(m.content)) return null;
  const r = m.content.find((b: any) => b?.type === 'tool_result' && b.is_error);
  return r ? `Tool error: ${contentText(r.content).split('\n')[0]}` : null;
}

function systemText(system: unknown): string {
  if (typeof system === 'string') return system;
  if (Array.isArray(system)) return system.map((b: any) => (b && typeof b.text === 'string' ? b.text : '')).join('\n');
  return '';
}

/** A small value that satisfies a (simple) JSON schema. */
function sampleFromSchema(schema: any, depth = 0): unknown {
  if (!schema || typeof schema !== 'object' || depth > 6) return null;
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length) return schema.enum[0];
  const alt = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(alt) && alt.length) return sampleFromSchema(alt[0], depth + 1);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries<any>(schema.properties ?? {})) out[k] = sampleFromSchema(v, depth + 1);
      return out;
    }
    case 'array':
      return [];
    case 'string':
      return 'Scripted task';
    case 'number':
    case 'integer':
      return 0;
    case 'boolean':
      return false;
    case 'null':
      return null;
    default:
      return schema.properties ? sampleFromSchema({ ...schema, type: 'object' }, depth) : null;
  }
}

const promptTokens = (body: any) =>
  estimateTokens(JSON.stringify({ s: body?.system ?? null, m: body?.messages ?? [], t: body?.tools ?? [] }));

/** Claude Code's tool inputs for a step. */
function toolInput(step: Step, at: (rel: string) => string, cwd: string | undefined): Record<string, unknown> {
  switch (step.tool) {
    case 'Write':
      return { file_path: at(step.path), content: step.content };
    case 'Edit':
      return { file_path: at(step.path), old_string: step.old, new_string: step.new };
    case 'Bash':
      return { command: step.command, description: 'Run a command' };
    case 'Patch':
      return {};
    case 'Call':
      return callInput(step, cwd);
  }
}

/**
 * Decide what to answer to a /v1/messages body. Deterministic in the body, except the `xN` forms (`FAIL xN`, `FAILMID xN`,
 * `CUT xN`), which ask `failures` (the server's counters) how often this task has already been failed or cut.
 */
export function planResponse(body: any, failures?: Counters): Plan {
  const messages: any[] = Array.isArray(body?.messages) ? body.messages : [];
  const toolNames = new Set<string>(
    (Array.isArray(body?.tools) ? body.tools : []).map((t: any) => t?.name).filter((n: unknown) => typeof n === 'string'),
  );
  const sys = systemText(body?.system);
  // Claude Code 2.1.332 states the cwd in a role "system" message inside `messages` (older versions: in `system`).
  const cwd = findCwd([sys, ...messages.map((m) => contentText(m?.content))]);
  const at = (rel: string) => (cwd ? path.resolve(cwd, rel) : rel);
  const idBase = hash(JSON.stringify(messages), 16);

  // Claude Code's compaction request (2.1.332: its last message says this): a summary, as text.
  if (JSON.stringify(messages.at(-1) ?? '').includes('CRITICAL: Respond with TEXT ONLY')) {
    return {
      kind: 'compaction',
      blocks: [{ type: 'text', text: '<analysis>Scripted steps so far.</analysis>\n<summary>The scripted task ran its steps.</summary>' }],
      stopReason: 'end_turn',
    };
  }
  const isMain = toolNames.has('Write') || toolNames.has('Bash') || toolNames.has('Edit');
  if (!isMain) {
    // A side request (title / topic / summary / quota probe). Answer harmlessly; JSON when JSON is asked for.
    // Claude Code 2.1.332 asks for titles with output_config.format = {type: 'json_schema', schema}: answer a value of it.
    const lastUser = [...messages].reverse().find((m) => m?.role === 'user');
    const lastText = lastUser ? contentText(lastUser.content) : '';
    const schema = body?.output_config?.format?.schema ?? body?.output_format?.schema;
    const wantsJson = /\bJSON\b/i.test(sys) || /\bJSON\b/.test(lastText);
    const text = schema
      ? JSON.stringify(sampleFromSchema(schema))
      : wantsJson
        ? '{"title": "Scripted task", "isNewTopic": false}'
        : 'Scripted task';
    return { kind: 'side', blocks: [{ type: 'text', text }], stopReason: 'end_turn' };
  }

  const convo: ConvoMessage[] = messages.map((m) => ({
    role: typeof m?.role === 'string' ? m.role : '',
    typed: m?.role === 'user' ? typedText(m.content) : '',
    text: contentText(m?.content),
    toolResults: m?.role === 'user' && Array.isArray(m.content) ? m.content.filter((b: any) => b?.type === 'tool_result').length : 0,
    toolError: toolErrorIn(m),
  }));
  const {
    decision,
    directives: d,
    cut,
  } = planTurn(convo, {
    canRun: (s) => toolNames.has(stepTool(s)),
    counters: failures,
    errorContext: { model: body?.model, promptTokens: promptTokens(body), maxTokens: body?.max_tokens },
  });
  const shaping = { waitMs: d.waitMs, cut, slowMs: d.slowMs, usage: d.usage };
  switch (decision.type) {
    case 'error':
      return { kind: 'error', blocks: [], stopReason: 'end_turn', waitMs: d.waitMs, error: decision.error };
    case 'failmid':
      return {
        kind: 'failmid',
        ...shaping,
        blocks: [{ type: 'text', text: decision.text }],
        stopReason: 'end_turn',
        failMid: decision.error,
      };
    case 'tool': {
      const { step, index } = decision;
      return {
        kind: `tool_use:${stepTool(step)}`,
        ...shaping,
        blocks: [
          { type: 'text', text: `I'll use ${stepTool(step)}.` },
          {
            type: 'tool_use',
            id: `toolu_${idBase}${String(index).padStart(2, '0')}`,
            name: stepTool(step),
            input: toolInput(step, at, cwd),
          },
        ],
        stopReason: 'tool_use',
      };
    }
    case 'text':
      return { kind: 'text', ...shaping, blocks: [{ type: 'text', text: decision.text }], stopReason: 'end_turn' };
  }
}

function usageFor(body: any, outputText: string, cacheReadRatio: number, forced?: ForcedUsage | null) {
  if (forced) {
    return {
      input_tokens: forced.input,
      cache_creation_input_tokens: forced.cacheWrite,
      cache_read_input_tokens: forced.cacheRead,
      output_tokens: forced.output,
    };
  }
  const prompt = promptTokens(body);
  const cacheRead = Math.floor(prompt * cacheReadRatio);
  return {
    input_tokens: prompt - cacheRead,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: cacheRead,
    output_tokens: estimateTokens(outputText),
  };
}

function blockOutputText(b: Block): string {
  return b.type === 'text' ? b.text : JSON.stringify(b.input);
}

/** What the Anthropic routes need from the server that hosts them. */
export interface AnthropicContext {
  opts: AnthropicUpstreamOptions;
  counters: Counters;
  /** Prompts served so far (prefixCache). */
  prefixes?: string[];
}

/** The prompt in the order a prefix cache sees it. */
const prefixText = (body: any) => JSON.stringify([body?.system ?? null, body?.tools ?? [], body?.messages ?? []]);

function commonPrefix(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i;
}

/** The usage with cache reads from the prefixes served before (see AnthropicUpstreamOptions.prefixCache). */
function withPrefixCache(ctx: AnthropicContext, body: any, usage: ReturnType<typeof usageFor>): void {
  const text = prefixText(body);
  const seen = (ctx.prefixes ??= []);
  let best = 0;
  for (const s of seen) best = Math.max(best, commonPrefix(s, text));
  seen.push(text);
  const prompt = usage.input_tokens + usage.cache_read_input_tokens;
  const read = Math.min(prompt, best === 0 ? 0 : estimateTokens(text.slice(0, best)));
  usage.cache_read_input_tokens = read;
  usage.input_tokens = prompt - read;
}

/** GET /v1/models as this stand-in has always answered it (Anthropic's and OpenAI's fields together). */
export function modelList(models: string[], withCreated = false) {
  const data = models.map((id, i) => ({
    type: 'model',
    id,
    display_name: id,
    created_at: new Date(Date.UTC(2026, 0, 1 + i)).toISOString(),
    ...(withCreated ? { created: Date.UTC(2026, 0, 1 + i) / 1000 } : {}),
    object: 'model',
    owned_by: 'moonshot',
  }));
  return { object: 'list', data, has_more: false, first_id: models[0] ?? null, last_id: models.at(-1) ?? null };
}

/** Serve POST /v1/messages and /v1/messages/count_tokens (`p` without any base prefix). False when `p` is not one. */
export async function handleAnthropic(ctx: AnthropicContext, rec: RecordedRequest, res: http.ServerResponse, p: string): Promise<boolean> {
  const { opts } = ctx;
  if (rec.method === 'POST' && p === '/v1/messages/count_tokens') {
    sendJson(rec, res, 200, { input_tokens: promptTokens(rec.body ?? {}) }, 'count_tokens');
    return true;
  }
  if (rec.method !== 'POST' || p !== '/v1/messages') return false;
  rec.surface = 'anthropic';
  const body = rec.body;
  if (!body || !Array.isArray(body.messages) || typeof body.model !== 'string') {
    sendJson(rec, res, 400, errorBody('invalid_request_error', 'messages and model are required'), 'invalid');
    return true;
  }
  if (opts.rejectSystemMessages && body.messages.some((m: any) => m?.role === 'system')) {
    // Anthropic's own wording; Claude Code recognises it (and serde/pydantic-style "… 'user' or 'assistant'").
    const msg =
      'messages: Unexpected role "system". The Messages API accepts a top-level `system` parameter, not "system" as an input message role.';
    sendJson(rec, res, 400, errorBody('invalid_request_error', msg), 'rejected_system');
    return true;
  }
  const scale = opts.tokenScale ?? 1;
  if (opts.window !== undefined) {
    const n = Math.round(promptTokens(body) * scale);
    if (n > opts.window) {
      const msg = `Your request exceeded model token limit: ${opts.window} (requested: ${n})`;
      sendJson(rec, res, 400, errorBody('invalid_request_error', msg), 'over_window');
      return true;
    }
  }
  if (opts.strict === 'moonshot') {
    const r = strictMoonshotRejection(body, opts.models ?? STRICT_MODELS, 'anthropic');
    if (r) {
      sendJson(rec, res, r.status, errorBody(r.type, r.message), 'strict_rejected');
      return true;
    }
  }
  if (opts.rejectUnknownModels && !(opts.models ?? DEFAULT_MODELS).includes(body.model)) {
    const msg = `Not found the model ${body.model} or Permission denied`;
    sendJson(rec, res, 404, errorBody('resource_not_found_error', msg), 'unknown_model');
    return true;
  }
  const plan = planResponse(body, ctx.counters);
  if (plan.waitMs) {
    await sleep(plan.waitMs);
    if (rec.aborted || res.destroyed) return true;
  }
  if (plan.error) {
    sendJson(rec, res, plan.error.status, errorBody(plan.error.type, plan.error.message), 'error');
    return true;
  }
  if (plan.failMid && !body.stream) {
    // Nothing to fail mid-way in a JSON answer: the error as an HTTP status instead.
    sendJson(rec, res, statusForType(plan.failMid.type), errorBody(plan.failMid.type, plan.failMid.message), plan.kind);
    return true;
  }
  const outText = plan.blocks.map(blockOutputText).join('');
  const usage = usageFor(body, outText, opts.prefixCache ? 0 : (opts.cacheReadRatio ?? 0.5), plan.usage);
  if (opts.prefixCache && !plan.usage) withPrefixCache(ctx, body, usage);
  if (scale !== 1 && !plan.usage) {
    usage.input_tokens = Math.round(usage.input_tokens * scale);
    usage.cache_read_input_tokens = Math.round(usage.cache_read_input_tokens * scale);
  }
  const msgId = `msg_${hash(rec.rawBody, 24)}`;
  if (!body.stream) {
    const message = {
      id: msgId,
      type: 'message',
      role: 'assistant',
      model: body.model,
      content: plan.blocks,
      stop_reason: plan.stopReason,
      stop_sequence: null,
      usage,
    };
    if (plan.cut != null) {
      await sendJsonCut(rec, res, message, plan.kind);
      return true;
    }
    rec.servedUsage = { ...usage };
    sendJson(rec, res, 200, message, plan.kind);
    return true;
  }
  beginSse(rec, res, plan.kind, { 'request-id': `req_${hash(rec.rawBody + rec.url, 24)}` });
  await writeFrames(rec, res, streamFrames(body, plan, msgId, usage, opts.pingEvery ?? 3), {
    delayMs: plan.slowMs ?? opts.chunkDelayMs ?? 0,
    cutAfter: plan.cut ?? null,
  });
  return true;
}

/** The SSE events of one streamed answer, Moonshot-style (pings, cumulative and repeated message_delta usage). */
function streamFrames(body: any, plan: Plan, msgId: string, usage: ReturnType<typeof usageFor>, pingEvery: number): Frame[] {
  const frames: Frame[] = [];
  const send = (event: string, data: unknown, extra: Omit<Frame, 'text'> = {}) => frames.push({ text: sseFrame(event, data), ...extra });
  let sinceping = 0;
  const ping = () => send('ping', { type: 'ping' });
  const content = (event: string, data: unknown, extra: Omit<Frame, 'text'> = {}) => {
    send(event, data, extra);
    if (pingEvery > 0 && ++sinceping >= pingEvery) {
      sinceping = 0;
      ping();
    }
  };

  const startUsage = {
    input_tokens: usage.input_tokens,
    cache_creation_input_tokens: usage.cache_creation_input_tokens,
    cache_read_input_tokens: usage.cache_read_input_tokens,
    output_tokens: Math.min(1, usage.output_tokens),
  };
  send(
    'message_start',
    {
      type: 'message_start',
      message: {
        id: msgId,
        type: 'message',
        role: 'assistant',
        model: body.model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: startUsage,
      },
    },
    { usage: startUsage },
  );
  ping();

  if (plan.failMid) {
    // Part of the answer, then an `error` event in the stream (the way Anthropic reports an overload mid-stream).
    const b = plan.blocks[0];
    const pieces = textPieces(b.type === 'text' ? b.text : '');
    content('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
    for (const piece of pieces.slice(0, Math.max(1, Math.ceil(pieces.length / 2))))
      content('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: piece } });
    send('error', errorBody(plan.failMid.type, plan.failMid.message), { terminal: true });
    return frames;
  }

  let outSoFar = '';
  for (let i = 0; i < plan.blocks.length; i++) {
    const b = plan.blocks[i];
    if (b.type === 'text') {
      content('content_block_start', { type: 'content_block_start', index: i, content_block: { type: 'text', text: '' } });
      for (const piece of textPieces(b.text))
        content('content_block_delta', { type: 'content_block_delta', index: i, delta: { type: 'text_delta', text: piece } });
    } else {
      content('content_block_start', {
        type: 'content_block_start',
        index: i,
        content_block: { type: 'tool_use', id: b.id, name: b.name, input: {} },
      });
      const json = JSON.stringify(b.input);
      for (const piece of ['', ...splitInto(json, 4)])
        content('content_block_delta', { type: 'content_block_delta', index: i, delta: { type: 'input_json_delta', partial_json: piece } });
    }
    content('content_block_stop', { type: 'content_block_stop', index: i });
    outSoFar += blockOutputText(b);
    // An intermediate, cumulative usage report (Moonshot-style: several message_deltas; keep the last, never sum).
    if (i < plan.blocks.length - 1) {
      const soFar = { output_tokens: Math.min(estimateTokens(outSoFar), usage.output_tokens) };
      content(
        'message_delta',
        { type: 'message_delta', delta: { stop_reason: null, stop_sequence: null }, usage: soFar },
        { usage: soFar },
      );
    }
  }
  // The final usage, repeated: the same cumulative totals twice (a consumer that sums would double count).
  const finalUsage = {
    input_tokens: usage.input_tokens,
    cache_creation_input_tokens: usage.cache_creation_input_tokens,
    cache_read_input_tokens: usage.cache_read_input_tokens,
    output_tokens: usage.output_tokens,
  };
  content(
    'message_delta',
    { type: 'message_delta', delta: { stop_reason: null, stop_sequence: null }, usage: finalUsage },
    { usage: finalUsage },
  );
  send(
    'message_delta',
    { type: 'message_delta', delta: { stop_reason: plan.stopReason, stop_sequence: null }, usage: finalUsage },
    { usage: finalUsage, terminal: true },
  );
  send('message_stop', { type: 'message_stop' }, { terminal: true });
  return frames;
}

export async function startAnthropicUpstream(opts: AnthropicUpstreamOptions = {}): Promise<AnthropicUpstream> {
  const ctx: AnthropicContext = { opts, counters: new Map() };
  const models = opts.models ?? DEFAULT_MODELS;

  const srv = await startRecordingServer(
    async (rec, res) => {
      const { method, path: p } = rec;
      if (p === '/api/hello' && (method === 'HEAD' || method === 'GET')) {
        rec.status = 200;
        rec.kind = 'hello';
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(method === 'HEAD' ? undefined : JSON.stringify({ message: 'hello' }));
        return;
      }
      if (!authorized(rec, opts.apiKey, true)) {
        sendJson(rec, res, 401, errorBody('authentication_error', 'Invalid Authentication'), 'unauthorized');
        return;
      }
      if (method === 'GET' && p === '/v1/models') {
        sendJson(rec, res, 200, modelList(models), 'models');
        return;
      }
      if (await handleAnthropic(ctx, rec, res, p)) return;
      sendJson(rec, res, 404, errorBody('not_found_error', `Not found: ${method} ${p}`), 'not_found');
    },
    (_rec, res, err) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify(errorBody('api_error', String(err?.message ?? err))));
    },
  );
  return {
    url: srv.url,
    port: srv.port,
    requests: srv.requests,
    events: srv.events,
    messageRequests: () => srv.requests.filter((r) => r.method === 'POST' && r.path === '/v1/messages'),
    close: srv.close,
  };
}
