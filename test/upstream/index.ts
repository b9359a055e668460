// The stand-in upstream: Moonshot's wire formats on loopback, scripted by the conversation. Two entry points:
//
//   startUpstream(opts)          ONE server for all three surfaces at once (alias: startOpenAIUpstream):
//     POST /v1/messages, /v1/messages/count_tokens   Anthropic Messages (also under /anthropic/…, Moonshot's real prefix)
//     POST /v1/chat/completions                      OpenAI Chat Completions (streaming SSE + [DONE], or JSON)
//     POST /v1/responses                             OpenAI Responses API (streaming events, or JSON)
//     GET  /v1/models                                both shapes in one list (OpenAI `created` + Anthropic fields)
//     GET  /v1/users/me/balance                      {"code":0,"data":{available_balance,voucher_balance,cash_balance},"scode":"0x0","status":true}
//     HEAD|GET /api/hello                            Claude Code's probe, no auth
//   startAnthropicUpstream(opts) the Anthropic surface alone, exactly as before (404 for everything else, /anthropic/… too).
//
// URLs: `url` is the origin, http://127.0.0.1:<port>, WITHOUT /v1. Callers append the API path themselves
// (`${url}/v1/chat/completions`). For agent configs use `openaiBaseUrl` (= `${url}/v1`, what OPENAI_BASE_URL / Codex
// `base_url` expect) and `url` or `anthropicBaseUrl` (= `${url}/anthropic`, like Moonshot) for ANTHROPIC_BASE_URL.
//
// Auth (when `apiKey` is set): `Authorization: Bearer <key>`; the Anthropic routes and /v1/models also take `x-api-key`.
// 401 bodies: Anthropic routes {"type":"error","error":{"type":"authentication_error","message":"Invalid Authentication"}},
// the others {"error":{"type":"invalid_authentication_error","message":"Invalid Authentication"}}.
//
// Directives: one per line in the latest user turn that carries one (the "task turn"; else the first user turn).
// Shared by all three surfaces; parsed in script.ts.
//   WRITE <path> <content>          a write tool call (Claude Code `Write`; OpenAI: a declared write / write_file tool).
//   EDIT <path> <old> => <new>      an edit tool call.                         "\n" in contents stands for a newline.
//   BASH <command>                  a shell tool call (`Bash`; OpenAI: bash / shell / exec_command …).
//   PATCH <path> <content>          OpenAI surfaces: an apply_patch call adding that file (Responses + `custom` tool →
//   PATCH <path> <old> => <new>     `custom_tool_call` with the patch text as `input`); the second form updates a file.
//   CALL <tool> <json>              a call of the declared tool of exactly that name with that input; "$CWD" in a string
//                                   is the cwd the client states (e.g. CALL Read {"file_path":"$CWD/doc.pdf"}).
//                                   Tool steps run one per turn, in order, and only if the request declares the tool.
//   SAY <text>                      the final answer text.       LONG <n>  an n-word final answer.
//   WAIT <ms>                       wait before answering (time to first byte).
//   SLOW <ms>                       delay between every streamed event (overrides chunkDelayMs): TTFT and tokens/s.
//   CUT [xN] <n>                    stream the start event (message_start / first chunk / response.created) and n more,
//                                   then destroy the socket: no terminal event. Non-streaming: half the JSON body, then cut.
//   USAGE <in> <cacheRead> <cacheWrite> <out> [reasoning]   serve exactly these numbers. Anthropic: input_tokens = in,
//                                   cache_read = cacheRead, cache_creation = cacheWrite, output = out. OpenAI: prompt
//                                   (input_tokens) = in + cacheRead + cacheWrite, cached_tokens = cacheRead, completion
//                                   (output_tokens) = out, reasoning_tokens = reasoning.
//   FAIL [xN] <status> <type> [message]   answer with that HTTP error, in the surface's envelope (Anthropic
//                                   {"type":"error","error":{type,message}}, OpenAI {"error":{type,message}}).
//   FAIL [xN] <preset> [message]    the same with Moonshot's status, type and wording (message optional):
//                                   ratelimit 429 rate_limit_reached_error · overloaded 429 engine_overloaded_error ·
//                                   quota 429 exceeded_current_quota_error · quota403 403 exceeded_current_quota_error ·
//                                   auth 401 invalid_authentication_error · model 404 resource_not_found_error
//                                   ("Not found the model <id> or Permission denied") · context 400 invalid_request_error
//                                   ("Your request exceeded model token limit: 262144 (requested: N)").
//   FAILMID [xN] <type|preset> [message]  stream part of the answer, then an error in the stream: Anthropic `event: error`
//                                   {"type":"error","error":{…}}; chat `data: {"error":{…}}` (no [DONE]); Responses an
//                                   `error` event then `response.failed` (with usage). Non-streaming: the HTTP error.
//   xN = only the first N main requests of this task (a retried request counts), then carry on normally.
// Also: Responses `max_output_tokens` / chat `max_tokens` smaller than the answer → truncated, `response.incomplete`
// (reason max_output_tokens) / finish_reason "length". Every request's served usage is in `requests[i].servedUsage`.
export { startAnthropicUpstream, planResponse, parseSse } from './anthropic.ts';
export type { AnthropicUpstream, AnthropicUpstreamOptions, RecordedRequest } from './anthropic.ts';
export { DEFAULT_BALANCE } from './openai.ts';
export type { Balance, OpenAIQuirks } from './openai.ts';
export type { Surface } from './script.ts';

