// What a finished model request comes to, as pure functions over what the proxy saw: the ledger state and the token
// counts to bill, the session's speed and context figures, and the provider's error in the contract's words.
import { type LedgerRow, type UpstreamErrorInfo, type UpstreamErrorKind, zeroTokens } from '../../shared/contract.ts';
import type { InFlight, SessionState } from './figures.ts';
import { type TokenCounts, classifyUpstreamError, type createResponseParser } from './usage/index.ts';

type ParseResult = ReturnType<ReturnType<typeof createResponseParser>['end']>;

/** Upstream errors that are the provider telling the user to fix something (not to wait). */
export const isRejection = (kind: UpstreamErrorKind, status: number): boolean =>
  status >= 400 && status < 500 && kind !== 'rate_limited' && kind !== 'overloaded' && kind !== 'budget';

/** The ledger state of a finished request and the usage it is billed for. */
export function requestOutcome(
  status: number,
  result: ParseResult | null,
  promptTokensEstimate: number,
): { state: LedgerRow['state']; usage: TokenCounts } {
  if (result?.usage && result.complete) return { state: 'exact', usage: result.usage };
  if (status >= 400 || (status === 0 && !result)) return { state: 'error', usage: result?.usage ?? zeroTokens() };
  // Cut mid-way (or the client went away): the input was consumed all the same — record what was seen.
  const seen = result?.usage ?? { ...zeroTokens(), inputTokens: promptTokensEstimate };
  return { state: 'partial', usage: { ...seen, outputTokens: Math.max(seen.outputTokens, result?.estimatedOutputTokens ?? 0) } };
}

/** A successful request's time to first token, tokens per second and context fill, onto the session's figures. */
export function noteSpeedAndContext(
  s: SessionState,
  model: string | null,
  usage: TokenCounts,
  ttftMs: number | null,
  firstTokenAt: number | null,
  endedAt: number,
): void {
  if (ttftMs !== null) s.ttftMs = ttftMs;
  if (firstTokenAt !== null && usage.outputTokens > 0) {
    const secs = (endedAt - firstTokenAt) / 1000;
    if (secs > 0) s.tokensPerSec = usage.outputTokens / secs;
  }
  const prompt = usage.inputTokens + usage.cacheReadTokens + usage.cacheWriteTokens;
  if (prompt > 0) {
    s.contextTokens = prompt;
    s.contextWindow = s.run.info.prices.contextWindow(model ?? s.info.model) ?? s.contextWindow;
  }
}

/** How long a response must have streamed before its live rate is shown (a rate over a few tokens is noise). */
const LIVE_RATE_AFTER_MS = 500;

/**
 * The output rate while a response streams (estimated tokens since the first one), so a tile shows speed from the
 * first half second of a long answer instead of only after it ends; the exact figure replaces it when it settles.
 */
export function noteLiveSpeed(s: SessionState, f: InFlight, now: number): void {
  if (f.firstTokenAt === null || f.estimatedOutputTokens <= 0) return;
  const ms = now - f.firstTokenAt;
  if (ms >= LIVE_RATE_AFTER_MS) s.tokensPerSec = f.estimatedOutputTokens / (ms / 1000);
}

/** A request the host did not finish (refused, reset, silent, too large) or whose stream could not be read, in words. */
export function brokenAnswer(e: { status: number | null; error?: string }, result: ParseResult | null): UpstreamErrorInfo {
  const at = new Date().toISOString();
  if (e.error !== undefined) {
    const bad = /passed \d+ MB/.test(e.error);
    return { kind: bad ? 'bad_response' : 'unreachable', status: e.status ?? 0, type: null, message: e.error, at };
  }
  const n = result?.malformed ?? 0;
  const message = `the host's stream could not be read (${n} malformed event${n === 1 ? '' : 's'}) and ended without its usage — recorded as seen`;
  return { kind: 'bad_response', status: e.status ?? 0, type: null, message, at };
}

/** The provider's error (from the body, else the status alone), classified. */
export function upstreamErrorOf(status: number, result: ParseResult | null) {
  const err = result?.error ?? { status, type: null, message: `HTTP ${status}` };
  const code = err.status || status;
  const kind: UpstreamErrorKind = classifyUpstreamError(code, err.type, err.message);
  const info: UpstreamErrorInfo = { kind, status: code, type: err.type, message: err.message, at: new Date().toISOString() };
  return { err, code, kind, info };
}
