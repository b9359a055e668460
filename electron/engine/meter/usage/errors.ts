// Upstream error envelopes and their classification (reference §3).
import type { UpstreamErrorKind } from '../../../shared/contract.ts';
import type { ParsedError } from './types.ts';
import { isObj, str } from './scan.ts';

const CONTEXT_RE =
  /exceeded model token limit|context[ _-]?length|context window|too many tokens|prompt is too long|maximum context|input is too long|reduce the length/i;
const MODEL_MISSING_RE =
  /model[^.]{0,80}(not found|does not exist|doesn't exist|not exist|is not available|unknown|not supported|retired|deprecated)|(unknown|invalid|unsupported) model|no such model|model_not_found/i;
const BALANCE_RE =
  /insufficient[ _](balance|funds|quota|credit)|exceeded (your )?current quota|recharge|billing|out of (credit|balance)|balance is (not enough|insufficient)/i;
const OVERLOAD_RE = /overloaded|engine is currently overloaded|server is busy|capacity/i;

/**
 * What kind of upstream failure this is. Provider error types win over status codes (Moonshot answers an empty balance
 * with 429 `exceeded_current_quota_error`, not a rate limit); then the status; then the message's wording. Never
 * returns 'budget' (that is the meter's own refusal).
 */
export function classifyUpstreamError(status: number, type: string | null, message: string): UpstreamErrorKind {
  const t = (type ?? '').toLowerCase();
  const msg = message ?? '';
  // 1. Provider error types.
  if (t === 'exceeded_current_quota_error' || t === 'insufficient_quota' || t === 'billing_error' || t === 'insufficient_balance')
    return 'out_of_balance';
  if (t === 'rate_limit_reached_error' || t === 'rate_limit_error' || t === 'rate_limit_exceeded') return 'rate_limited';
  if (t === 'engine_overloaded_error' || t === 'overloaded_error' || t === 'server_overloaded') return 'overloaded';
  if (t === 'authentication_error' || t === 'invalid_api_key' || t === 'invalid_authentication_error' || t === 'invalid_authentication')
    return 'bad_key';
  if (t === 'resource_not_found_error' || t === 'model_not_found') return 'unknown_model';
  if (t === 'context_length_exceeded' || t === 'request_too_large') return 'context_overflow';
  // 2. Status codes that say it all.
  if (status === 529) return 'overloaded';
  if (status === 401) return 'bad_key';
  if (status === 402) return 'out_of_balance';
  if (status === 403 && (BALANCE_RE.test(msg) || /quota|balance|billing|credit/i.test(t))) return 'out_of_balance';
  if (status === 429) {
    if (BALANCE_RE.test(msg)) return 'out_of_balance';
    if (OVERLOAD_RE.test(msg)) return 'overloaded';
    return 'rate_limited';
  }
  // 3. The message's wording (any status: an SSE error event arrives under HTTP 200).
  if (CONTEXT_RE.test(msg)) return 'context_overflow';
  if (MODEL_MISSING_RE.test(msg) || (status === 404 && /model/i.test(msg))) return 'unknown_model';
  if ((status === 503 || status === 500 || status < 400) && OVERLOAD_RE.test(msg)) return 'overloaded';
  if (BALANCE_RE.test(msg) && (status === 400 || status === 403 || status < 400)) return 'out_of_balance';
  if (/invalid[ _]api[ _]key|invalid authentication|incorrect api key/i.test(msg)) return 'bad_key';
  return 'other';
}

/**
 * The error an envelope describes, or null if the object is not one. Shapes: Anthropic `{"type":"error","error":{type,
 * message}}`, OpenAI/Moonshot `{"error":{message,type,code}}`, `{"error":"text"}`, Responses' error event
 * `{"type":"error","code","message"}`; under an HTTP error status also `{message,type|code}` and `{detail}`.
 */
export function errorFromObject(status: number, o: unknown): ParsedError | null {
  if (!isObj(o)) return null;
  const e = o.error;
  if (isObj(e)) {
    const type = str(e.type) ?? str(e.code) ?? (typeof e.code === 'number' ? String(e.code) : null);
    const message = str(e.message) ?? str(e.msg) ?? (type ? type : JSON.stringify(e));
    return { status, type, message };
  }
  if (typeof e === 'string' && e.length > 0) return { status, type: str(o.type) === 'error' ? null : str(o.type), message: e };
  if (o.type === 'error' && (typeof o.message === 'string' || typeof o.code === 'string')) {
    return { status, type: str(o.code), message: str(o.message) ?? str(o.code) ?? 'error' };
  }
  if (status >= 400) {
    if (typeof o.message === 'string') return { status, type: str(o.type) ?? str(o.code), message: o.message };
    if (typeof o.detail === 'string') return { status, type: null, message: o.detail };
  }
  return null;
}

/** An error for an HTTP error status whose body was not a recognisable envelope (HTML from a gateway, empty …). */
export function errorFromText(status: number, text: string): ParsedError {
  const t = text.trim();
  return { status, type: null, message: t.length > 0 ? (t.length > 500 ? t.slice(0, 500) + '…' : t) : `HTTP ${status}` };
}
