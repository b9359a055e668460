// Anthropic Messages (and Moonshot's Anthropic-compatible surface): SSE stream and JSON body.
//
// Stream: message_start.message.usage carries input + cache counts (output ≈ 1); message_delta.usage is CUMULATIVE and
// may repeat — each non-null field overwrites, never sums. Text/thinking deltas are counted without JSON.parse.
import type { Core, Handler } from './core.ts';
import { errorFromObject } from './errors.ts';
import { wantsArguments } from './intents.ts';
import { decodeString, intValue, isObj, leadingType, num, scanString, scannedLength, str, stringValueStart, tryParse } from './scan.ts';
import type { TokenCounts } from './types.ts';

interface ToolBlock {
  name: string;
  /** Concatenated input_json_delta pieces. */
  json: string;
  /** `input` of content_block_start (a compat layer may send the whole input there and no deltas). */
  input: unknown;
}

const DELTA_TYPE = '"delta":{"type":"';

export class AnthropicHandler implements Handler {
  // Raw wire figures (null = not seen).
  private input: number | null = null;
  private cacheRead: number | null = null;
  private cacheWrite: number | null = null;
  private output: number | null = null;
  /** Tool blocks whose arguments we keep (tools that may name a file), by content block index. */
  private readonly tools = new Map<number, ToolBlock>();

  constructor(
    private readonly core: Core,
    private readonly inputIncludesCache: boolean,
  ) {}

  onEvent(event: string | null, data: string): void {
    const type = event === null || event === 'message' ? leadingType(data) : event;
    if (type === 'ping') return;
    if (type === 'content_block_delta' && this.fastDelta(data)) {
      this.core.flush();
      return;
    }
    const o = tryParse(data);
    if (!isObj(o)) return void (o === undefined && data.trim() !== '' && this.core.malformed++);
    this.onObject(typeof o.type === 'string' ? o.type : type, o);
    this.core.flush();
  }

  /** A text/thinking/signature/input_json delta read without JSON.parse. False: not in the expected shape, parse it. */
  private fastDelta(data: string): boolean {
    const t = data.indexOf(DELTA_TYPE);
    if (t < 0) return false;
    const at = t + DELTA_TYPE.length;
    let key: string;
    let json = false;
    if (data.startsWith('text_delta"', at)) key = '"text":';
    else if (data.startsWith('thinking_delta"', at)) key = '"thinking":';
    else if (data.startsWith('input_json_delta"', at)) {
      key = '"partial_json":';
      json = true;
    } else if (data.startsWith('signature_delta"', at))
      return true; // opaque, not output text
    else return false;
    const start = stringValueStart(data, key, at);
    if (start < 0) return false;
    const end = scanString(data, start);
    if (end < 0) return false;
    const len = scannedLength;
    if (json) {
      const index = intValue(data, '"index":');
      if (index < 0) return false;
      const b = this.tools.get(index);
      if (b && len > 0) b.json += decodeString(data, start, end);
    }
    this.core.addChars(len);
    return true;
  }

  private onObject(type: string | null, o: Record<string, any>): void {
    const core = this.core;
    switch (type) {
      case 'message_start': {
        const m = o.message;
        if (isObj(m)) {
          if (typeof m.model === 'string' && m.model) core.model = m.model;
          this.mergeUsage(m.usage);
        }
        return;
      }
      case 'content_block_start': {
        const b = o.content_block;
        if (!isObj(b)) return;
        if (b.type === 'text') core.addChars(str(b.text)?.length ?? 0);
        else if (b.type === 'thinking') core.addChars(str(b.thinking)?.length ?? 0);
        else if (b.type === 'tool_use' || b.type === 'server_tool_use' || b.type === 'mcp_tool_use') {
          core.firstTokenSeen();
          const name = str(b.name) ?? '';
          const index = num(o.index);
          if (index !== null && b.type === 'tool_use' && wantsArguments(name)) {
            this.tools.set(index, { name, json: '', input: b.input });
          }
        }
        return;
      }
      case 'content_block_delta': {
        const d = o.delta;
        if (!isObj(d)) return;
        if (d.type === 'text_delta') core.addChars(str(d.text)?.length ?? 0);
        else if (d.type === 'thinking_delta') core.addChars(str(d.thinking)?.length ?? 0);
        else if (d.type === 'input_json_delta') {
          const piece = str(d.partial_json) ?? '';
          const index = num(o.index);
          const b = index === null ? undefined : this.tools.get(index);
          if (b) b.json += piece;
          core.addChars(piece.length);
        }
        return;
      }
      case 'content_block_stop': {
        const index = num(o.index);
        if (index === null) return;
        const b = this.tools.get(index);
        if (!b) return;
        this.tools.delete(index);
        const args = b.json.length > 0 ? b.json : b.input;
        core.toolCall(b.name, args);
        return;
      }
      case 'message_delta': {
        const d = o.delta;
        if (isObj(d) && typeof d.stop_reason === 'string') core.stopReason = d.stop_reason;
        this.mergeUsage(o.usage);
        return;
      }
      case 'message_stop':
        core.complete = true;
        return;
      case 'error': {
        const e = errorFromObject(core.status, o);
        if (e) core.setError(e);
        return;
      }
      default:
        return;
    }
  }

  /** A whole (non-streaming) Messages body, or an error envelope. */
  onJson(body: unknown): void {
    const core = this.core;
    if (!isObj(body)) return;
    const e = errorFromObject(core.status, body);
    if (e) {
      core.setError(e);
      return;
    }
    if (typeof body.model === 'string' && body.model) core.model = body.model;
    if (typeof body.stop_reason === 'string') core.stopReason = body.stop_reason;
    this.mergeUsage(body.usage);
    const content = Array.isArray(body.content) ? body.content : [];
    for (const b of content) {
      if (!isObj(b)) continue;
      if (b.type === 'text') core.addChars(str(b.text)?.length ?? 0);
      else if (b.type === 'thinking') core.addChars(str(b.thinking)?.length ?? 0);
      else if (b.type === 'tool_use' || b.type === 'server_tool_use' || b.type === 'mcp_tool_use') {
        const input = b.input ?? {};
        core.addChars(JSON.stringify(input).length);
        if (b.type === 'tool_use') core.toolCall(str(b.name) ?? '', input);
      }
    }
  }

  private mergeUsage(u: unknown): void {
    if (!isObj(u)) return;
    const input = num(u.input_tokens);
    const cacheRead = num(u.cache_read_input_tokens);
    const cacheWrite = num(u.cache_creation_input_tokens);
    const output = num(u.output_tokens);
    if (input === null && cacheRead === null && cacheWrite === null && output === null) return;
    if (input !== null) this.input = input;
    if (cacheRead !== null) this.cacheRead = cacheRead;
    if (cacheWrite !== null) this.cacheWrite = cacheWrite;
    if (output !== null) this.output = output;
    this.core.setUsage(this.normalised());
  }

  private normalised(): TokenCounts {
    let input = this.input ?? 0;
    const cacheRead = this.cacheRead ?? 0;
    const cacheWrite = this.cacheWrite ?? 0;
    // Compat-layer guard (opt-in): the layer reports the cache-inclusive prompt in input_tokens.
    if (this.inputIncludesCache && input >= cacheRead) input -= cacheRead;
    return { inputTokens: input, cacheReadTokens: cacheRead, cacheWriteTokens: cacheWrite, outputTokens: this.output ?? 0 };
  }
}
