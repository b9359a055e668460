// What the stand-in upstream shares across its three surfaces (Anthropic Messages, OpenAI Chat Completions, OpenAI
// Responses): the directive language that scripts it, the turn planner, the request recorder and the SSE writer.
// The wire formats themselves live in anthropic.ts and openai.ts; the directive list is documented in index.ts.
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type Surface = 'anthropic' | 'chat' | 'responses';

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
  /** What the stand-in decided to answer (e.g. 'tool_use:Write', 'tool_call:apply_patch', 'text', 'side', 'error', 'failmid'). */
  kind: string | null;
  /** Which model surface answered (null for models, balance, hello, 401, 404 …). */
  surface: Surface | null;
  /**
   * The usage actually put on the wire, so a test can compute the exact expected dollars. Anthropic:
   * `{input_tokens, cache_read_input_tokens, cache_creation_input_tokens, output_tokens}` as last sent (message_start,
   * overwritten by later message_deltas); chat / responses: the usage object sent. null when no usage was sent (errors,
   * chat streams without `stream_options.include_usage`, streams cut before their usage).
   */
  servedUsage: Record<string, any> | null;
  /** True when a scripted CUT destroyed the connection mid-response. */
  cut: boolean;
  /** True once the response has been fully written. */
  finished: boolean;
  /** True if the connection closed before the response was complete (client abort, or a scripted CUT). */
  aborted: boolean;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
export const hash = (s: string, n = 24) => createHash('sha256').update(s).digest('hex').slice(0, n);
/** A rough, deterministic token estimate (≈ 4 characters per token). */
export const estimateTokens = (s: string) => Math.max(1, Math.ceil(s.length / 4));

/** Split a string into `n` roughly equal pieces (at least one, never empty pieces unless the string is empty). */
export function splitInto(s: string, n: number): string[] {
  if (s.length === 0) return [''];
  const size = Math.max(1, Math.ceil(s.length / n));
  const out: string[] = [];
  for (let i = 0; i < s.length; i += size) out.push(s.slice(i, i + size));
  return out;
}

/** Text deltas: a few words each. */
export function textPieces(text: string): string[] {
  const words = text.match(/\S+\s*|\s+/g) ?? [text];
  const out: string[] = [];
  for (let i = 0; i < words.length; i += 3) out.push(words.slice(i, i + 3).join(''));
  return out.length ? out : [''];
}

// ───────────────────────────── directives ─────────────────────────────

/** A tool step, surface-neutral; each surface renders it as its own tool call. */
export type Step =
  | { tool: 'Write'; path: string; content: string }
  | { tool: 'Edit'; path: string; old: string; new: string }
  | { tool: 'Bash'; command: string }
  /** A Codex-style apply_patch: Add File (content) or Update File (old => new). */
  | { tool: 'Patch'; path: string; content: string; old?: string; new?: string }
  /** Any declared tool by its exact name, with this input ("$CWD" in a string stands for the client's stated cwd). */
  | { tool: 'Call'; name: string; input: Record<string, unknown> };

/** The tool a step needs declared: its kind, or for CALL the tool it names. */
export const stepTool = (s: Step): string => (s.tool === 'Call' ? s.name : s.tool);

/** A CALL step's input with "$CWD" in every string replaced by the cwd the client stated (left as is when none). */
export function callInput(step: Extract<Step, { tool: 'Call' }>, cwd: string | undefined): Record<string, unknown> {
  const sub = (v: unknown): unknown =>
    typeof v === 'string'
      ? cwd
        ? v.replaceAll('$CWD', cwd)
        : v
      : Array.isArray(v)
        ? v.map(sub)
        : v && typeof v === 'object'
          ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, sub(x)]))
          : v;
  return sub(step.input) as Record<string, unknown>;
}

export interface ErrorSpec {
  status: number;
  type: string;
  message: string;
}

interface Repeatable {
  /** `xN`: only the first N main requests of the task; null = every one. */
  times: number | null;
}

export interface FailDirective extends Repeatable {
  status: number;
  type: string;
  /** null: the provider's own wording for that type (see errorMessage). */
  message: string | null;
}

export interface FailMidDirective extends Repeatable {
  type: string;
  message: string | null;
}

export interface ForcedUsage {
  /** Uncached, not-written prompt tokens (Anthropic's `input_tokens`). */
  input: number;
  cacheRead: number;
  cacheWrite: number;
  output: number;
  /** Part of `output` spent reasoning (OpenAI surfaces report it; default 0). */
  reasoning: number;
}

