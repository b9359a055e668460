// The proxy's wire helpers: which headers pass, the error body of a proxy-made answer, a host's retry-after, a body
// rewritten for a host (its model id, its routing preferences), and the pass-through writer.
import type http from 'node:http';
import type { ApiStyle } from '../../shared/contract.ts';
import type { ProxyRoute } from './proxy-types.ts';
import type { ResponseWriter } from './translate/index.ts';

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
export function passThrough(res: http.ServerResponse, status: number, upRes: http.IncomingMessage): ResponseWriter {
  res.writeHead(status, upRes.statusMessage, filterHeaders(upRes.headers));
  res.flushHeaders();
  return { write: (chunk) => res.write(chunk), end: () => res.end() };
}

export function safe<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}