import type { EventEmitter } from 'node:events';
import { DEFAULT_MODELS, errorBody, handleAnthropic, modelList, type AnthropicUpstreamOptions } from './anthropic.ts';
import {
  DEFAULT_BALANCE,
  balanceBody,
  handleOpenAI,
  openaiErrorBody,
  type Balance,
  type OpenAIContext,
  type OpenAIQuirks,
  type OpenAIUpstreamOptions,
} from './openai.ts';
import { authorized, sendJson, startRecordingServer, type RecordedRequest } from './script.ts';
import { STRICT_MODELS } from './strict.ts';
import { RateLimiter, type RateLimits } from './limits.ts';

export { STRICT_MODELS, strictMoonshotRejection } from './strict.ts';
export type { RateLimits } from './limits.ts';

export interface UpstreamOptions extends AnthropicUpstreamOptions, OpenAIUpstreamOptions {
  /** GET /v1/users/me/balance (default DEFAULT_BALANCE: 49.58 = 46.58 voucher + 3.00 cash). */
  balance?: Balance;
  /** The account's limits (limits.ts): model requests beyond them are answered 429 rate_limit_reached_error. */
  rateLimits?: RateLimits;
}

export interface Upstream {
  /** http://127.0.0.1:<port>, without /v1. */
  url: string;
  /** `${url}/v1`: an OpenAI-style base URL. */
  openaiBaseUrl: string;
  /** `${url}/anthropic`: Moonshot's Anthropic base URL shape (the routes also answer without the prefix). */
  anthropicBaseUrl: string;
  port: number;
  requests: RecordedRequest[];
  /** Emits 'request' (RecordedRequest) when a request's body has arrived, 'finished' and 'aborted' when it ends. */
  events: EventEmitter;
  /** Model requests (POST to messages / chat completions / responses), in order. */
  modelRequests(): RecordedRequest[];
  setBalance(b: Partial<Balance>): void;
  setQuirks(q: OpenAIQuirks): void;
  /** 429s the account limits answered, by limit (all 0 without rateLimits). */
  rateRefused(): { concurrency: number; rpm: number; tpm: number };
  close(): Promise<void>;
}

