// The proxy's types: a session's route to its provider(s), the tap (the metering seam) and what it may decide, and one
// proxied request as the proxy reports it.
import type http from 'node:http';
import type https from 'node:https';
import type { ApiStyle } from '../../shared/contract.ts';

export interface ProxyRoute {
  sessionId: string;
  /** e.g. https://api.moonshot.ai/anthropic — the client's path after /s/<token> is appended to it. */
  upstreamBaseUrl: string;
  /** The real provider key; null = send no credentials upstream. */
  apiKey: string | null;
  /**
   * A host's engine waits for this key from a desktop: until it arrives (MeterProxy.updateRoutes), requests are answered
   * 503 saying so (agents retry those), nothing goes upstream.
   */
  awaitKey?: string;
  style: ApiStyle;
  /**
   * How the key is sent. Default 'bearer' (`Authorization: Bearer <key>`, what Moonshot takes on both surfaces);
   * 'x-api-key' for hosts that want Anthropic's header (e.g. the Kimi Code subscription), 'both' sends both.
   */
  auth?: 'bearer' | 'x-api-key' | 'both';
  /**
   * The agent speaks Anthropic Messages and the host only OpenAI Chat Completions (`style` is then 'openai'): requests
   * are translated before the tap sees them, answers after (see translate/). `model`: the host's id for the model.
   */
  translate?: { model?: string };
  /** The provider this route reaches (its name in the run's `providers:`); absent for a run of one provider. */
  provider?: string;
  /** The host's id for the model: a JSON request's `model` is rewritten to it (a providers list names one model many ways). */
  model?: string;
  /** Fields added to every JSON request body (OpenRouter's `provider` routing preferences). */
  bodyFields?: Record<string, unknown>;
}

/** Why an attempt on one provider gave way to the next, before any byte reached the agent. */
export interface FailoverCause {
  /** The provider's status (5xx, 429, 529), or null when it could not be reached (refused, reset, timed out). */
  status: number | null;
  /** The provider's `retry-after` in ms, when it sent one. */
  retryAfterMs: number | null;
  error: string;
}

/**
 * Several providers behind one token: the proxy tries them in `plan()` order and moves on only before the first byte
 * (connection refused or reset, 5xx, 429, 529); a failure mid-stream reaches the agent as it is.
 */
export interface ProviderChoice {
  /** The routes to try for this request, best first. */
  plan(): ProxyRoute[];
  /** That attempt failed before anything reached the agent; the next route is tried (when there is one). */
  failed(route: ProxyRoute, cause: FailoverCause, at: number): void;
  /** That route's answer is going to the agent. */
  served(route: ProxyRoute): void;
}

/** One finished (or aborted / failed) proxied request. */
export interface ProxyRequestEvent {
  sessionId: string;
  method: string;
  /** The path after /s/<token>, with the query (e.g. `/v1/messages?beta=true`). */
  path: string;
  /** Upstream status, or the proxy's own (502) when the upstream could not be reached; null if none was sent. */
  status: number | null;
  startedAt: number;
  /** When the first byte of the response body arrived from upstream (null if none did). */
  firstByteAt: number | null;
  endedAt: number;
  /** Response body bytes relayed to the client. */
  bytes: number;
  /** The client went away before the response was complete (the upstream request was aborted too). */
  aborted: boolean;
  /** Why it failed, if it did (upstream unreachable, upstream reset mid-stream …). */
  error?: string;
  /** The provider that answered (routes of a providers list). */
  provider?: string;
  /** This attempt failed before the first byte and the request went on to another provider: the agent never saw it. */
  failedOver?: boolean;
}

/** Context handed to a tap factory for each proxied request. */
export interface ProxyTapContext {
  sessionId: string;
  route: ProxyRoute;
  method: string;
  path: string;
  /** Request headers as sent upstream (credentials redacted). */
  requestHeaders: http.OutgoingHttpHeaders;
  startedAt: number;
}

/**
 * An observer of one proxied exchange: the seam for metering. It sees the bytes exactly as they pass; it cannot change
 * them. Exceptions thrown by a tap are swallowed (a metering bug must never break an agent's stream).
 */
export interface ProxyTap {
  /**
   * When a tap defines this, the proxy buffers the request body (requests to models are JSON of a few MB at most) and
   * asks before anything goes upstream: refuse it (answered locally in the provider's error format — a budget), or
   * forward a replacement body (OpenAI streaming without usage: the meter asks for it). Return nothing to pass it as is.
   */
  onRequestBody?(body: Buffer): RequestDecision | void;
  onRequestChunk?(chunk: Buffer): void;
  onResponse?(status: number, headers: http.IncomingHttpHeaders): void;
  onResponseChunk?(chunk: Buffer): void;
  /** Called once at the end, with the same data as the 'request' event. */
  onEnd?(e: ProxyRequestEvent): void;
}

export interface RequestDecision {
  refuse?: { status: number; type: string; message: string; headers?: Record<string, string> };
  body?: Buffer;
  /**
   * Hold the request (a budget that cannot cover it, a rate limit): nothing goes upstream and the client's connection
   * stays open until `decision` settles, then it is handled as that decision says. If the client goes away first,
   * `abandon` is called and nothing is sent anywhere.
   */
  wait?: { decision: Promise<RequestDecision | void>; abandon: () => void };
}

/** Request bodies buffered for `onRequestBody` larger than this are refused (413) rather than held in memory. */
export const MAX_BUFFERED_REQUEST = 64 * 1024 * 1024;

export type ProxyTapFactory = (ctx: ProxyTapContext) => ProxyTap | null | undefined;

export interface MeterProxyOptions {
  tap?: ProxyTapFactory;
  /** Agent for https upstreams (default: a keep-alive agent with Node's CA store). Tests pass one trusting their CA. */
  httpsAgent?: https.Agent;
  /** Agent for http upstreams (default: a keep-alive agent). */
  httpAgent?: http.Agent;
  /** A host silent this long is given up on (default UPSTREAM_IDLE_MS). */
  idleTimeoutMs?: number;
  /** An answer past this many bytes is cut off (default MAX_RESPONSE_BYTES). */
  maxResponseBytes?: number;
}

/**
 * A host that sends no byte for this long (before its answer or in the middle of it) is given up on: the agent gets an
 * error in its format instead of waiting out its own timeout (Claude Code's is 600 s, set by Flotilla). Long enough
 * for K2 to read a full window before its first token (minutes on a slow host), short enough to say so well before
 * the agent would.
 */
export const UPSTREAM_IDLE_MS = 300_000;
/** An answer larger than this is cut off (a sane answer is a few MB: 32 000 output tokens stream as ~10 MB of SSE). */
export const MAX_RESPONSE_BYTES = 256 * 1024 * 1024;

/** What an agent is told while its host's engine waits for a key from a desktop. */
export function awaitingKey(name: string): string {
  return `waiting for the key from the desktop: ${name} has not been handed to this host's engine yet (keys stay in its memory and an engine that restarted has none) — open Flotilla on your desktop; it hands the key over when it connects`;
}
