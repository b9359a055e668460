// OpenAI Chat Completions (and Moonshot's OpenAI-compatible surface): SSE chunks and JSON body.
//
// Usage: `usage` {prompt_tokens, completion_tokens, prompt_tokens_details.cached_tokens} — cached is a SUBSET of
// prompt, so inputTokens = prompt − cached. Moonshot quirks: cache hits in top-level `usage.cached_tokens`; streaming
// usage inside `choices[0].usage` of the last chunk (instead of / besides a final chunk with empty `choices`).
import type { Core, Handler } from './core.ts';
import { errorFromObject } from './errors.ts';
import { hasNonNull, isObj, num, scanString, scannedLength, str, tryParse, valueAfter } from './scan.ts';
import type { TokenCounts } from './types.ts';

/** Chat usage → normalised usage, or null if the object carries no figures. */
export function chatUsage(u: unknown): TokenCounts | null {
  if (!isObj(u)) return null;
  const prompt = num(u.prompt_tokens) ?? num(u.input_tokens);
  const completion = num(u.completion_tokens) ?? num(u.output_tokens);
  if (prompt === null && completion === null) return null;
  const details = isObj(u.prompt_tokens_details) ? u.prompt_tokens_details : isObj(u.input_tokens_details) ? u.input_tokens_details : null;
  // Both places mean "cached prompt tokens"; a provider fills one of them (the other absent or 0).
  const cached = Math.max(num(details?.cached_tokens) ?? 0, num(u.cached_tokens) ?? 0, num(u.prompt_cache_hit_tokens) ?? 0);
  const written = Math.max(num(details?.cache_write_tokens) ?? 0, num(details?.cache_creation_tokens) ?? 0);
  const p = prompt ?? 0;
  const cacheRead = Math.min(cached, p);
  const cacheWrite = Math.min(written, p - cacheRead);
  return {
    inputTokens: p - cacheRead - cacheWrite,
    cacheReadTokens: cacheRead,
    cacheWriteTokens: cacheWrite,
    outputTokens: completion ?? 0,
  };
}

interface ToolCall {
  choice: number;
  index: number;
  name: string;
  args: string;
  done: boolean;
}

const TEXT_KEYS = ['"content":', '"reasoning_content":', '"reasoning":'];

export class OpenAIChatHandler implements Handler {
  private readonly calls: ToolCall[] = [];
  private finished = false;

  constructor(private readonly core: Core) {}

  onEvent(_event: string | null, data: string): void {
    const core = this.core;
    if (data.length <= 8 && data.trim() === '[DONE]') {
      this.finishCalls(-1);
      core.complete = true;
      core.flush();
      return;
    }
    if (core.model !== null && this.fastChunk(data)) {
      core.flush();
      return;
    }
    const o = tryParse(data);
    if (!isObj(o)) return void (o === undefined && data.trim() !== '' && this.core.malformed++);
    this.onChunk(o);
    core.flush();
  }

  /**
   * A plain content chunk (no usage, tool calls, finish or error) read without JSON.parse: count the text of `content` /
   * `reasoning_content` values. False: parse it.
   */
  private fastChunk(data: string): boolean {
    if (
      hasNonNull(data, '"usage":') ||
      hasNonNull(data, '"finish_reason":') ||
      data.indexOf('"tool_calls"') >= 0 ||
      data.indexOf('"function_call"') >= 0 ||
      data.indexOf('"error"') >= 0
    )
      return false;
    let chars = 0;
    for (const key of TEXT_KEYS) {
      let from = 0;
      for (;;) {
        const i = valueAfter(data, key, from);
        if (i < 0) break;
        const c = data.charCodeAt(i);
        if (c === 34) {
          const end = scanString(data, i + 1);
          if (end < 0) return false;
          chars += scannedLength;
          from = end + 1;
        } else if (data.startsWith('null', i)) from = i + 4;
        else return false; // content parts array or something unexpected
      }
    }
    this.core.addChars(chars);
    return true;
  }

