// A stand-in for Moonshot's Anthropic-compatible surface (https://api.moonshot.ai/anthropic), good enough that the real
// Claude Code CLI runs against it offline. Loopback only. Behaviour is scripted by the conversation (directives below).
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
// The cwd is taken from the line `Primary working directory: <abs path>` (Claude Code 2.1.332 puts it in a role "system"
// message inside `messages`; older versions in `system`). Without it, relative paths are sent as they are (the agent
// then reports a tool error) rather than resolved against the stand-in's own cwd.
// Requests without the needed tool (Claude Code's side requests: titles, topics, quota probes …) get a harmless answer.
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

export interface RecordedRequest {
  /** 1-based arrival order. */
  seq: number;
  method: string;
  /** Path without the query string. */
  path: string;
  /** Path with the query string, as received. */
  url: string;
  headers: http.IncomingHttpHeaders;
  /** Parsed JSON body, or null when there is none / it is not JSON. */
  body: any;
  rawBody: string;
  receivedAt: number;
  /** HTTP status answered (null until answered). */
  status: number | null;
  /** What the stand-in decided to answer (e.g. 'tool_use:Write', 'text', 'side', 'error'). */
  kind: string | null;
  /** True once the response has been fully written. */
  finished: boolean;
  /** True if the client closed the connection before the response was complete. */
  aborted: boolean;
}

export interface AnthropicUpstreamOptions {
  /** When set, requests must carry `Authorization: Bearer <key>` or `x-api-key: <key>`. */
  apiKey?: string;
  /** Delay between SSE events, in ms (default 0). */
  chunkDelayMs?: number;
  /** Send a `ping` event every this many content events (default 3; 0 = only the one after message_start). */
  pingEvery?: number;
  /** Fraction of the prompt reported as cache_read_input_tokens (default 0.5; deterministic). */
  cacheReadRatio?: number;
  /** Model ids listed by GET /v1/models. */
  models?: string[];
  /**
   * Answer 400 to any /v1/messages body holding a `role: "system"` message (Claude Code 2.1.332 sends such turns; a
   * stricter compat layer may refuse them — Claude Code then retries once without them).
   */
  rejectSystemMessages?: boolean;
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

const DEFAULT_MODELS = ['kimi-k2.6', 'kimi-k2.5', 'kimi-k2-thinking', 'kimi-k2-thinking-turbo', 'kimi-k2-turbo-preview'];

type Block =
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> };