export interface Directives {
  steps: Step[];
  say: string | null;
  long: number | null;
  fail: FailDirective | null;
  failMid: FailMidDirective | null;
  waitMs: number;
  slowMs: number | null;
  cut: ({ events: number } & Repeatable) | null;
  usage: ForcedUsage | null;
}

/** `FAIL <preset>`: the error kinds a meter must tell apart, with Moonshot's status and type. */
export const FAIL_PRESETS: Record<string, { status: number; type: string }> = {
  ratelimit: { status: 429, type: 'rate_limit_reached_error' },
  overloaded: { status: 429, type: 'engine_overloaded_error' },
  quota: { status: 429, type: 'exceeded_current_quota_error' },
  quota403: { status: 403, type: 'exceeded_current_quota_error' },
  auth: { status: 401, type: 'invalid_authentication_error' },
  model: { status: 404, type: 'resource_not_found_error' },
  context: { status: 400, type: 'invalid_request_error' },
};

/** The HTTP status a `FAILMID` type gets when the request was not streaming (nothing to fail "mid" way). */
export function statusForType(type: string): number {
  for (const p of Object.values(FAIL_PRESETS)) if (p.type === type && p.status !== 403) return p.status;
  if (type === 'overloaded_error') return 529;
  if (type === 'authentication_error') return 401;
  if (type === 'permission_denied_error') return 403;
  if (type === 'not_found_error') return 404;
  return 500;
}

export const MODEL_TOKEN_LIMIT = 262144;

/** Moonshot's own wording for the error types the meter classifies; other types get "scripted <type>". */
export function errorMessage(
  type: string,
  message: string | null,
  ctx: { model?: string; promptTokens?: number; maxTokens?: number } = {},
): string {
  if (message) return message;
  switch (type) {
    case 'rate_limit_reached_error':
      return 'Your account org-standin<ak-standin> request reached organization max RPM: 3, please try again after 1 seconds';
    case 'engine_overloaded_error':
      return 'The engine is currently overloaded, please try again later';
    case 'exceeded_current_quota_error':
      return 'Your account is suspended due to insufficient balance, please recharge your account or check your plan and billing details';
    case 'invalid_authentication_error':
      return 'Invalid Authentication';
    case 'resource_not_found_error':
      return `Not found the model ${ctx.model ?? 'unknown'} or Permission denied`;
    case 'invalid_request_error': {
      const requested = Math.max(MODEL_TOKEN_LIMIT + 1, (ctx.promptTokens ?? 0) + (ctx.maxTokens ?? 0));
      return `Your request exceeded model token limit: ${MODEL_TOKEN_LIMIT} (requested: ${requested})`;
    }
    default:
      return `scripted ${type}`;
  }
}

const KEYWORDS = ['WRITE', 'EDIT', 'BASH', 'PATCH', 'CALL', 'SAY', 'LONG', 'FAIL', 'FAILMID', 'WAIT', 'SLOW', 'CUT', 'USAGE'];
/** Does this typed text carry a directive line? (Used to find the task turn.) */
export const DIRECTIVE_LINE = new RegExp(`^[\\s>*\`"'-]*(${KEYWORDS.join('|')})\\s`, 'm');

const unescapeNewlines = (s: string) => s.replace(/\\n/g, '\n');

