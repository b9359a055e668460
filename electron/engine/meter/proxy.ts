// The per-session authenticated reverse proxy every agent talks to instead of the provider.
//
//   agent ──► http://127.0.0.1:<engine port>/s/<token>/<rest>?<query> ──► <upstreamBaseUrl>/<rest>?<query>
//
// The token in the path picks the session's route; the client's own credentials (which are only the session token) are
// stripped and the real key is injected. Bodies stream through unbuffered and byte-for-byte in both directions (SSE is
// flushed as it arrives). `accept-encoding: identity` is forced upstream so the response bytes are plain text: the metering
// tap (see `ProxyTap`) can read them without decompressing, and the client gets exactly what the tap saw.
//
// A run of several providers registers a `ProviderChoice` with the token: the request is read once and tried on each
// provider in the order it plans, moving on only before the first byte reaches the agent (refused, reset, 5xx, 429, 529).
import { EventEmitter } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import type { ApiStyle } from '../../shared/contract.ts';
import type {
  FailoverCause,
  MeterProxyOptions,
  ProviderChoice,
  ProxyRequestEvent,
  ProxyRoute,
  ProxyTap,
  ProxyTapFactory,
  RequestDecision,
} from './proxy-types.ts';
import { MAX_BUFFERED_REQUEST, MAX_RESPONSE_BYTES, UPSTREAM_IDLE_MS, awaitingKey } from './proxy-types.ts';
import { sendApiError, staleSocket } from './proxy-send.ts';
import { STRIP_REQUEST, errorRewriter, filterHeaders, isNonJsonError, passThrough, retryAfterMs, rewriteJson, safe } from './proxy-wire.ts';
import {
  type ResponseWriter,
  type TranslatedBody,
  answerLocally,
  translateBody,
  translatePath,
  translatingWriter,
} from './translate/index.ts';

/** Statuses that send a request on to the next provider: the host could not serve it now, another may. */
const FAILOVER_STATUSES = new Set([429, 500, 502, 503, 504, 529]);

/** The API the agent speaks: errors the proxy answers itself are in its format. */
const clientStyle = (route: ProxyRoute): ApiStyle => (route.translate ? 'anthropic' : route.style);

/** `${origin}/s/${token}` — the base URL an agent is given. */
export function proxyUrl(origin: string, token: string): string {
  return `${origin.replace(/\/+$/, '')}/s/${token}`;
}

const PREFIX = '/s/';

export class MeterProxy extends EventEmitter {
  private readonly routes = new Map<string, ProxyRoute>();
  private readonly choices = new Map<string, ProviderChoice>();
  private tapFactory: ProxyTapFactory | null;
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  private readonly idleMs: number;
  private readonly maxResponseBytes: number;

  constructor(opts: MeterProxyOptions = {}) {
    super();
    this.idleMs = opts.idleTimeoutMs ?? UPSTREAM_IDLE_MS;
    this.maxResponseBytes = opts.maxResponseBytes ?? MAX_RESPONSE_BYTES;
    this.tapFactory = opts.tap ?? null;
    this.httpAgent = opts.httpAgent ?? new http.Agent({ keepAlive: true });
    this.httpsAgent = opts.httpsAgent ?? new https.Agent({ keepAlive: true });
  }

  override on(event: 'request', listener: (e: ProxyRequestEvent) => void): this;
  override on(event: string | symbol, listener: (...args: any[]) => void): this;
  override on(event: string | symbol, listener: (...args: any[]) => void): this {
    return super.on(event, listener);
  }

  override once(event: 'request', listener: (e: ProxyRequestEvent) => void): this;
  override once(event: string | symbol, listener: (...args: any[]) => void): this;
  override once(event: string | symbol, listener: (...args: any[]) => void): this {
    return super.once(event, listener);
  }

