// Small pieces of the proxy's wire handling kept out of proxy.ts: an error answered in the agent's API format, and
// whether a failed upstream request met a pooled connection the host had already closed.
import type http from 'node:http';
import type { ApiStyle } from '../../shared/contract.ts';
import { errorBody } from './proxy-wire.ts';
import { anthropicErrorType } from './translate/index.ts';

/** Answers `res` with an error in the agent's API's own shape (or cuts it, once an answer has started). */
export function sendApiError(
  res: http.ServerResponse,
  style: ApiStyle,
  status: number,
  type: string,
  message: string,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = errorBody(
    style,
    style === 'anthropic' && !type.endsWith('_error') && type !== 'error' ? anthropicErrorType(status, type, message) : type,
    message,
  );
  res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/**
 * A request sent on a kept-alive connection the host closed meanwhile (its idle timeout raced our reuse): it failed
 * before any answer (the host closed the connection instead of reading it), so it is sent once more on a new connection — what Node's docs
 * advise. Without this an agent saw a 502 "ECONNRESET" now and then after a pause (bench/sandbox found it).
 */
export function staleSocket(req: http.ClientRequest, err: NodeJS.ErrnoException): boolean {
  return req.reusedSocket && (err.code === 'ECONNRESET' || err.code === 'EPIPE');
}