  private onChunk(o: Record<string, any>): void {
    const core = this.core;
    const e = errorFromObject(core.status, o);
    if (e) {
      core.setError(e);
      return;
    }
    if (core.model === null && typeof o.model === 'string' && o.model) core.model = o.model;
    const choices = Array.isArray(o.choices) ? o.choices : [];
    for (let ci = 0; ci < choices.length; ci++) {
      const c = choices[ci];
      if (!isObj(c)) continue;
      const choice = num(c.index) ?? ci;
      const d = isObj(c.delta) ? c.delta : isObj(c.message) ? c.message : null;
      if (d) {
        core.addChars(textLength(d.content) + (str(d.reasoning_content)?.length ?? 0) + (str(d.reasoning)?.length ?? 0));
        if (Array.isArray(d.tool_calls)) {
          for (let ti = 0; ti < d.tool_calls.length; ti++) {
            const tc = d.tool_calls[ti];
            if (!isObj(tc)) continue;
            this.toolDelta(choice, num(tc.index) ?? ti, isObj(tc.function) ? tc.function : tc);
          }
        } else if (isObj(d.function_call)) this.toolDelta(choice, 0, d.function_call); // legacy
      }
      if (typeof c.finish_reason === 'string' && c.finish_reason) {
        if (choice === 0 || core.stopReason === null) core.stopReason = c.finish_reason;
        this.finished = true;
        this.finishCalls(choice);
      }
      const u = chatUsage(c.usage); // Moonshot: streaming usage inside choices[0].usage
      if (u) core.setUsage(u);
    }
    const u = chatUsage(o.usage);
    if (u) core.setUsage(u);
    if (this.finished && core.usage) core.complete = true;
  }

  private toolDelta(choice: number, index: number, f: Record<string, any>): void {
    let call: ToolCall | undefined;
    for (const c of this.calls) if (c.choice === choice && c.index === index) call = c;
    if (!call) {
      // A new call starts: the earlier ones of this choice are complete on the wire.
      for (const c of this.calls) if (c.choice === choice && c.index < index) this.finishCall(c);
      call = { choice, index, name: '', args: '', done: false };
      this.calls.push(call);
      this.core.firstTokenSeen();
    }
    const name = str(f.name);
    if (name && !call.name) call.name = name;
    const args = str(f.arguments);
    if (args) {
      if (!call.done) call.args += args;
      this.core.addChars(args.length);
    }
  }

  /** Finish every open call of a choice (-1: all choices). */
  private finishCalls(choice: number): void {
    for (const c of this.calls) if (choice < 0 || c.choice === choice) this.finishCall(c);
  }

  private finishCall(c: ToolCall): void {
    if (c.done) return;
    c.done = true;
    this.core.toolCall(c.name, c.args);
    c.args = '';
  }

  /** A whole (non-streaming) chat completion, or an error envelope. */
  onJson(body: unknown): void {
    const core = this.core;
    if (!isObj(body)) return;
    const e = errorFromObject(core.status, body);
    if (e) {
      core.setError(e);
      return;
    }
    if (typeof body.model === 'string' && body.model) core.model = body.model;
    const choices = Array.isArray(body.choices) ? body.choices : [];
    for (let ci = 0; ci < choices.length; ci++) {
      const c = choices[ci];
      if (!isObj(c)) continue;
      const m = isObj(c.message) ? c.message : null;
      if (m) {
        core.addChars(textLength(m.content) + (str(m.reasoning_content)?.length ?? 0) + (str(m.reasoning)?.length ?? 0));
        const calls = Array.isArray(m.tool_calls) ? m.tool_calls : isObj(m.function_call) ? [{ function: m.function_call }] : [];
        for (const tc of calls) {
          const f = isObj(tc) && isObj(tc.function) ? tc.function : null;
          if (!f) continue;
          const args = typeof f.arguments === 'string' ? f.arguments : JSON.stringify(f.arguments ?? {});
          core.addChars(args.length);
          core.toolCall(str(f.name) ?? '', args);
        }
      }
      if (typeof c.finish_reason === 'string' && (ci === 0 || core.stopReason === null)) core.stopReason = c.finish_reason;
      const u = chatUsage(c.usage);
      if (u) core.setUsage(u);
    }
    const u = chatUsage(body.usage);
    if (u) core.setUsage(u);
  }
}

/** Length of a message content: a string, or an array of parts with `text`. */
function textLength(content: unknown): number {
  if (typeof content === 'string') return content.length;
  if (!Array.isArray(content)) return 0;
  let n = 0;
  for (const p of content) if (isObj(p) && typeof p.text === 'string') n += p.text.length;
  return n;
}
