// The meter's tap on one proxied request: the request inspected and rewritten by the compat profile, checked against
// the model's window, admitted by the budgets and the governor (or held), and the answer parsed as it streams — usage,
// first token, speed, edit intents — until the request settles in the ledger.
import type http from 'node:http';
import type { ApiStyle } from '../../shared/contract.ts';
import { budgetBlock, reservationUsd } from './budget.ts';
import type { RuleFire } from './compat/index.ts';
import { type InFlight, type SessionState, newFlight } from './figures.ts';
import { type Governor, NO_TICKET, rateLimitPauseMs, type Ticket } from './governor.ts';
import type { MeterEvents } from './options.ts';
import { noteLiveSpeed } from './outcome.ts';
import type { ProxyRequestEvent, ProxyTap, ProxyTapContext, RequestDecision } from './proxy-types.ts';
import type { ThrottledEvents } from './spend-events.ts';
import { createResponseParser, inspectRequest, isBillable, tokensFromChars, wireStyleForPath } from './usage/index.ts';
import { fitCompaction, windowVerdict } from './window.ts';

/** An open ledger row gets the usage seen so far at most this often, so a crash loses little. */
const LEDGER_PROGRESS_INTERVAL_MS = 1_000;

/** What the tap needs of the meter. */
export interface TapHost {
  readonly governor: Governor;
  readonly events: ThrottledEvents;
  /** Why new requests are held (a full disk), or null. */
  readonly spendHeld: string | null;
  log(line: string): void;
  emit(event: 'event', e: MeterEvents['event'][0]): boolean;
  noteCompat(s: SessionState, fires: RuleFire[]): void;
  answerWindow(s: SessionState, kind: 'overflow' | 'compact', tokens: number, agentStyle: ApiStyle): RequestDecision;
  admitLater(
    s: SessionState,
    key: string | null,
    tokens: number,
    reserve: number,
    signal: AbortSignal,
  ): Promise<{ ticket: Ticket } | { decision: RequestDecision }>;
  openRow(s: SessionState, f: InFlight): void;
  writeProgress(s: SessionState, f: InFlight, now: number): void;
  settle(
    s: SessionState,
    f: InFlight,
    e: ProxyRequestEvent,
    status: number,
    result: ReturnType<ReturnType<typeof createResponseParser>['end']> | null,
    request: { ctx: ProxyTapContext; body: Buffer | null },
    pausedMs: number | null,
    rateLabel: string | null,
  ): void;
}