interface Plan {
  kind: string;
  /** Delay before answering (headers included): time to first byte. */
  waitMs?: number;
  blocks: Block[];
  stopReason: 'end_turn' | 'tool_use';
  error?: { status: number; type: string; message: string };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const hash = (s: string, n = 24) => createHash('sha256').update(s).digest('hex').slice(0, n);
/** A rough, deterministic token estimate (≈ 4 characters per token). */
const estimateTokens = (s: string) => Math.max(1, Math.ceil(s.length / 4));

function errorBody(type: string, message: string) {
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

/** The text of the last tool_result if it is an error, as "Tool error: …"; else null. */
function lastToolError(messages: any[]): string | null {
  const last = messages.at(-1);
  if (last?.role !== 'user' || !Array.isArray(last.content)) return null;
  const r = last.content.find((b: any) => b?.type === 'tool_result' && b.is_error);
  return r ? `Tool error: ${contentText(r.content).split('\n')[0]}` : null;
}

function systemText(system: unknown): string {
  if (typeof system === 'string') return system;
  if (Array.isArray(system)) return system.map((b: any) => (b && typeof b.text === 'string' ? b.text : '')).join('\n');
  return '';
}

interface Directives {
  steps: Array<{ tool: 'Write' | 'Edit' | 'Bash'; input: (at: (rel: string) => string) => Record<string, unknown> }>;
  say: string | null;
  long: number | null;
  fail: { status: number; type: string; message: string; times: number | null } | null;
  waitMs: number;
}

function parseDirectives(text: string): Directives {
  const d: Directives = { steps: [], say: null, long: null, fail: null, waitMs: 0 };
  const unescape = (s: string) => s.replace(/\\n/g, '\n');
  for (const rawLine of text.split(/\r?\n/)) {
    // Tolerate leading markup/quotes around the directive (prompts get wrapped in tags by some clients).
    const line = rawLine.replace(/^[\s>*`"'-]+/, '').trimEnd();
    let m: RegExpMatchArray | null;
    if ((m = line.match(/^WRITE\s+(\S+)(?:\s(.*))?$/))) {
      const rel = m[1];
      const content = unescape(m[2] ?? '');
      d.steps.push({ tool: 'Write', input: (at) => ({ file_path: at(rel), content }) });
    } else if ((m = line.match(/^EDIT\s+(\S+)\s(.*?)\s=>\s(.*)$/))) {
      const [, rel, oldS, newS] = m;
      d.steps.push({
        tool: 'Edit',
        input: (at) => ({ file_path: at(rel), old_string: unescape(oldS), new_string: unescape(newS) }),
      });
    } else if ((m = line.match(/^BASH\s+(.+)$/))) {
      const command = m[1];
      d.steps.push({ tool: 'Bash', input: () => ({ command, description: 'Run a command' }) });
    } else if ((m = line.match(/^SAY\s+(.+)$/))) {
      d.say = m[1];
    } else if ((m = line.match(/^LONG\s+(\d+)/))) {
      d.long = Number(m[1]);
    } else if ((m = line.match(/^FAIL(?:\s+x(\d+))?\s+(\d{3})\s+(\S+)(?:\s+(.*))?$/))) {
      d.fail = { status: Number(m[2]), type: m[3], message: m[4] ?? `scripted ${m[3]}`, times: m[1] ? Number(m[1]) : null };
    } else if ((m = line.match(/^WAIT\s+(\d+)/))) {
      d.waitMs = Number(m[1]);
    }
  }
  return d;
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

/**
 * Decide what to answer to a /v1/messages body. Deterministic in the body, except `FAIL xN`, which asks `failures`
 * (the server's counter) how often this task has already failed.
 */
export function planResponse(body: any, failures?: Map<string, number>): Plan {
  const messages: any[] = Array.isArray(body?.messages) ? body.messages : [];
  const toolNames = new Set<string>(
    (Array.isArray(body?.tools) ? body.tools : []).map((t: any) => t?.name).filter((n: unknown) => typeof n === 'string'),
  );
  const sys = systemText(body?.system);
  // Claude Code 2.1.332 states the cwd in a role "system" message inside `messages` (older versions: in `system`).
  const cwdRe = /Primary working directory:\s*(.+)/;
  let cwd = sys.match(cwdRe)?.[1]?.trim();
  for (const m of messages) {
    if (cwd) break;
    cwd = contentText(m?.content).match(cwdRe)?.[1]?.trim();
  }
  const at = (rel: string) => (cwd ? path.resolve(cwd, rel) : rel);
  const idBase = hash(JSON.stringify(messages), 16);

  // The task turn: the latest user message with typed text carrying a directive; otherwise the first user message.
  let taskIdx = -1;
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (m?.role !== 'user') continue;
    const t = typedText(m.content);
    if (/^[\s>*`"'-]*(WRITE|EDIT|BASH|SAY|LONG|FAIL|WAIT)\s/m.test(t)) {
      taskIdx = i;
      break;
    }
  }
  if (taskIdx < 0) taskIdx = messages.findIndex((m) => m?.role === 'user');
  const lastUser = [...messages].reverse().find((m) => m?.role === 'user');
  const lastText = lastUser ? contentText(lastUser.content) : '';
  const taskText = taskIdx >= 0 ? contentText(messages[taskIdx].content) : '';
  const d = parseDirectives(taskText);

  const isMain = toolNames.has('Write') || toolNames.has('Bash') || toolNames.has('Edit');
  if (!isMain) {
    // A side request (title / topic / summary / quota probe). Answer harmlessly; JSON when JSON is asked for.
    // Claude Code 2.1.332 asks for titles with output_config.format = {type: 'json_schema', schema}: answer a value of it.
    const schema = body?.output_config?.format?.schema ?? body?.output_format?.schema;
    const wantsJson = /\bJSON\b/i.test(sys) || /\bJSON\b/.test(lastText);
    const text = schema
      ? JSON.stringify(sampleFromSchema(schema))
      : wantsJson
        ? '{"title": "Scripted task", "isNewTopic": false}'
        : 'Scripted task';
    return { kind: 'side', blocks: [{ type: 'text', text }], stopReason: 'end_turn' };
  }

  if (d.fail) {
    // `FAIL xN …` fails the first N main requests of this task (Claude Code retries the same body), then recovers.
    const key = hash(taskText);
    const failed = failures?.get(key) ?? 0;
    if (d.fail.times === null || failed < d.fail.times) {
      failures?.set(key, failed + 1);
      return { kind: 'error', blocks: [], stopReason: 'end_turn', waitMs: d.waitMs, error: d.fail };
    }
  }

  // How many tool results have come back since the task turn?
  let done = 0;
  for (let i = taskIdx + 1; i < messages.length; i++) {
    const c = messages[i]?.content;
    if (messages[i]?.role === 'user' && Array.isArray(c)) done += c.filter((b: any) => b?.type === 'tool_result').length;
  }
  const steps = d.steps.filter((s) => toolNames.has(s.tool));
  if (done < steps.length) {
    const step = steps[done];
    return {
      kind: `tool_use:${step.tool}`,
      waitMs: d.waitMs,
      blocks: [
        { type: 'text', text: `I'll use ${step.tool}.` },
        { type: 'tool_use', id: `toolu_${idBase}${String(done).padStart(2, '0')}`, name: step.tool, input: step.input(at) },
      ],
      stopReason: 'tool_use',
    };
  }
  let text: string;
  if (d.long) text = Array.from({ length: d.long }, (_, i) => `word${i + 1}`).join(' ');
  else if (d.say) text = d.say;
  else if (steps.length > 0) text = lastToolError(messages) ?? 'Done.';
  else text = 'OK. Nothing to do.';
  return { kind: 'text', waitMs: d.waitMs, blocks: [{ type: 'text', text }], stopReason: 'end_turn' };
}

function usageFor(body: any, outputText: string, cacheReadRatio: number) {
  const prompt = estimateTokens(JSON.stringify({ s: body?.system ?? null, m: body?.messages ?? [], t: body?.tools ?? [] }));
  const cacheRead = Math.floor(prompt * cacheReadRatio);
  return {
    input_tokens: prompt - cacheRead,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: cacheRead,
    output_tokens: estimateTokens(outputText),
  };
}

/** Split a string into `n` roughly equal pieces (at least one, never empty pieces unless the string is empty). */
function splitInto(s: string, n: number): string[] {
  if (s.length === 0) return [''];
  const size = Math.max(1, Math.ceil(s.length / n));
  const out: string[] = [];
  for (let i = 0; i < s.length; i += size) out.push(s.slice(i, i + size));
  return out;
}

/** Text deltas: a few words each. */
function textPieces(text: string): string[] {
  const words = text.match(/\S+\s*|\s+/g) ?? [text];
  const out: string[] = [];
  for (let i = 0; i < words.length; i += 3) out.push(words.slice(i, i + 3).join(''));
  return out.length ? out : [''];
}

function blockOutputText(b: Block): string {
  return b.type === 'text' ? b.text : JSON.stringify(b.input);
}

export async function startAnthropicUpstream(opts: AnthropicUpstreamOptions = {}): Promise<AnthropicUpstream> {
  const requests: RecordedRequest[] = [];
  const events = new EventEmitter();
  const chunkDelayMs = opts.chunkDelayMs ?? 0;
  const pingEvery = opts.pingEvery ?? 3;
  const cacheReadRatio = opts.cacheReadRatio ?? 0.5;
  const models = opts.models ?? DEFAULT_MODELS;
  const sockets = new Set<import('node:net').Socket>();
  const failures = new Map<string, number>();

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      let body: any = null;
      if (rawBody) {
        try {
          body = JSON.parse(rawBody);
        } catch {
          body = null;
        }
      }
      const url = req.url ?? '/';
      const rec: RecordedRequest = {
        seq: requests.length + 1,
        method: req.method ?? 'GET',
        path: url.split('?')[0],
        url,
        headers: req.headers,
        body,
        rawBody,
        receivedAt: Date.now(),
        status: null,
        kind: null,
        finished: false,
        aborted: false,
      };
      requests.push(rec);
      res.on('close', () => {
        if (!res.writableFinished) {
          rec.aborted = true;
          events.emit('aborted', rec);
        }
      });
      res.on('finish', () => {
        rec.finished = true;
        events.emit('finished', rec);
      });
      events.emit('request', rec);
      handle(rec, res).catch((err) => {
        if (!res.headersSent) {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify(errorBody('api_error', String(err?.message ?? err))));
        } else res.destroy();
      });
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  function sendJson(rec: RecordedRequest, res: http.ServerResponse, status: number, obj: unknown, kind?: string) {
    rec.status = status;
    if (kind) rec.kind = kind;
    const data = JSON.stringify(obj);
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(data),
      'request-id': `req_${hash(rec.rawBody + rec.url, 24)}`,
    });
    res.end(data);
  }