  /** `route` serves the token; with `choice`, each request is sent to the routes it plans, in order, until one answers. */
  register(token: string, route: ProxyRoute, choice?: ProviderChoice): void {
    if (!token) throw new Error('MeterProxy.register: empty token');
    // Validate the URL now rather than on the first request.
    const u = new URL(route.upstreamBaseUrl);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`Unsupported upstream protocol: ${u.protocol}`);
    this.routes.set(token, { ...route });
    if (choice) this.choices.set(token, choice);
    else this.choices.delete(token);
  }

  unregister(token: string): void {
    this.routes.delete(token);
    this.choices.delete(token);
  }

  /** Whether any token still routes a session's requests. */
  routesSession(sessionId: string): boolean {
    for (const r of this.routes.values()) if (r.sessionId === sessionId) return true;
    return false;
  }

  /** Changes every registered route in place (a key handed over after the sessions started). */
  updateRoutes(fn: (route: ProxyRoute) => void): void {
    for (const r of this.routes.values()) fn(r);
  }

  /** The route registered under a token (undefined if none). */
  route(token: string): ProxyRoute | undefined {
    return this.routes.get(token);
  }

  /** Install (or remove, with null) the per-request tap factory: the metering seam. */
  setTapFactory(factory: ProxyTapFactory | null): void {
    this.tapFactory = factory;
  }

  /** Close idle upstream keep-alive sockets. */
  destroy(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  /** Returns true if it handled the request (path starts with /s/). */
  handle(req: http.IncomingMessage, res: http.ServerResponse): boolean {
    const url = req.url ?? '';
    if (!url.startsWith(PREFIX)) return false;
    const afterPrefix = url.slice(PREFIX.length);
    const cut = afterPrefix.search(/[/?]/);
    const token = cut < 0 ? afterPrefix : afterPrefix.slice(0, cut);
    let rest = cut < 0 ? '' : afterPrefix.slice(cut);
    if (rest.startsWith('?')) rest = '/' + rest;
    const route = token ? this.routes.get(token) : undefined;
    if (!route) {
      req.resume();
      sendApiError(res, 'anthropic', 401, 'authentication_error', 'Invalid or unknown Flotilla session token');
      return true;
    }
    if (route.awaitKey)
      return (req.resume(), sendApiError(res, clientStyle(route), 503, 'overloaded_error', awaitingKey(route.awaitKey)), true);
    const choice = this.choices.get(token);
    if (choice) this.failover(req, res, choice, rest || '/');
    else this.forward(req, res, route, rest || '/', null);
    return true;
  }

  /** Reads the request once, then tries each planned route until one answers (or the last one's answer is the agent's). */
  private failover(req: http.IncomingMessage, res: http.ServerResponse, choice: ProviderChoice, rest: string): void {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BUFFERED_REQUEST) chunks.push(chunk);
    });
    req.on('error', () => res.destroy());
    req.on('end', () => {
      const plan = choice.plan();
      if (size > MAX_BUFFERED_REQUEST) {
        sendApiError(res, clientStyle(plan[0]!), 413, 'request_too_large', `request body over ${MAX_BUFFERED_REQUEST} bytes`);
        return;
      }
      const body = Buffer.concat(chunks, size);
      const next = (i: number): void => {
        const route = plan[i]!;
        const last = i === plan.length - 1;
        this.forward(req, res, route, rest, {
          body,
          served: () => choice.served(route),
          failed: last
            ? null
            : (cause) => {
                choice.failed(route, cause, Date.now());
                if (!res.destroyed && !res.headersSent) next(i + 1);
              },
        });
      };
      next(0);
    });
  }

  private forward(req: http.IncomingMessage, res: http.ServerResponse, route: ProxyRoute, rest: string, attempt: Attempt | null): void {
    const startedAt = Date.now();
    const method = req.method ?? 'GET';
    const style = clientStyle(route);
    if (route.translate) {
      const where = translatePath(method, rest);
      if (where.kind !== 'upstream') return answerLocally(req, res, where);
      rest = where.path;
    }
    const base = route.upstreamBaseUrl.replace(/\/+$/, '');
    let target: URL;
    try {
      target = new URL(base + rest);
    } catch {
      req.resume();
      sendApiError(res, style, 400, 'invalid_request_error', `Malformed path: ${rest}`);
      return;
    }
    const basePath = new URL(base).pathname.replace(/\/+$/, '');
    // `..` segments are resolved by URL(): never let a client climb out of the provider's base path.
    if (basePath && target.pathname !== basePath && !target.pathname.startsWith(basePath + '/')) {
      req.resume();
      sendApiError(res, style, 400, 'invalid_request_error', `Path escapes the upstream base: ${rest}`);
      return;
    }

    const headers = filterHeaders(req.headers, STRIP_REQUEST);
    headers['host'] = target.host;
    headers['accept-encoding'] = 'identity';
    const key = route.apiKey;
    if (key) {
      const mode = route.auth ?? 'bearer';
      if (mode === 'bearer' || mode === 'both') headers['authorization'] = `Bearer ${key}`;
      if (mode === 'x-api-key' || mode === 'both') headers['x-api-key'] = key;
    }

    const ev: ProxyRequestEvent = {
      sessionId: route.sessionId,
      method,
      path: rest,
      status: null,
      startedAt,
      firstByteAt: null,
      endedAt: startedAt,
      bytes: 0,
      aborted: false,
      ...(route.provider !== undefined ? { provider: route.provider } : {}),
    };
    let tap: ProxyTap | null = null;
    if (this.tapFactory) {
      const redacted = { ...headers };
      if (redacted['authorization']) redacted['authorization'] = 'Bearer [redacted]';
      if (redacted['x-api-key']) redacted['x-api-key'] = '[redacted]';
      tap =
        safe(() => this.tapFactory!({ sessionId: route.sessionId, route, method, path: rest, requestHeaders: redacted, startedAt })) ??
        null;
    }
    let ended = false;
    const finish = (patch: Partial<ProxyRequestEvent>) => {
      if (ended) return;
      ended = true;
      Object.assign(ev, patch, { endedAt: Date.now() });
      if (tap?.onEnd) safe(() => tap!.onEnd!({ ...ev }));
      this.emit('request', { ...ev });
    };

    let translated: TranslatedBody | null = null;
    const connect = (body: Buffer | null) => {
      if (body) {
        delete headers['transfer-encoding'];
        headers['content-length'] = String(body.length);
      }
      const upstreamReq = this.connect(target, method, headers, res, route, ev, tap, finish, () => ended, translated, attempt, body);
      if (body) {
        if (tap?.onRequestChunk) safe(() => tap!.onRequestChunk!(body));
        upstreamReq.end(body);
        return;
      }
      req.on('data', (chunk: Buffer) => {
        if (tap?.onRequestChunk) safe(() => tap!.onRequestChunk!(chunk));
        if (!upstreamReq.write(chunk)) {
          req.pause();
          upstreamReq.once('drain', () => req.resume());
        }
      });
      req.on('end', () => upstreamReq.end());
      req.on('error', () => upstreamReq.destroy());
    };

    const rewrites = route.translate || route.model !== undefined || route.bodyFields !== undefined;
    if (!attempt && !tap?.onRequestBody && !rewrites) return connect(null);
    const withBody = (received: Buffer): void => {
      let body = route.model !== undefined || route.bodyFields !== undefined ? rewriteJson(received, route) : received;
      if (route.translate) {
        try {
          translated = translateBody(body, route.translate.model);
        } catch (err) {
          const message = `Flotilla could not translate this request for ${target.origin}: ${(err as Error).message}`;
          sendApiError(res, style, 400, 'invalid_request_error', message);
          return finish({ status: 400, error: message });
        }
        body = translated.body;
        headers['content-type'] = 'application/json';
      }
      const decide = (decision: RequestDecision | undefined): void => {
        if (decision?.wait) return hold(decision.wait);
        if (decision?.refuse) {
          const r = decision.refuse;
          sendApiError(res, style, r.status, r.type, r.message, r.headers);
          return finish({ status: r.status, error: r.message });
        }
        connect(decision?.body ?? body);
      };
      const hold = (w: NonNullable<RequestDecision['wait']>): void => {
        let gone = false;
        const onClose = () => {
          gone = true;
          safe(() => w.abandon());
          finish({ aborted: true });
        };
        res.once('close', onClose);
        const resume = (d: RequestDecision | undefined) => {
          if (gone) return;
          res.off('close', onClose);
          decide(d);
        };
        w.decision.then(
          (d) => resume(d ?? undefined),
          (err: Error) =>
            resume({ refuse: { status: 500, type: 'api_error', message: `Flotilla could not decide on this request: ${err.message}` } }),
        );
      };
      decide(tap?.onRequestBody ? (safe(() => tap!.onRequestBody!(body)) ?? undefined) : undefined);
    };
    if (attempt) return withBody(attempt.body);
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BUFFERED_REQUEST) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('error', () => finish({ aborted: true }));
    req.on('end', () => {
      if (tooLarge) {
        sendApiError(res, style, 413, 'request_too_large', `request body over ${MAX_BUFFERED_REQUEST} bytes`);
        return finish({ status: 413 });
      }
      withBody(Buffer.concat(chunks, size));
    });
  }

  private connect(
    target: URL,
    method: string,
    headers: http.OutgoingHttpHeaders,
    res: http.ServerResponse,
    route: ProxyRoute,
    ev: ProxyRequestEvent,
    tap: ProxyTap | null,
    finish: (patch: Partial<ProxyRequestEvent>) => void,
    isEnded: () => boolean,
    translated: TranslatedBody | null,
    attempt: Attempt | null,
    /** The buffered body: sent again once on a fresh connection if a pooled one turns out closed (staleSocket). */
    body: Buffer | null = null,
  ): http.ClientRequest {
    const isHttps = target.protocol === 'https:';
    const upstreamReq = (isHttps ? https : http).request({
      protocol: target.protocol,
      hostname: target.hostname.replace(/^\[|\]$/g, ''),
      port: target.port || (isHttps ? 443 : 80),
      method,
      path: target.pathname + target.search,
      headers,
      agent: isHttps ? this.httpsAgent : this.httpAgent,
    });
    upstreamReq.setNoDelay(true);
    const style = clientStyle(route);
    /** What went wrong on the proxy's side (the host went quiet, the answer grew too large): said to the agent. */
    let fault: string | null = null;
    let out: ResponseWriter | null = null;
    upstreamReq.setTimeout(this.idleMs, () => {
      fault = `no byte from ${target.origin} for ${Math.round(this.idleMs / 1000)} s — Flotilla gave up on it`;
      upstreamReq.destroy(new Error(fault));
    });
    /** The answer had started: end it with an error the agent reads (or cut it), and record why. */
    const failMidway = (error: string) => {
      if (out) safe(() => out!.fail(error));
      else res.destroy();
      finish({ error });
    };

    // The client going away (before the response is complete) aborts the upstream request.
    res.on('close', () => {
      if (res.writableFinished) return;
      upstreamReq.destroy();
      finish({ aborted: true });
    });

    upstreamReq.on('error', (err: NodeJS.ErrnoException) => {
      if (isEnded()) return;
      if (body && !fault && !res.headersSent && staleSocket(upstreamReq, err))
        return void this.connect(target, method, headers, res, route, ev, tap, finish, isEnded, translated, attempt).end(body);
      const why = fault ?? err.code ?? err.message;
      if (!res.headersSent && attempt?.failed && ev.status === null) {
        const error = `could not reach ${target.origin}: ${why}`;
        finish({ error, failedOver: true });
        attempt.failed({ status: null, retryAfterMs: null, error });
        return;
      }
      if (!res.headersSent) {
        const message = fault ?? `Flotilla proxy could not reach the upstream ${target.origin}${target.pathname}: ${why}`;
        const status = fault ? 504 : 502;
        sendApiError(res, style, status, style === 'anthropic' ? 'api_error' : 'upstream_error', message);
        finish({ status, error: message });
      } else failMidway(fault ?? `the connection to ${target.origin} failed mid-answer: ${why}`);
    });

    upstreamReq.on('response', (upRes) => {
      ev.status = upRes.statusCode ?? 502;
      if (tap?.onResponse) safe(() => tap!.onResponse!(ev.status!, upRes.headers));
      if (attempt?.failed && FAILOVER_STATUSES.has(ev.status)) {
        // Read the refusal for the ledger (the tap parses it), tell the agent nothing, and go on to the next provider.
        const failed = attempt.failed;
        upRes.on('data', (chunk: Buffer) => {
          if (tap?.onResponseChunk) safe(() => tap!.onResponseChunk!(chunk));
        });
        const done = () => {
          if (isEnded()) return;
          const error = `${target.origin} answered ${ev.status}`;
          finish({ error, failedOver: true });
          failed({ status: ev.status, retryAfterMs: retryAfterMs(upRes.headers), error });
        };
        upRes.on('end', done);
        upRes.on('close', done);
        return;
      }
      attempt?.served();
      res.socket?.setNoDelay(true);
      // An error page that is not JSON (a 500 from a load balancer) reaches the agent and the tap as an API error.
      const rewrite = !translated && isNonJsonError(ev.status, upRes.headers);
      const writer: ResponseWriter = translated
        ? translatingWriter(res, ev.status, upRes.headers, translated)
        : rewrite
          ? errorRewriter(res, ev.status, upRes.headers, style, target.origin, (json) => tap?.onResponseChunk?.(json))
          : passThrough(res, ev.status, upRes, style);
      out = writer;
      upRes.on('data', (chunk: Buffer) => {
        if (ev.firstByteAt === null) ev.firstByteAt = Date.now();
        ev.bytes += chunk.length;
        if (ev.bytes > this.maxResponseBytes) {
          if (isEnded()) return;
          fault = `the answer from ${target.origin} passed ${Math.round(this.maxResponseBytes / 1024 / 1024)} MB — Flotilla cut it off`;
          upRes.destroy();
          upstreamReq.destroy();
          return failMidway(fault);
        }
        if (!rewrite && tap?.onResponseChunk) safe(() => tap!.onResponseChunk!(chunk));
        if (!writer.write(chunk)) {
          upRes.pause();
          res.once('drain', () => upRes.resume());
        }
      });
      upRes.on('end', () => {
        if (isEnded()) return;
        writer.end();
        finish({});
      });
      upRes.on('error', () => {
        /* handled by upstreamReq 'error' / res 'close' */
      });
      upRes.on('close', () => {
        // The upstream connection closed before the response was complete: cut the client's stream too.
        if (!upRes.complete && !isEnded()) failMidway(fault ?? `${target.origin} closed the connection mid-answer`);
      });
    });
    return upstreamReq;
  }
}

/** One try of a request on one of several providers (see MeterProxy.failover). */
interface Attempt {
  /** The request body, read once for every try. */
  body: Buffer;
  served: () => void;
  /** Go on to the next provider; null on the last one (its answer, whatever it is, is the agent's). */
  failed: ((cause: FailoverCause) => void) | null;
}