export function parseDirectives(text: string): Directives {
  const d: Directives = {
    steps: [],
    say: null,
    long: null,
    fail: null,
    failMid: null,
    waitMs: 0,
    slowMs: null,
    cut: null,
    usage: null,
  };
  const times = (s: string | undefined) => (s ? Number(s) : null);
  for (const rawLine of text.split(/\r?\n/)) {
    // Tolerate leading markup/quotes around the directive (prompts get wrapped in tags by some clients), and a closing
    // quote that matches an opening one (`opencode run` sends a message with spaces as "…").
    const opened = rawLine.match(/^[\s>*`"'-]+/)?.[0] ?? '';
    let line = rawLine.slice(opened.length).trimEnd();
    const quote = opened.trim().slice(-1);
    if ((quote === '"' || quote === "'") && line.endsWith(quote)) line = line.slice(0, -1);
    let m: RegExpMatchArray | null;
    if ((m = line.match(/^WRITE\s+(\S+)(?:\s(.*))?$/))) {
      d.steps.push({ tool: 'Write', path: m[1], content: unescapeNewlines(m[2] ?? '') });
    } else if ((m = line.match(/^EDIT\s+(\S+)\s(.*?)\s=>\s(.*)$/))) {
      d.steps.push({ tool: 'Edit', path: m[1], old: unescapeNewlines(m[2]), new: unescapeNewlines(m[3]) });
    } else if ((m = line.match(/^BASH\s+(.+)$/))) {
      d.steps.push({ tool: 'Bash', command: m[1] });
    } else if ((m = line.match(/^PATCH\s+(\S+)(?:\s(.*))?$/))) {
      const rest = m[2] ?? '';
      const upd = rest.match(/^(.*?)\s=>\s(.*)$/);
      d.steps.push(
        upd
          ? { tool: 'Patch', path: m[1], content: '', old: unescapeNewlines(upd[1]), new: unescapeNewlines(upd[2]) }
          : { tool: 'Patch', path: m[1], content: unescapeNewlines(rest) },
      );
    } else if ((m = line.match(/^CALL\s+(\S+)\s+(\{.*\})$/))) {
      let input: unknown;
      try {
        input = JSON.parse(m[2]);
      } catch {
        input = null;
      }
      if (input && typeof input === 'object' && !Array.isArray(input))
        d.steps.push({ tool: 'Call', name: m[1], input: input as Record<string, unknown> });
    } else if ((m = line.match(/^SAY\s+(.+)$/))) {
      d.say = m[1];
    } else if ((m = line.match(/^LONG\s+(\d+)/))) {
      d.long = Number(m[1]);
    } else if ((m = line.match(/^FAIL(?:\s+x(\d+))?\s+(\d{3})\s+(\S+)(?:\s+(.*))?$/))) {
      d.fail = { status: Number(m[2]), type: m[3], message: m[4] ?? null, times: times(m[1]) };
    } else if ((m = line.match(/^FAIL(?:\s+x(\d+))?\s+([a-z0-9]+)(?:\s+(.*))?$/)) && FAIL_PRESETS[m[2]]) {
      d.fail = { ...FAIL_PRESETS[m[2]], message: m[3] ?? null, times: times(m[1]) };
    } else if ((m = line.match(/^FAILMID(?:\s+x(\d+))?\s+(\S+)(?:\s+(.*))?$/))) {
      const preset = FAIL_PRESETS[m[2]];
      d.failMid = { type: preset ? preset.type : m[2], message: m[3] ?? null, times: times(m[1]) };
    } else if ((m = line.match(/^WAIT\s+(\d+)/))) {
      d.waitMs = Number(m[1]);
    } else if ((m = line.match(/^SLOW\s+(\d+)/))) {
      d.slowMs = Number(m[1]);
    } else if ((m = line.match(/^CUT(?:\s+x(\d+))?\s+(\d+)/))) {
      d.cut = { events: Number(m[2]), times: times(m[1]) };
    } else if ((m = line.match(/^USAGE\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)(?:\s+(\d+))?/))) {
      d.usage = {
        input: Number(m[1]),
        cacheRead: Number(m[2]),
        cacheWrite: Number(m[3]),
        output: Number(m[4]),
        reasoning: m[5] ? Number(m[5]) : 0,
      };
    }
  }
  return d;
}

// ───────────────────────────── the turn planner ─────────────────────────────

/** A message of any surface, reduced to what the planner needs. */
export interface ConvoMessage {
  role: string;
  /** Text the user typed (user turns only; tool results excluded). */
  typed: string;
  /** All text, tool results included. */
  text: string;
  /** Tool results this message carries. */
  toolResults: number;
  /** "Tool error: <first line>" when this message carries a failed tool result (Anthropic's is_error), else null. */
  toolError: string | null;
}

/** The task turn: the latest user message with typed text carrying a directive; otherwise the first user message. */
export function findTaskTurn(messages: ConvoMessage[]): number {
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i].role === 'user' && DIRECTIVE_LINE.test(messages[i].typed)) return i;
  }
  return messages.findIndex((m) => m.role === 'user');
}

/**
 * The working directory a client states: Claude Code's "Primary working directory:", Codex's `<cwd>…</cwd>`, Qwen
 * Code's "I'm currently working in the directory:".
 */
export function findCwd(texts: string[]): string | undefined {
  for (const t of texts) {
    const m =
      t.match(/Primary working directory:\s*(.+)/) ??
      t.match(/<cwd>\s*([^<\n]+?)\s*<\/cwd>/) ??
      t.match(/currently working in the directory:\s*([^\n]+?)\s*$/m);
    if (m) return m[1].trim();
  }
  return undefined;
}

export type Decision =
  | { type: 'error'; error: ErrorSpec }
  | { type: 'failmid'; error: ErrorSpec; text: string }
  | { type: 'tool'; step: Step; index: number }
  | { type: 'text'; text: string };

export interface Turn {
  decision: Decision;
  directives: Directives;
  taskText: string;
  /** Cut the stream after this many events (after the start event), or null. */
  cut: number | null;
}

/** Counts per task for the `xN` forms (the server's memory; requests are otherwise stateless). */
export type Counters = Map<string, number>;

function takeOne(counters: Counters | undefined, key: string, times: number | null): boolean {
  const n = counters?.get(key) ?? 0;
  if (times !== null && n >= times) return false;
  counters?.set(key, n + 1);
  return true;
}

/**
 * Decide a main request's answer. Deterministic in the messages, except the `xN` forms, which ask `counters` how often
 * this task has already been failed / cut. `canRun` says which steps the request's declared tools can carry out.
 */
export function planTurn(
  messages: ConvoMessage[],
  opts: {
    canRun: (s: Step) => boolean;
    counters?: Counters;
    errorContext?: { model?: string; promptTokens?: number; maxTokens?: number };
  },
): Turn {
  const taskIdx = findTaskTurn(messages);
  const taskText = taskIdx >= 0 ? messages[taskIdx].text : '';
  const d = parseDirectives(taskText);
  const key = hash(taskText);
  // An answer that is an HTTP error has nothing to cut (and does not use up a `CUT xN`).
  const turn = (decision: Decision): Turn => ({
    decision,
    directives: d,
    taskText,
    cut: decision.type !== 'error' && d.cut && takeOne(opts.counters, `cut:${key}`, d.cut.times) ? d.cut.events : null,
  });

  if (d.fail && takeOne(opts.counters, key, d.fail.times)) {
    const error = { status: d.fail.status, type: d.fail.type, message: errorMessage(d.fail.type, d.fail.message, opts.errorContext) };
    return turn({ type: 'error', error });
  }

  // How many tool results have come back since the task turn?
  let done = 0;
  for (let i = taskIdx + 1; i < messages.length; i++) if (messages[i].role !== 'assistant') done += messages[i].toolResults;
  const steps = d.steps.filter(opts.canRun);

  let text: string;
  if (d.long) text = Array.from({ length: d.long }, (_, i) => `word${i + 1}`).join(' ');
  else if (d.say) text = d.say;
  else if (steps.length > 0) text = messages.at(-1)?.toolError ?? 'Done.';
  else text = 'OK. Nothing to do.';

  if (d.failMid && takeOne(opts.counters, `mid:${key}`, d.failMid.times)) {
    const type = d.failMid.type;
    const error = { status: statusForType(type), type, message: errorMessage(type, d.failMid.message, opts.errorContext) };
    return turn({ type: 'failmid', error, text });
  }
  if (done < steps.length) return turn({ type: 'tool', step: steps[done], index: done });
  return turn({ type: 'text', text });
}

/** Codex's patch grammar: `*** Begin Patch` … `*** End Patch`, one file per PATCH step. */
export function patchText(step: Extract<Step, { tool: 'Patch' }>): string {
  const lines = (s: string, sign: string) => s.split('\n').map((l) => sign + l);
  const body =
    step.old !== undefined
      ? [`*** Update File: ${step.path}`, '@@', ...lines(step.old, '-'), ...lines(step.new ?? '', '+')]
      : [`*** Add File: ${step.path}`, ...lines(step.content, '+')];
  return ['*** Begin Patch', ...body, '*** End Patch'].join('\n');
}

// ───────────────────────────── SSE writing ─────────────────────────────

export interface Frame {
  /** The bytes of one SSE event, blank line included. */
  text: string;
  /** A terminal event (stop / completed / [DONE] / error): a CUT never sends it. */
  terminal?: boolean;
  /** Usage fields on the wire once this frame is sent (merged into RecordedRequest.servedUsage). */
  usage?: Record<string, any>;
}

export const sseFrame = (event: string | null, data: unknown): string =>
  `${event ? `event: ${event}\n` : ''}data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;

export function beginSse(rec: RecordedRequest, res: http.ServerResponse, kind: string, headers: Record<string, string> = {}) {
  rec.status = 200;
  rec.kind = kind;
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    ...headers,
  });
  res.flushHeaders();
}

/** End the connection abruptly once what was written has reached the socket: the client sees no terminal event. */
async function cutConnection(rec: RecordedRequest, res: http.ServerResponse, flushed: Promise<void>) {
  rec.cut = true;
  await flushed;
  (res.socket ?? res).destroy();
}

/**
 * Write prepared frames: `delayMs` between events (none before the first); `cutAfter` = n sends the first frame and n
 * more (never a terminal one), then destroys the connection. Stops quietly if the client goes away.
 */
export async function writeFrames(
  rec: RecordedRequest,
  res: http.ServerResponse,
  frames: Frame[],
  opts: { delayMs: number; cutAfter: number | null },
) {
  let closed = res.destroyed;
  res.on('close', () => (closed = true));
  let flushed: Promise<void> = Promise.resolve();
  for (let i = 0; i < frames.length; i++) {
    const f = frames[i];
    if (opts.cutAfter !== null && i > 0 && (i > opts.cutAfter || f.terminal)) return cutConnection(rec, res, flushed);
    if (closed) return;
    if (i > 0 && opts.delayMs > 0) await sleep(opts.delayMs);
    if (closed) return;
    flushed = new Promise<void>((r) => res.write(f.text, () => r()));
    if (f.usage) rec.servedUsage = { ...(rec.servedUsage ?? {}), ...f.usage };
  }
  if (opts.cutAfter !== null) return cutConnection(rec, res, flushed);
  res.end();
}

// ───────────────────────────── the HTTP server ─────────────────────────────

export function sendJson(
  rec: RecordedRequest,
  res: http.ServerResponse,
  status: number,
  obj: unknown,
  kind?: string,
  headers: Record<string, string> = {},
) {
  rec.status = status;
  if (kind) rec.kind = kind;
  const data = JSON.stringify(obj);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(data),
    'request-id': `req_${hash(rec.rawBody + rec.url, 24)}`,
    ...headers,
  });
  res.end(data);
}

