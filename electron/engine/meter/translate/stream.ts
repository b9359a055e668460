// OpenAI Chat Completions' stream → Anthropic Messages' stream, as Claude Code reads it: message_start, then per content
// block content_block_start / _delta / _stop (thinking from `reasoning_content`, text from `content`, tool_use from
// `tool_calls` with their arguments as input_json_delta), message_delta with the stop reason and the usage, message_stop.
// One message_start only, thinking never inside a text block (LiteLLM #32357, #33224), tool arguments passed through as
// the host streamed them (never `input: {}`: LiteLLM #25321), usage from the host's last chunk (LiteLLM #24176).
import { SseReader } from '../usage/sse.ts';
import { type AnthropicUsage, anthropicUsage } from './usage.ts';

type Json = Record<string, any>;
type BlockKind = 'thinking' | 'text' | 'tool_use';

/** Chat's finish_reason in Anthropic's words. */
export function stopReason(finish: string | null | undefined): string {
  switch (finish) {
    case 'length':
      return 'max_tokens';
    case 'tool_calls':
    case 'function_call':
      return 'tool_use';
    default:
      return 'end_turn';
  }
}

/** What a thinking block carries as its signature: Claude Code sends the block back, the translation drops it. */
export const TRANSLATED_SIGNATURE = 'flotilla-translated';

export const sse = (event: string, data: Json): string => `event: ${event}\ndata: ${JSON.stringify({ type: event, ...data })}\n\n`;

export class ChatToAnthropicStream {
  private readonly reader: SseReader;
  private out = '';
  private started = false;
  private done = false;
  private block: { kind: BlockKind; index: number; toolIndex: number | null } | null = null;
  private nextIndex = 0;
  private finish: string | null = null;
  private usage: AnthropicUsage | null = null;
  private toolCounter = 0;
  private model: string;

  constructor(
    model: string,
    private readonly promptTokensEstimate: number,
  ) {
    this.model = model;
    this.reader = new SseReader((_event, data) => this.onData(data));
  }

  /** Translates a chunk of the host's stream; answers the Anthropic bytes to send now ('' when there are none yet). */
  push(chunk: Uint8Array): string {
    this.reader.push(chunk);
    return this.take();
  }

  /** The host's stream ended: what is left (the last block closed, message_delta with the usage, message_stop). */
  end(): string {
    this.reader.end();
    this.finishMessage();
    return this.take();
  }

  private take(): string {
    const s = this.out;
    this.out = '';
    return s;
  }

  private emit(event: string, data: Json): void {
    this.out += sse(event, data);
  }

  private start(id: string | undefined): void {
    if (this.started) return;
    this.started = true;
    this.emit('message_start', {
      message: {
        id: `msg_${(id ?? '').replace(/[^A-Za-z0-9_-]/g, '') || Date.now().toString(36)}`,
        type: 'message',
        role: 'assistant',
        model: this.model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: this.promptTokensEstimate, output_tokens: 1, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 },
      },
    });
  }

  private open(kind: BlockKind, toolIndex: number | null, first: Json): void {
    this.close();
    this.block = { kind, index: this.nextIndex++, toolIndex };
    this.emit('content_block_start', { index: this.block.index, content_block: first });
  }

  private close(): void {
    const b = this.block;
    if (!b) return;
    if (b.kind === 'thinking')
      this.emit('content_block_delta', { index: b.index, delta: { type: 'signature_delta', signature: TRANSLATED_SIGNATURE } });
    this.emit('content_block_stop', { index: b.index });
    this.block = null;
  }

  private onData(data: string): void {
    if (this.done) return;
    const text = data.trim();
    if (text === '[DONE]') return this.finishMessage();
    let chunk: Json;
    try {
      chunk = JSON.parse(text);
    } catch {
      return; // a keep-alive or a line we cannot read: nothing to translate
    }
    if (chunk.error) {
      this.start(chunk.id);
      this.close();
      const e = chunk.error as Json;
      this.emit('error', {
        error: {
          type: anthropicErrorType(Number(e.code) || 500, e.type, String(e.message ?? '')),
          message: String(e.message ?? 'upstream error'),
        },
      });
      this.done = true;
      return;
    }
    if (typeof chunk.model === 'string' && !this.started) this.model = chunk.model;
    this.start(chunk.id);
    const choice = (chunk.choices?.[0] ?? null) as Json | null;
    const delta = (choice?.delta ?? {}) as Json;
    const reasoning = delta.reasoning_content ?? delta.reasoning;
    if (typeof reasoning === 'string' && reasoning) {
      if (this.block?.kind !== 'thinking') this.open('thinking', null, { type: 'thinking', thinking: '' });
      this.emit('content_block_delta', { index: this.block!.index, delta: { type: 'thinking_delta', thinking: reasoning } });
    }
    if (typeof delta.content === 'string' && delta.content) {
      if (this.block?.kind !== 'text') this.open('text', null, { type: 'text', text: '' });
      this.emit('content_block_delta', { index: this.block!.index, delta: { type: 'text_delta', text: delta.content } });
    }
    for (const call of (Array.isArray(delta.tool_calls) ? delta.tool_calls : []) as Json[]) this.onToolCall(call);
    if (choice?.finish_reason) this.finish = choice.finish_reason;
    // Usage: OpenAI's last chunk (include_usage), or Moonshot's inside the choice.
    const u = chunk.usage ?? choice?.usage;
    if (u && typeof u === 'object') this.usage = anthropicUsage(u);
  }

  private onToolCall(call: Json): void {
    const toolIndex = typeof call.index === 'number' ? call.index : 0;
    const fn = (call.function ?? {}) as Json;
    if (this.block?.kind !== 'tool_use' || this.block.toolIndex !== toolIndex) {
      const name = String(fn.name ?? '');
      // K2's own form when the host gives no id (one counter across the conversation is the host's; this is a fallback).
      const id = typeof call.id === 'string' && call.id ? call.id : `functions.${name}:${this.toolCounter}`;
      this.toolCounter++;
      this.open('tool_use', toolIndex, { type: 'tool_use', id, name, input: {} });
    }
    if (typeof fn.arguments === 'string' && fn.arguments)
      this.emit('content_block_delta', { index: this.block!.index, delta: { type: 'input_json_delta', partial_json: fn.arguments } });
  }

  private finishMessage(): void {
    if (this.done) return;
    this.done = true;
    this.start(undefined);
    // A message with no content at all still has one (empty) text block, as Anthropic's would.
    if (this.nextIndex === 0) this.open('text', null, { type: 'text', text: '' });
    this.close();
    const usage = this.usage ?? {
      input_tokens: this.promptTokensEstimate,
      output_tokens: 0,
      cache_read_input_tokens: 0,
      cache_creation_input_tokens: 0,
    };
    this.emit('message_delta', { delta: { stop_reason: stopReason(this.finish), stop_sequence: null }, usage });
    this.emit('message_stop', {});
  }
}

/** An HTTP status and the host's error type in Anthropic's error types (what Claude Code's retry logic reads). */
export function anthropicErrorType(status: number, type: unknown, message: string): string {
  if (status === 429 || type === 'rate_limit_exceeded' || type === 'rate_limit_reached_error') return 'rate_limit_error';
  if (status === 529 || status === 503 || type === 'engine_overloaded_error' || /overloaded/i.test(message)) return 'overloaded_error';
  if (status === 401) return 'authentication_error';
  if (status === 402) return 'billing_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 413) return 'request_too_large';
  if (status >= 400 && status < 500) return 'invalid_request_error';
  return 'api_error';
}
