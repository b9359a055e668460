// Usage parsers: pure, incremental readers of model traffic as it passes the metering proxy (no I/O, no timers).
//
//   inspectRequest(style, path, body)   → model, stream, a rough prompt size, and (OpenAI chat streams) a body that asks
//                                          for usage (stream_options.include_usage) when the agent did not.
//   isBillable(style, method, path)     → is this a model call (POST …/messages, …/chat/completions, …/responses)?
//   createResponseParser(style, opts)   → push(chunk)* then end(): model, usage, complete, output estimate, stop reason,
//                                          error envelope; callbacks for first token, progress and edit intents.
//   classifyUpstreamError(status, type, message) → UpstreamErrorKind.
//
// Usage is normalised to Anthropic's meaning: inputTokens = UNCACHED prompt tokens, cacheReadTokens / cacheWriteTokens
// the cached parts (prompt = input + cacheRead + cacheWrite), outputTokens including reasoning/thinking.
//  - Anthropic: figures as on the wire. message_start gives input/cache (output ≈ 1); each message_delta's non-null
//    fields overwrite (cumulative: the last wins, never summed).
//  - OpenAI chat / Responses: prompt/input tokens INCLUDE the cached ones → inputTokens = prompt − cached. Cached comes
//    from prompt_tokens_details.cached_tokens / input_tokens_details.cached_tokens, or Moonshot's top-level
//    usage.cached_tokens (the larger of the two if both appear); Moonshot's streaming usage in choices[0].usage is read too.
//
// Compat-layer guard (reference §4): a layer that translates OpenAI-style figures might put the cache-INCLUSIVE prompt in
// Anthropic's input_tokens. From one response that cannot be told apart from a genuinely large uncached remainder
// (input_tokens ≥ cache_read_input_tokens holds in both cases), so by default the wire is trusted: input_tokens is taken
// as the uncached remainder. If a provider is known to do it, pass `anthropicInputIncludesCache: true` to
// createResponseParser: inputTokens = input_tokens − cache_read_input_tokens (only when input_tokens ≥ cache reads).
// Erring this way costs at most the cache-hit part billed at the miss rate for such a provider, never an undercount.
//
// Output estimate: tokensFromChars(chars) = ceil(chars / 4), over streamed text, thinking and tool-argument characters
// (UTF-16 units of the decoded strings). Live figure only, and the fallback for a stream cut before its usage.
//
// Body kind: SSE when the content-type is text/event-stream, or (no / another content-type) when the body starts like SSE
// (data:, event:, :, id:, retry:); a body starting with `{` or `[` is JSON whatever the content-type says.
// Errors: an HTTP status ≥ 400 always yields `error` (from the envelope, else the body text or "HTTP <status>");
// an SSE error event mid-stream yields `error` with the HTTP status of the response (usually 200) and the provider type.
export type {
  ApiStyle,
  TokenCounts,
  RequestInfo,
  ParserEvents,
  ParseResult,
  ParsedError,
  ResponseParser,
  ResponseParserOptions,
} from './types.ts';
export { tokensFromChars, CHARS_PER_TOKEN } from './estimate.ts';
export { inspectRequest, isBillable, spliceMember, wireStyleForPath, type RewriteOutcome } from './request.ts';
export { createResponseParser } from './parser.ts';
export { classifyUpstreamError } from './errors.ts';
export { intentsFromToolCall, patchPaths } from './intents.ts';