/** A non-streaming answer cut by CUT: the headers and half the body, then the connection ends. */
export async function sendJsonCut(rec: RecordedRequest, res: http.ServerResponse, obj: unknown, kind: string) {
  rec.status = 200;
  rec.kind = kind;
  const data = JSON.stringify(obj);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) });
  const flushed = new Promise<void>((r) => res.write(data.slice(0, Math.floor(data.length / 2)), () => r()));
  await cutConnection(rec, res, flushed);
}

/** Is the request authorized by `Authorization: Bearer <key>` (or, when `allowXApiKey`, by `x-api-key: <key>`)? */
export function authorized(rec: RecordedRequest, apiKey: string | undefined, allowXApiKey: boolean): boolean {
  if (!apiKey) return true;
  const auth = rec.headers['authorization'];
  const bearer = typeof auth === 'string' ? auth.match(/^Bearer\s+(.+)$/i)?.[1] : undefined;
  return bearer === apiKey || (allowXApiKey && rec.headers['x-api-key'] === apiKey);
}

export interface RecordingServer {
  url: string;
  port: number;
  requests: RecordedRequest[];
  /** Emits 'request' (RecordedRequest) when a request's body has arrived, 'finished' and 'aborted' when it ends. */
  events: EventEmitter;
  close(): Promise<void>;
}

/** A loopback HTTP server that records every request and hands it, body parsed, to `handle`. */
export async function startRecordingServer(
  handle: (rec: RecordedRequest, res: http.ServerResponse) => Promise<void>,
  onCrash: (rec: RecordedRequest, res: http.ServerResponse, err: any) => void,
): Promise<RecordingServer> {
  const requests: RecordedRequest[] = [];
  const events = new EventEmitter();
  const sockets = new Set<Socket>();

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
        surface: null,
        servedUsage: null,
        cut: false,
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
        if (!res.headersSent) onCrash(rec, res, err);
        else res.destroy();
      });
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

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
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Parse an SSE body into its events (`event:` name and JSON-parsed `data:`; raw text kept when not JSON, e.g. [DONE]). */
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
