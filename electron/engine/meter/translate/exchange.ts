// One translated exchange on the proxy: which Anthropic path goes where on an OpenAI-style host, the request body as
// the host wants it, and a writer that gives the agent the host's answer in Anthropic's shape — streamed event by
// event, a whole message, or an error envelope. The proxy's tap sees the host's own bytes before this writer does, so
// metering reads what the host reported.
import type http from 'node:http';
import { anthropicToChat } from './request.ts';
import { chatErrorToAnthropic, chatJsonToAnthropic } from './response.ts';
import { ChatToAnthropicStream } from './stream.ts';
import { estimateTokensOfJson } from './usage.ts';

/** Where an agent's Anthropic request goes on a Chat host: upstream, answered here, or refused as unknown. */
export type TranslatedPath =
  | { kind: 'upstream'; path: string }
  | { kind: 'local'; status: number; body: string | null }
  | { kind: 'count_tokens' };

export function translatePath(method: string, rest: string): TranslatedPath {
  const path = rest.split('?')[0] ?? '';
  if (method === 'POST' && /^\/v1\/messages\/?$/.test(path)) return { kind: 'upstream', path: '/chat/completions' };
  if (method === 'POST' && /^\/v1\/messages\/count_tokens\/?$/.test(path)) return { kind: 'count_tokens' };
  // Claude Code's reachability probe (HEAD /api/hello): the host is reached through the meter, so answer it here.
  if (path === '/api/hello') return { kind: 'local', status: 200, body: null };
  return {
    kind: 'local',
    status: 404,
    body: JSON.stringify({
      type: 'error',
      error: { type: 'not_found_error', message: `${method} ${path} has no equivalent on an OpenAI-style host` },
    }),
  };
}

export interface TranslatedBody {
  body: Buffer;
  stream: boolean;
  promptTokensEstimate: number;
  model: string;
}

/** The agent's request body for the host; a body that is not JSON is an error the agent sees. */
export function translateBody(raw: Buffer, model: string | undefined): TranslatedBody {
  const parsed = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
  const t = anthropicToChat(parsed, model ? { model } : {});
  return {
    body: Buffer.from(JSON.stringify(t.body)),
    stream: t.stream,
    promptTokensEstimate: t.promptTokensEstimate,
    model: String(t.body.model ?? ''),
  };
}

/** What Chat hosts have no endpoint for, answered here: count_tokens (an estimate), the probe, unknown paths. */
export function answerLocally(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  where: Exclude<TranslatedPath, { kind: 'upstream' }>,
): void {
  const send = (status: number, body: string | null) => {
    res.writeHead(status, body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {});
    res.end(body ?? undefined);
  };
  if (where.kind === 'local') {
    req.resume();
    return send(where.status, where.body);
  }
  const parts: Buffer[] = [];
  req.on('data', (c: Buffer) => parts.push(c));
  req.on('end', () => send(200, countTokensAnswer(Buffer.concat(parts))));
}

/** count_tokens answered locally (Chat hosts have no such endpoint): the same estimate the meter starts from. */
function countTokensAnswer(raw: Buffer): string {
  try {
    const b = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
    return JSON.stringify({ input_tokens: estimateTokensOfJson([b.system, b.messages, b.tools]) });
  } catch {
    return JSON.stringify({ input_tokens: 0 });
  }
}

export interface ResponseWriter {
  /** False when the agent's socket is full (the caller pauses the host's response until 'drain'). */
  write(chunk: Buffer): boolean;
  end(): void;
  /** The host failed before the answer was whole: end it with an error the agent reads (`message`: what happened). */
  fail(message: string): void;
}

const HEADERS_KEPT = ['retry-after', 'x-request-id', 'request-id'];

/** Writes the host's answer to the agent in Anthropic's shape. */
export function translatingWriter(
  res: http.ServerResponse,
  status: number,
  upHeaders: http.IncomingHttpHeaders,
  t: TranslatedBody,
): ResponseWriter {
  const kept: Record<string, string> = {};
  for (const h of HEADERS_KEPT) if (typeof upHeaders[h] === 'string') kept[h] = upHeaders[h] as string;
  const isStream = status < 300 && t.stream && String(upHeaders['content-type'] ?? '').includes('text/event-stream');
  if (isStream) {
    const tr = new ChatToAnthropicStream(t.model, t.promptTokensEstimate);
    res.writeHead(status, { ...kept, 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
    res.flushHeaders();
    return {
      write: (chunk) => {
        const out = tr.push(chunk);
        return out ? res.write(out) : true;
      },
      end: () => res.end(tr.end()),
      // The translator writes whole events only, so an error event can follow whatever was sent.
      fail: (message) => res.end(`event: error\ndata: ${JSON.stringify({ type: 'error', error: { type: 'api_error', message } })}\n\n`),
    };
  }
  // A whole answer or an error: collected, then sent translated.
  const parts: Buffer[] = [];
  return {
    write: (chunk) => (parts.push(chunk), true),
    end: () => {
      const text = Buffer.concat(parts).toString('utf8');
      let body: string;
      if (status >= 400) body = JSON.stringify(chatErrorToAnthropic(status, text));
      else {
        try {
          body = JSON.stringify(chatJsonToAnthropic(JSON.parse(text), t.model));
        } catch {
          status = 502;
          body = JSON.stringify(chatErrorToAnthropic(502, `the host's answer was not JSON: ${text.slice(0, 200)}`));
        }
      }
      res.writeHead(status, { ...kept, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    },
    fail: (message) => {
      if (res.headersSent) return void res.destroy();
      const body = JSON.stringify({ type: 'error', error: { type: 'api_error', message } });
      res.writeHead(502, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    },
  };
}