  function authorized(rec: RecordedRequest): boolean {
    if (!opts.apiKey) return true;
    const auth = rec.headers['authorization'];
    const bearer = typeof auth === 'string' ? auth.match(/^Bearer\s+(.+)$/i)?.[1] : undefined;
    const xKey = rec.headers['x-api-key'];
    return bearer === opts.apiKey || xKey === opts.apiKey;
  }

  async function handle(rec: RecordedRequest, res: http.ServerResponse) {
    const { method, path: p } = rec;
    if (p === '/api/hello' && (method === 'HEAD' || method === 'GET')) {
      rec.status = 200;
      rec.kind = 'hello';
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(method === 'HEAD' ? undefined : JSON.stringify({ message: 'hello' }));
      return;
    }
    if (!authorized(rec)) {
      sendJson(rec, res, 401, errorBody('authentication_error', 'Invalid Authentication'), 'unauthorized');
      return;
    }
    if (method === 'GET' && p === '/v1/models') {
      const data = models.map((id, i) => ({
        type: 'model',
        id,
        display_name: id,
        created_at: new Date(Date.UTC(2026, 0, 1 + i)).toISOString(),
        object: 'model',
        owned_by: 'moonshot',
      }));
      sendJson(rec, res, 200, { object: 'list', data, has_more: false, first_id: models[0] ?? null, last_id: models.at(-1) ?? null }, 'models');
      return;
    }
    if (method === 'POST' && p === '/v1/messages/count_tokens') {
      const b = rec.body ?? {};
      const n = estimateTokens(JSON.stringify({ s: b.system ?? null, m: b.messages ?? [], t: b.tools ?? [] }));
      sendJson(rec, res, 200, { input_tokens: n }, 'count_tokens');
      return;
    }
    if (method === 'POST' && p === '/v1/messages') {
      const body = rec.body;
      if (!body || !Array.isArray(body.messages) || typeof body.model !== 'string') {
        sendJson(rec, res, 400, errorBody('invalid_request_error', 'messages and model are required'), 'invalid');
        return;
      }
      if (opts.rejectSystemMessages && body.messages.some((m: any) => m?.role === 'system')) {
        // Anthropic's own wording; Claude Code recognises it (and serde/pydantic-style "… 'user' or 'assistant'").
        const msg =
          'messages: Unexpected role "system". The Messages API accepts a top-level `system` parameter, not "system" as an input message role.';
        sendJson(rec, res, 400, errorBody('invalid_request_error', msg), 'rejected_system');
        return;
      }
      const plan = planResponse(body, failures);
      if (plan.waitMs) {
        await sleep(plan.waitMs);
        if (rec.aborted || res.destroyed) return;
      }
      if (plan.error) {
        sendJson(rec, res, plan.error.status, errorBody(plan.error.type, plan.error.message), 'error');
        return;
      }
      const outText = plan.blocks.map(blockOutputText).join('');
      const usage = usageFor(body, outText, cacheReadRatio);
      const msgId = `msg_${hash(rec.rawBody, 24)}`;
      if (!body.stream) {
        sendJson(
          rec,
          res,
          200,
          {
            id: msgId,
            type: 'message',
            role: 'assistant',
            model: body.model,
            content: plan.blocks,
            stop_reason: plan.stopReason,
            stop_sequence: null,
            usage,
          },
          plan.kind,
        );
        return;
      }
      await stream(rec, res, body, plan, msgId, usage);
      return;
    }
    sendJson(rec, res, 404, errorBody('not_found_error', `Not found: ${method} ${p}`), 'not_found');
  }

