// State shared by the three wire formats: the figures seen so far and the event callbacks.
import { tokensFromChars } from './estimate.ts';
import type { ParsedError, ParserEvents, ParseResult, TokenCounts } from './types.ts';
import { intentsFromToolCall } from './intents.ts';

export class Core {
  model: string | null = null;
  /** Normalised usage; replaced (never mutated) when it changes, so it can be handed out as is. */
  usage: TokenCounts | null = null;
  complete = false;
  chars = 0;
  stopReason: string | null = null;
  error: ParsedError | null = null;
  /** SSE events whose data was not JSON (a malformed stream). */
  malformed = 0;
  private firstToken = false;
  private reported = 0;
  private usageChanged = false;

  constructor(
    readonly status: number,
    private readonly events: ParserEvents | undefined,
  ) {}

  /** Output characters (text, thinking, tool arguments) seen on the wire. */
  addChars(n: number): void {
    if (n <= 0) return;
    this.chars += n;
    if (!this.firstToken) this.firstTokenSeen();
  }

  firstTokenSeen(): void {
    if (this.firstToken) return;
    this.firstToken = true;
    const cb = this.events?.onFirstToken;
    if (cb) {
      try {
        cb();
      } catch {
        /* a consumer bug must not break parsing */
      }
    }
  }

  setUsage(u: TokenCounts): void {
    const o = this.usage;
    if (
      o &&
      o.inputTokens === u.inputTokens &&
      o.cacheReadTokens === u.cacheReadTokens &&
      o.cacheWriteTokens === u.cacheWriteTokens &&
      o.outputTokens === u.outputTokens
    )
      return;
    this.usage = u;
    this.usageChanged = true;
  }

  setError(e: ParsedError): void {
    if (!this.error) this.error = e; // the first error is the cause
  }

  /** Fire onIntent for every path a complete tool call names. */
  toolCall(tool: string, args: unknown): void {
    const cb = this.events?.onIntent;
    if (!cb) return;
    let intents;
    try {
      intents = intentsFromToolCall(tool, args);
    } catch {
      return;
    }
    for (const i of intents) {
      try {
        cb(i);
      } catch {
        /* ignore */
      }
    }
  }

  /** After each parsed event: report the figures if they changed. */
  flush(): void {
    const est = tokensFromChars(this.chars);
    if (!this.usageChanged && est === this.reported) return;
    this.usageChanged = false;
    this.reported = est;
    const cb = this.events?.onProgress;
    if (cb) {
      try {
        cb({ usage: this.usage, estimatedOutputTokens: est });
      } catch {
        /* ignore */
      }
    }
  }

  result(): ParseResult {
    return {
      model: this.model,
      usage: this.usage,
      complete: this.complete,
      estimatedOutputTokens: tokensFromChars(this.chars),
      stopReason: this.stopReason,
      error: this.error,
      ...(this.malformed > 0 ? { malformed: this.malformed } : {}),
    };
  }
}

/** One wire format's reader: SSE events and/or a whole JSON body. */
export interface Handler {
  onEvent(event: string | null, data: string): void;
  onJson(body: unknown): void;
}
