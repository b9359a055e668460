// OpenAI Responses API (Codex CLI): SSE events and JSON body.
//
// Usage arrives once, in response.completed / response.incomplete / response.failed: response.usage = {input_tokens,
// input_tokens_details.cached_tokens, output_tokens, output_tokens_details.reasoning_tokens}; cached is INCLUDED in
// input (inputTokens = input − cached); reasoning is included in output. `*.delta` events are counted without JSON.parse.
import type { Core, Handler } from './core.ts';
import { errorFromObject } from './errors.ts';
import { chatUsage } from './openai.ts';
import { isObj, leadingType, num, scanString, scannedLength, str, stringValueStart, tryParse } from './scan.ts';

const TERMINAL = new Set(['response.completed', 'response.incomplete', 'response.failed', 'response.done']);
const TOOL_ITEM_TYPES = ['"function_call"', '"custom_tool_call"', '"local_shell_call"', '"shell_call"'];

export class ResponsesHandler implements Handler {
  /** Tool items (by item id) whose intents were already fired. */
  private readonly fired = new Set<string>();
  /** Tool names by item id, from response.output_item.added (…arguments.done events carry no name). */
  private readonly names = new Map<string, string>();

  constructor(private readonly core: Core) {}

  onEvent(event: string | null, data: string): void {
    const type = event === null || event === 'message' ? leadingType(data) : event;
    if (type !== null) {
      if (type.endsWith('.delta') && this.fastDelta(data)) {
        this.core.flush();
        return;
      }
      // Message items repeat the whole text: only parse item events that may be tool calls.
      if ((type === 'response.output_item.done' || type === 'response.output_item.added') && !mayBeToolItem(data)) return;
      if (
        type === 'response.output_text.done' ||
        type === 'response.content_part.done' ||
        type === 'response.content_part.added' ||
        type === 'response.reasoning_summary_text.done' ||
        type === 'response.reasoning_summary_part.done' ||
        type === 'response.reasoning_text.done' ||
        type === 'response.in_progress'
      )
        return;
    }
    const o = tryParse(data);
    if (!isObj(o)) return void (o === undefined && data.trim() !== '' && this.core.malformed++);
    this.onObject(typeof o.type === 'string' ? o.type : type, o);
    this.core.flush();
  }

  /** `{"type":"response.….delta", …, "delta":"…"}`: count the delta's characters. False: parse it. */
  private fastDelta(data: string): boolean {
    const start = stringValueStart(data, '"delta":');
    if (start < 0) return false;
    const end = scanString(data, start);
    if (end < 0) return false;
    this.core.addChars(scannedLength);
    return true;
  }

  private onObject(type: string | null, o: Record<string, any>): void {
    const core = this.core;
    if (type === null) return;
    if (type.endsWith('.delta')) {
      if (typeof o.delta === 'string') core.addChars(o.delta.length);
      return;
    }
    switch (type) {
      case 'response.created':
      case 'response.queued':
        this.takeResponse(o.response, false);
        return;
      case 'response.output_item.added': {
        const it = o.item;
        if (isObj(it) && isToolItem(it)) {
          core.firstTokenSeen();
          const id = str(it.id);
          if (id && typeof it.name === 'string') this.names.set(id, it.name);
        }
        return;
      }
      case 'response.function_call_arguments.done': {
        const id = str(o.item_id);
        const name = str(o.name) ?? (id ? this.names.get(id) : undefined);
        if (id && name && !this.fired.has(id)) {
          this.fired.add(id);
          core.toolCall(name, str(o.arguments) ?? '');
        }
        return;
      }
      case 'response.custom_tool_call_input.done': {
        const id = str(o.item_id);
        const name = str(o.name) ?? (id ? this.names.get(id) : undefined);
        if (id && name && !this.fired.has(id)) {
          this.fired.add(id);
          core.toolCall(name, str(o.input) ?? '');
        }
        return;
      }
      case 'response.output_item.done': {
        const it = o.item;
        if (isObj(it)) this.toolItem(it, `#${num(o.output_index) ?? -1}`);
        return;
      }
      case 'error': {
        const e = errorFromObject(core.status, o);
        if (e) core.setError(e);
        return;
      }
      default:
        if (TERMINAL.has(type)) {
          this.takeResponse(o.response, true);
          core.complete = true;
        }
        return;
    }
  }

  /** Fire the intents of a complete tool item (once per item). */
  private toolItem(it: Record<string, any>, fallbackKey: string): void {
    if (!isToolItem(it)) return;
    const key = str(it.id) ?? fallbackKey;
    if (this.fired.has(key)) return;
    this.fired.add(key);
    if (it.type === 'function_call') this.core.toolCall(str(it.name) ?? '', it.arguments ?? '');
    else if (it.type === 'custom_tool_call') this.core.toolCall(str(it.name) ?? '', str(it.input) ?? '');
    else this.core.toolCall('local_shell', it.action ?? it); // local_shell_call / shell_call: {action: {command: [...]}}
  }

  private takeResponse(r: unknown, final: boolean): void {
    const core = this.core;
    if (!isObj(r)) return;
    if (typeof r.model === 'string' && r.model && (core.model === null || final)) core.model = r.model;
    if (!final) return;
    const u = chatUsage(r.usage);
    if (u) core.setUsage(u);
    const reason = isObj(r.incomplete_details) ? str(r.incomplete_details.reason) : null;
    core.stopReason = reason ?? str(r.status) ?? core.stopReason;
    if (isObj(r.error)) {
      core.setError({
        status: core.status,
        type: str(r.error.code) ?? str(r.error.type),
        message: str(r.error.message) ?? 'response failed',
      });
    }
    // Tool items the stream never closed with output_item.done (a terse provider).
    if (Array.isArray(r.output)) r.output.forEach((it: unknown, i: number) => isObj(it) && this.toolItem(it, `#${i}`));
  }

  /** A whole (non-streaming) response object, or an error envelope. */
  onJson(body: unknown): void {
    const core = this.core;
    if (!isObj(body)) return;
    const e = body.object !== 'response' ? errorFromObject(core.status, body) : null;
    if (e) {
      core.setError(e);
      return;
    }
    if (Array.isArray(body.output)) {
      for (const it of body.output) {
        if (!isObj(it)) continue;
        if (it.type === 'message' && Array.isArray(it.content)) {
          for (const p of it.content) if (isObj(p)) core.addChars((str(p.text)?.length ?? 0) + (str(p.refusal)?.length ?? 0));
        } else if (it.type === 'reasoning') {
          for (const p of [...(Array.isArray(it.summary) ? it.summary : []), ...(Array.isArray(it.content) ? it.content : [])])
            if (isObj(p)) core.addChars(str(p.text)?.length ?? 0);
        } else if (it.type === 'function_call') core.addChars(str(it.arguments)?.length ?? 0);
        else if (it.type === 'custom_tool_call') core.addChars(str(it.input)?.length ?? 0);
      }
    }
    this.takeResponse(body, true);
  }
}

function isToolItem(it: Record<string, any>): boolean {
  return it.type === 'function_call' || it.type === 'custom_tool_call' || it.type === 'local_shell_call' || it.type === 'shell_call';
}

function mayBeToolItem(data: string): boolean {
  for (const t of TOOL_ITEM_TYPES) if (data.indexOf(t) >= 0) return true;
  return false;
}