  async function stream(
    rec: RecordedRequest,
    res: http.ServerResponse,
    body: any,
    plan: Plan,
    msgId: string,
    usage: ReturnType<typeof usageFor>,
  ) {
    rec.status = 200;
    rec.kind = plan.kind;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'request-id': `req_${hash(rec.rawBody + rec.url, 24)}`,
    });
    res.flushHeaders();
    let closed = false;
    res.on('close', () => (closed = true));
    let first = true;
    let sinceping = 0;
    const send = async (event: string, data: unknown) => {
      if (closed) return false;
      if (!first && chunkDelayMs > 0) await sleep(chunkDelayMs);
      first = false;
      if (closed) return false;
      res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      return true;
    };
    const ping = () => send('ping', { type: 'ping' });
    const content = async (event: string, data: unknown) => {
      if (!(await send(event, data))) return false;
      if (pingEvery > 0 && ++sinceping >= pingEvery) {
        sinceping = 0;
        return ping();
      }
      return true;
    };

    const startUsage = {
      input_tokens: usage.input_tokens,
      cache_creation_input_tokens: usage.cache_creation_input_tokens,
      cache_read_input_tokens: usage.cache_read_input_tokens,
      output_tokens: 1,
    };
    await send('message_start', {
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
    });
    await ping();
    let outSoFar = '';
    for (let i = 0; i < plan.blocks.length; i++) {
      const b = plan.blocks[i];
      if (b.type === 'text') {
        await content('content_block_start', { type: 'content_block_start', index: i, content_block: { type: 'text', text: '' } });
        for (const piece of textPieces(b.text)) {
          if (!(await content('content_block_delta', { type: 'content_block_delta', index: i, delta: { type: 'text_delta', text: piece } })))
            return;
        }
      } else {
        await content('content_block_start', {
          type: 'content_block_start',
          index: i,
          content_block: { type: 'tool_use', id: b.id, name: b.name, input: {} },
        });
        const json = JSON.stringify(b.input);
        for (const piece of ['', ...splitInto(json, 4)]) {
          if (
            !(await content('content_block_delta', {
              type: 'content_block_delta',
              index: i,
              delta: { type: 'input_json_delta', partial_json: piece },
            }))
          )
            return;
        }
      }
      await content('content_block_stop', { type: 'content_block_stop', index: i });
      outSoFar += blockOutputText(b);
      // An intermediate, cumulative usage report (Moonshot-style: several message_deltas; keep the last, never sum).
      if (i < plan.blocks.length - 1) {
        await content('message_delta', {
          type: 'message_delta',
          delta: { stop_reason: null, stop_sequence: null },
          usage: { output_tokens: estimateTokens(outSoFar) },
        });
      }
    }
    // The final usage, repeated: the same cumulative totals twice (a consumer that sums would double count).
    const finalUsage = {
      input_tokens: usage.input_tokens,
      cache_creation_input_tokens: usage.cache_creation_input_tokens,
      cache_read_input_tokens: usage.cache_read_input_tokens,
      output_tokens: usage.output_tokens,
    };
    await content('message_delta', { type: 'message_delta', delta: { stop_reason: null, stop_sequence: null }, usage: finalUsage });
    await send('message_delta', {
      type: 'message_delta',
      delta: { stop_reason: plan.stopReason, stop_sequence: null },
      usage: finalUsage,
    });
    if (await send('message_stop', { type: 'message_stop' })) res.end();
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    events,
    messageRequests: () => requests.filter((r) => r.method === 'POST' && r.path === '/v1/messages'),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Parse an SSE body into its events (`event:` name and JSON-parsed `data:`; raw text kept when not JSON). */
export function parseSse(text: string): Array<{ event: string | null; data: any; raw: string }> {
  const out: Array<{ event: string | null; data: any; raw: string }> = [];
  for (const frame of text.split(/\r?\n\r?\n/)) {
    if (!frame.trim()) continue;
    let event: string | null = null;
    const data: string[] = [];
    for (const line of frame.split(/\r?\n/)) {
      if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
    }
    const raw = data.join('\n');
    let parsed: any = raw;
    try {
      parsed = JSON.parse(raw);
    } catch {
      /* keep raw */
    }
    out.push({ event, data: parsed, raw });
  }
  return out;
}