export async function startUpstream(opts: UpstreamOptions = {}): Promise<Upstream> {
  const models = opts.models ?? (opts.strict === 'moonshot' ? STRICT_MODELS : DEFAULT_MODELS);
  const shared = { ...opts, models, quirks: { ...(opts.quirks ?? {}) } };
  const counters = new Map<string, number>();
  const openai: OpenAIContext = { opts: shared, counters };
  const anthropic = { opts: shared, counters };
  let balance: Balance = { ...(opts.balance ?? DEFAULT_BALANCE) };
  const limiter = opts.rateLimits ? new RateLimiter(opts.rateLimits) : null;

  const srv = await startRecordingServer(
    async (rec, res) => {
      const { method } = rec;
      const prefixed = rec.path === '/anthropic' || rec.path.startsWith('/anthropic/');
      const p = prefixed ? rec.path.slice('/anthropic'.length) : rec.path;
      // Which envelope speaks for this path: Anthropic's for its routes (and anything a Claude client sends), else OpenAI's.
      const anthropicStyle =
        prefixed ||
        p.startsWith('/v1/messages') ||
        (p === '/v1/models' && (!!rec.headers['anthropic-version'] || !!rec.headers['x-api-key']));
      const error = (status: number, type: string, message: string, kind: string) =>
        sendJson(rec, res, status, anthropicStyle ? errorBody(type, message) : openaiErrorBody(type, message), kind);

      if (p === '/api/hello' && (method === 'HEAD' || method === 'GET')) {
        rec.status = 200;
        rec.kind = 'hello';
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(method === 'HEAD' ? undefined : JSON.stringify({ message: 'hello' }));
        return;
      }
      if (!authorized(rec, opts.apiKey, anthropicStyle || p === '/v1/models')) {
        const type = anthropicStyle ? 'authentication_error' : 'invalid_authentication_error';
        error(401, type, 'Invalid Authentication', 'unauthorized');
        return;
      }
      if (method === 'GET' && p === '/v1/models') {
        sendJson(rec, res, 200, modelList(models, true), 'models');
        return;
      }
      if (method === 'GET' && p === '/v1/users/me/balance' && !prefixed) {
        sendJson(rec, res, 200, balanceBody(balance), 'balance');
        return;
      }
      const isModel =
        method === 'POST' &&
        (p.startsWith('/v1/messages') || p === '/v1/chat/completions' || p === '/v1/responses') &&
        !p.includes('count_tokens');
      if (limiter && isModel) {
        const refusal = limiter.admit(rec.body, res);
        if (refusal) {
          const body = anthropicStyle
            ? errorBody('rate_limit_reached_error', refusal.message)
            : openaiErrorBody('rate_limit_reached_error', refusal.message);
          sendJson(rec, res, 429, body, 'rate_limited', { 'retry-after': String(refusal.retryAfterS) });
          return;
        }
      }
      if (await handleAnthropic(anthropic, rec, res, p)) return;
      if (!prefixed && (await handleOpenAI(openai, rec, res, p))) return;
      error(404, 'not_found_error', `Not found: ${method} ${rec.path}`, 'not_found');
    },
    (rec, res, err) => {
      const msg = String(err?.message ?? err);
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify(rec.surface === 'anthropic' ? errorBody('api_error', msg) : openaiErrorBody('server_error', msg)));
    },
  );
  return {
    url: srv.url,
    openaiBaseUrl: `${srv.url}/v1`,
    anthropicBaseUrl: `${srv.url}/anthropic`,
    port: srv.port,
    requests: srv.requests,
    events: srv.events,
    modelRequests: () => srv.requests.filter((r) => r.surface !== null),
    setBalance: (b) => {
      balance = { ...balance, ...b };
    },
    setQuirks: (q) => {
      shared.quirks = { ...q };
    },
    rateRefused: () => ({ ...(limiter?.refused ?? { concurrency: 0, rpm: 0, tpm: 0 }) }),
    close: srv.close,
  };
}

/** The same server as startUpstream (it serves the OpenAI surfaces alongside the Anthropic one). */
export const startOpenAIUpstream = startUpstream;
