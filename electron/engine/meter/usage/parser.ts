// createResponseParser: picks SSE or JSON, feeds the wire format's handler, and assembles the ParseResult.
import { AnthropicHandler } from './anthropic.ts';
import { Core, type Handler } from './core.ts';
import { errorFromText } from './errors.ts';
import { OpenAIChatHandler } from './openai.ts';
import { ResponsesHandler } from './responses.ts';
import { tryParse } from './scan.ts';
import { SseReader, looksLikeSse } from './sse.ts';
import type { ParseResult, ResponseParser, ResponseParserOptions, ApiStyle } from './types.ts';

/** A JSON (non-streaming) body larger than this is not held for parsing (no usage is read from it). */
const MAX_JSON_BODY = 64 * 1024 * 1024;

type Mode = 'sniff' | 'sse' | 'json';

class Parser implements ResponseParser {
  private readonly core: Core;
  private readonly handler: Handler;
  private readonly declaredSse: boolean;
  private mode: Mode = 'sniff';
  /** Chunks held while sniffing (only whitespace seen so far). */
  private held: Uint8Array[] = [];
  private sse: SseReader | null = null;
  private json: Uint8Array[] = [];
  private jsonBytes = 0;
  private jsonTooBig = false;
  private final: ParseResult | null = null;

  constructor(style: ApiStyle, opts: ResponseParserOptions) {
    this.core = new Core(opts.status, opts.events);
    this.handler =
      style === 'anthropic'
        ? new AnthropicHandler(this.core, opts.anthropicInputIncludesCache === true)
        : style === 'openai'
          ? new OpenAIChatHandler(this.core)
          : new ResponsesHandler(this.core);
    this.declaredSse = /text\/event-stream/i.test(opts.contentType ?? '');
  }

  push(chunk: Uint8Array): void {
    if (this.final || chunk.length === 0) return;
    switch (this.mode) {
      case 'sse':
        this.sse!.push(chunk);
        return;
      case 'json':
        this.keepJson(chunk);
        return;
      case 'sniff': {
        const first = firstNonSpace(chunk);
        if (first < 0) {
          this.held.push(chunk);
          return;
        }
        // `{`/`[` is a JSON body (an error envelope under an event-stream type too); else SSE if declared or if it
        // starts like one (data:/event:/:/id:/retry:); else a JSON/text body.
        const b = chunk[first]!;
        const isJson = b === 0x7b || b === 0x5b;
        this.mode = !isJson && (this.declaredSse || looksLikeSse(b)) ? 'sse' : 'json';
        const held = this.held;
        this.held = [];
        if (this.mode === 'sse') this.sse = new SseReader((event, data) => this.handler.onEvent(event, data));
        for (const h of held) this.push(h);
        this.push(chunk);
        return;
      }
    }
  }

  private keepJson(chunk: Uint8Array): void {
    if (this.jsonTooBig) return;
    this.jsonBytes += chunk.length;
    if (this.jsonBytes > MAX_JSON_BODY) {
      this.jsonTooBig = true;
      this.json = [];
      return;
    }
    this.json.push(chunk);
  }

  peek(): ParseResult {
    return this.final ?? this.core.result();
  }

  end(): ParseResult {
    if (this.final) return this.final;
    const core = this.core;
    let text = '';
    if (this.mode === 'sse') {
      // A cut stream's last, half-sent event is truncated, not malformed.
      const malformed = core.malformed;
      this.sse!.end();
      core.malformed = malformed;
    } else if (this.mode === 'json' && !this.jsonTooBig) {
      text = new TextDecoder('utf-8').decode(this.json.length === 1 ? this.json[0] : Buffer.concat(this.json));
      this.json = [];
      const body = text.length > 0 ? tryParse(text) : undefined;
      if (body !== undefined) {
        try {
          this.handler.onJson(body);
        } catch {
          /* a malformed body shape: keep what was read */
        }
        core.complete = true;
      }
    }
    if (core.status >= 400 && !core.error) core.setError(errorFromText(core.status, text));
    core.flush();
    this.final = core.result();
    return this.final;
  }
}

function firstNonSpace(b: Uint8Array): number {
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09 && c !== 0xef && c !== 0xbb && c !== 0xbf) return i; // BOM bytes too
  }
  return -1;
}

export function createResponseParser(style: ApiStyle, opts: ResponseParserOptions): ResponseParser {
  return new Parser(style, opts);
}
