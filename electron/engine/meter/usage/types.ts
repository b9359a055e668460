// Public types of the usage parsers (re-exported by index.ts).
import type { ApiStyle, TokenCounts } from '../../../shared/contract.ts';

export type { ApiStyle, TokenCounts };

export interface RequestInfo {
  model: string | null;
  stream: boolean;
  /** The body to forward when it had to change (OpenAI streaming without stream_options.include_usage → add it), else null. */
  rewritten: Buffer | null;
  /** Rough size of the prompt text (characters of string values in system/messages/tools/input), for a live estimate. */
  promptChars: number;
  /** The output limit the request asks for (max_tokens / max_output_tokens / max_completion_tokens), or null. */
  maxTokens: number | null;
  /** Claude Code's compaction request (see meter/window.ts); absent: not one, or not parsed. */
  compaction?: boolean;
}

export interface ParserEvents {
  /** First output token seen (first non-empty text/thinking/tool delta, or a tool call's start), for time to first token. */
  onFirstToken?(): void;
  /** Called at most once per parsed event that changes the figures (usage, or the integer output estimate); cheap. */
  onProgress?(p: { usage: TokenCounts | null; estimatedOutputTokens: number }): void;
  /** A complete tool call that names a file. Fired as soon as the call is complete on the wire. */
  onIntent?(i: { tool: string; path: string }): void;
}

export interface ParsedError {
  status: number;
  type: string | null;
  message: string;
}

export interface ParseResult {
  model: string | null;
  /** Exact figures if the wire carried usage, else null. */
  usage: TokenCounts | null;
  /** Saw the terminal event (message_stop / [DONE] or finish_reason+usage / response.completed|incomplete|failed) or a full JSON body. */
  complete: boolean;
  /** tokensFromChars(characters of streamed text, thinking and tool-call arguments). */
  estimatedOutputTokens: number;
  stopReason: string | null;
  /** An error envelope in the body (HTTP error, or an SSE error event mid-stream). */
  error: ParsedError | null;
  /** SSE events whose data could not be read as JSON: the stream was malformed. */
  malformed?: number;
}

export interface ResponseParser {
  push(chunk: Uint8Array): void;
  end(): ParseResult;
  peek(): ParseResult;
}

export interface ResponseParserOptions {
  status: number;
  contentType: string | undefined;
  events?: ParserEvents;
  /**
   * Anthropic surface only. Default false: trust the wire (`input_tokens` is the uncached remainder, as Anthropic
   * defines it). Set true for a compat layer known to put the cache-inclusive prompt total in `input_tokens`: then
   * inputTokens = input_tokens − cache_read_input_tokens (when input_tokens ≥ cache reads). See index.ts.
   */
  anthropicInputIncludesCache?: boolean;
}
