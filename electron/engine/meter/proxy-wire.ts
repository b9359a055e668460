// The proxy's wire helpers: which headers pass, the error body of a proxy-made answer, a host's retry-after, a body
// rewritten for a host (its model id, its routing preferences), and the pass-through writer.
import type http from 'node:http';
import type { ApiStyle } from '../../shared/contract.ts';
import type { ProxyRoute } from './proxy-types.ts';
import type { ResponseWriter } from './translate/index.ts';
import { describeBody } from './body-text.ts';

// RFC 9110 §7.6.1 hop-by-hop headers, plus ones the proxy owns.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);
export const STRIP_REQUEST = new Set(['host', 'authorization', 'x-api-key', 'accept-encoding', 'expect']);

export function filterHeaders(headers: http.IncomingHttpHeaders, extraStrip?: Set<string>): http.OutgoingHttpHeaders {
  const connectionListed = new Set(
    String(headers['connection'] ?? '')
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean),
  );
  const out: http.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) {
    const key = k.toLowerCase();
    if (v === undefined || HOP_BY_HOP.has(key) || connectionListed.has(key) || extraStrip?.has(key)) continue;
    out[key] = v;
  }
  return out;
}

/** The provider's error body shape for a proxy-generated error. */
export function errorBody(style: ApiStyle, type: string, message: string): string {
  if (style === 'anthropic') return JSON.stringify({ type: 'error', error: { type, message } });
  return JSON.stringify({ error: { message, type, code: type } });
}

/** `retry-after` in ms (seconds or an HTTP date), null when absent or unreadable. */
export function retryAfterMs(headers: http.IncomingHttpHeaders): number | null {
  const v = headers['retry-after'];
  if (typeof v !== 'string' || !v.trim()) return null;
  const secs = Number(v);
  if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
  const at = Date.parse(v);
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : null;
}

/** A JSON body with the route's model id and extra fields; a body that is not a JSON object goes as it came. */
export function rewriteJson(body: Buffer, route: ProxyRoute): Buffer {
  let obj: unknown;
  try {
    obj = JSON.parse(body.toString('utf8'));
  } catch {
    return body;
  }
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return body;
  const o = obj as Record<string, unknown>;
  if (route.model !== undefined && typeof o.model === 'string') o.model = route.model;
  if (route.bodyFields) Object.assign(o, route.bodyFields);
  return Buffer.from(JSON.stringify(o));
}

/** The host's answer to the agent byte for byte (headers filtered, flushed at once for SSE). */
/**
 * The host's answer as it came. When the host fails mid-answer, an event stream ends with an error event in the agent's
 * format (after a blank line, so a half-sent event cannot swallow it); any other body is cut (the agent sees the
 * truncation, as it would from the host).
 */
export function passThrough(res: http.ServerResponse, status: number, upRes: http.IncomingMessage, style: ApiStyle): ResponseWriter {
  res.writeHead(status, upRes.statusMessage, filterHeaders(upRes.headers));
  res.flushHeaders();
  const sse = status < 300 && /text\/event-stream/i.test(String(upRes.headers['content-type'] ?? ''));
  return {
    write: (chunk) => res.write(chunk),
    end: () => res.end(),
    fail: (message) => (sse ? res.end(`\n\n${sseError(style, message)}`) : res.destroy()),
  };
}

/** An error as the last event of a stream, in the agent's format (what each API sends when it fails mid-stream). */
export function sseError(style: ApiStyle, message: string): string {
  if (style === 'anthropic') return `event: error\ndata: ${JSON.stringify({ type: 'error', error: { type: 'api_error', message } })}\n\n`;
  if (style === 'responses')
    return `event: error\ndata: ${JSON.stringify({ type: 'error', code: 'server_error', message, param: null })}\n\n`;
  return `data: ${JSON.stringify({ error: { message, type: 'server_error', code: 'server_error' } })}\n\n`;
}

/** Error bodies kept at most to describe a non-JSON one. */
const ERROR_BODY_KEPT = 64 * 1024;

/**
 * An error the host sent as something other than JSON (a 500 HTML page from a load balancer): the agent gets the same
 * status with an error in its own format saying what came, and so does the meter's tap (`toTap`), not the page.
 */
export function errorRewriter(
  res: http.ServerResponse,
  status: number,
  upHeaders: http.IncomingHttpHeaders,
  style: ApiStyle,
  origin: string,
  toTap: (json: Buffer) => void,
): ResponseWriter {
  const parts: Buffer[] = [];
  let kept = 0;
  const send = (message: string) => {
    const body = Buffer.from(errorBody(style, style === 'anthropic' ? 'api_error' : 'server_error', message));
    toTap(body);
    const headers: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': body.length };
    if (typeof upHeaders['retry-after'] === 'string') headers['retry-after'] = upHeaders['retry-after'];
    res.writeHead(status, headers);
    res.end(body);
  };
  const what = () => describeBody(Buffer.concat(parts).toString('utf8'));
  return {
    write: (chunk) => {
      if (kept < ERROR_BODY_KEPT) parts.push(chunk.subarray(0, ERROR_BODY_KEPT - kept));
      kept += chunk.length;
      return true;
    },
    end: () => send(`${origin} answered ${status} with ${what()} instead of an API error (the host, or a proxy in front of it, failed)`),
    fail: (message) => send(`${origin} answered ${status} with ${what()}, then ${message}`),
  };
}

/** Whether an error answer is not JSON (then errorRewriter says what it was). */
export function isNonJsonError(status: number, headers: http.IncomingHttpHeaders): boolean {
  return status >= 400 && !/json/i.test(String(headers['content-type'] ?? ''));
}

export function safe<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}