export function createTap(meter: TapHost, s: SessionState, ctx: ProxyTapContext): ProxyTap | null {
  // A run of several providers: the route names the one this request goes to, and it is metered as that one.
  const name = ctx.route.provider;
  const p = name !== undefined ? s.info.providers?.[name] : undefined;
  const wire = p?.style ?? s.info.style;
  if (!isBillable(wire, ctx.method, ctx.path)) return null;
  const rateKey = p ? p.rateKey : (s.info.rateKey ?? null);
  const profile = p ? p.compat : (s.info.compat ?? null);
  const priceKeys = p && name !== undefined ? [name, p.preset] : null;
  // The path decides the wire format (an OpenAI-style agent may use /responses as well as /chat/completions).
  const style = wireStyleForPath(ctx.path) ?? wire;
  let flight: InFlight | null = null;
  let parser: ReturnType<typeof createResponseParser> | null = null;
  let status = 0;
  /** The body as it went upstream (kept to save it if the provider refuses it). */
  let sent: Buffer | null = null;
  /** How long the provider's 429 paused the key (for the session's error line). */
  let pausedMs: number | null = null;

  return {
    onRequestBody(body: Buffer): RequestDecision | void {
      const req = inspectRequest(
        style,
        ctx.path,
        body,
        profile?.rewriter(style, s.info.model, (fires) => meter.noteCompat(s, fires)),
      );
      sent = req.rewritten ?? body;
      const model = req.model ?? s.info.model;
      let promptTokens = tokensFromChars(req.promptChars);
      // A compaction over the window leaves its oldest tool results out, so the conversation survives.
      const fitted = req.compaction ? fitCompaction(sent, style, s.contextWindow, s.window.scale, promptTokens) : null;
      if (fitted) {
        sent = fitted.body;
        promptTokens = Math.round(fitted.tokens / (s.window.scale ?? 1));
        s.window.trimmed += 1;
        meter.log(`session ${s.info.sessionId}: ${fitted.elided} tool result(s) left out of a compaction so it fits the window`);
      }
      // A request that cannot fit the window (or should compact first) is answered here: no upload, no round trip.
      const agentStyle = ctx.route.translate ? 'anthropic' : style;
      const fit = windowVerdict(s.window, s.contextWindow, promptTokens, req.compaction === true, agentStyle === 'anthropic');
      if (fit.kind !== 'send') return meter.answerWindow(s, fit.kind, fit.tokens, agentStyle);
      const reserve = reservationUsd(s.run, model, promptTokens, req.maxTokens);
      const admit = (ticket: Ticket): RequestDecision | void => {
        const f = newFlight(model, promptTokens, reserve, ticket, priceKeys);
        f.compaction = req.compaction === true;
        flight = f;
        // The ledger row is written right after the request goes upstream (next check phase), not before: a
        // synchronous SQLite write would sit on the time to first byte. A crash in between loses at most that one tick.
        setImmediate(() => meter.openRow(s, f));
        s.inFlight.add(f);
        meter.events.spend(s);
        const out = fitted?.body ?? req.rewritten;
        return out ? { body: out } : undefined;
      };
      // Most requests: the budgets cover the reservation and the key has room — forwarded in this tick. Tokens per
      // minute count the body's bytes / 4: on the high side of what a provider can count at the start.
      const key = rateKey?.id ?? null;
      const rateTokens = Math.ceil(sent.length / 4);
      if (!budgetBlock(s, reserve) && meter.spendHeld === null) {
        const ticket = key ? meter.governor.tryAcquire(key, rateTokens) : NO_TICKET;
        if (ticket) return admit(ticket);
      }
      const abort = new AbortController();
      const decision = meter.admitLater(s, key, rateTokens, reserve, abort.signal).then(
        (r) => ('ticket' in r ? admit(r.ticket) : r.decision),
        (err: Error): RequestDecision | undefined => {
          if (abort.signal.aborted) return undefined; // the client went away: nothing to answer
          // The governor closed (shutdown) while it waited.
          const message = `Flotilla is shutting down: this request was not sent (${err.message})`;
          return { refuse: { status: 503, type: style === 'anthropic' ? 'api_error' : 'server_error', message } };
        },
      );
      return { wait: { decision, abandon: () => abort.abort() } };
    },
    onResponse(st: number, headers: http.IncomingHttpHeaders) {
      status = st;
      const f = flight;
      if (!f) return;
      if (name !== undefined && st < 400) s.provider = name;
      if (st === 429 && rateKey) {
        pausedMs = rateLimitPauseMs(headers);
        meter.governor.pause(rateKey.id, pausedMs);
      }
      parser = createResponseParser(style, {
        status: st,
        contentType: headers['content-type'],
        events: {
          onFirstToken: () => {
            f.firstTokenAt = Date.now();
          },
          onProgress: (p) => {
            // The first usage (Anthropic's message_start: the input tokens) is written at once, so a crash in the
            // first second of a response still leaves them in the ledger; later figures at most once a second.
            const first = f.usage === null && p.usage !== null;
            f.usage = p.usage;
            f.estimatedOutputTokens = p.estimatedOutputTokens;
            const now = Date.now();
            if (f.rowId !== null && (first || now - f.lastProgressAt >= LEDGER_PROGRESS_INTERVAL_MS)) meter.writeProgress(s, f, now);
            noteLiveSpeed(s, f, now);
            meter.events.spend(s);
          },
          onIntent: (i) =>
            meter.emit('event', {
              type: 'event',
              event: 'intent',
              intent: { sessionId: s.info.sessionId, path: i.path, tool: i.tool, at: new Date().toISOString() },
            }),
        },
      });
    },
    onResponseChunk(chunk: Buffer) {
      parser?.push(chunk);
    },
    onEnd(e: ProxyRequestEvent) {
      const f = flight;
      if (!f) return;
      s.inFlight.delete(f);
      meter.settle(s, f, e, status, parser?.end() ?? null, { ctx, body: sent }, pausedMs, rateKey?.label ?? null);
    },
  };
}
