// The model's window, before the round trip. The meter estimates every request's prompt (for budgets); corrected by the
// ratio between what the provider last reported for this session and what the meter had estimated, that estimate says
// when a request cannot fit. Such a request is answered here with the 400 Claude Code compacts on ("prompt is too
// long"), instead of uploading megabytes to be refused. And the same answer at COMPACT_AT of the window makes Claude
// Code compact while its compaction request still fits: that request carries the whole conversation plus its own
// instructions, so a conversation that has crossed the window can no longer be compacted and is lost. Claude Code
// compacts by itself on a window it is told of (CLAUDE_CODE_MAX_CONTEXT_TOKENS) only up to 262 144 tokens (measured:
// kimi-k3's 1 048 576 at a last usage of 95 % did not compact), and even there only near the wall, where one large tool
// result crosses it.
import type { ApiStyle } from '../../shared/contract.ts';

/**
 * Where Flotilla asks for compaction: 88 % of the window leaves 12 % (31K tokens of K2's 262 144, 126K of K3's 1M) for
 * a tool result that lands meanwhile, the compaction request's own instructions and its summary.
 */
export const COMPACT_AT = 0.88;
/** Within this fraction of the window the estimate is unsure: the request goes, and the provider decides. */
const UNSURE = 0.02;
/** Claude Code's compaction requests say this (2.1.332's prompt); they are never answered locally. */
const COMPACTION_MARKER = 'CRITICAL: Respond with TEXT ONLY';

export interface Compaction {
  at: string;
  /** Prompt tokens of the conversation that was compacted (the compaction request's own). */
  beforeTokens: number;
  /** Prompt tokens of the first request after it (null until it has settled). */
  afterTokens: number | null;
}

export interface WindowState {
  /** Provider's prompt tokens ÷ the meter's estimate, from the session's last settled request (null: none yet). */
  scale: number | null;
  /** A compaction was asked for (or is running) and has not finished. */
  compacting: boolean;
  localOverflows: number;
  /** Compaction requests that had tool results left out to fit. */
  trimmed: number;
  compactions: Compaction[];
  /** Prompt tokens of the last request that was not a compaction: the context a compaction starts from. */
  lastPromptTokens: number | null;
  /**
   * A compaction was asked for since the session was last below the threshold: not again until it is (a conversation
   * whose system prompt and last tool result alone pass the threshold would otherwise compact on every turn).
   */
  asked: boolean;
}

export const newWindowState = (): WindowState => ({
  scale: null,
  compacting: false,
  localOverflows: 0,
  trimmed: 0,
  compactions: [],
  lastPromptTokens: null,
  asked: false,
});

/** Whether a request is Claude Code's compaction request (its last message carries the marker). */
export function isCompactionRequest(o: Record<string, any>): boolean {
  const list = Array.isArray(o.messages) ? o.messages : Array.isArray(o.input) ? o.input : null;
  const last = list?.[list.length - 1];
  return last !== undefined && JSON.stringify(last).includes(COMPACTION_MARKER);
}

export type WindowVerdict = { kind: 'send' } | { kind: 'overflow' | 'compact'; tokens: number };

/**
 * What to do with a request of `estimate` prompt tokens (the meter's estimate, before correction). `compacts`: the
 * agent compacts on the overflow answer (Claude Code: an Anthropic-speaking agent); other agents are answered only when
 * the request cannot fit at all (the provider would refuse it the same way).
 */
export function windowVerdict(
  w: WindowState,
  window: number | null,
  estimate: number,
  compaction: boolean,
  compacts: boolean,
): WindowVerdict {
  if (window === null || window <= 0) return { kind: 'send' };
  const tokens = Math.round(estimate * (w.scale ?? 1));
  // A compaction request that still cannot fit (fitCompaction found nothing to leave out) is answered too: no upload.
  if (tokens > window * (1 + UNSURE)) return { kind: 'overflow', tokens };
  if (compaction) return { kind: 'send' };
  // Asked once until the session is below the threshold again; meanwhile only a sure overflow is answered.
  if (compacts && tokens > window * COMPACT_AT && !w.asked) return { kind: 'compact', tokens };
  return { kind: 'send' };
}

/** The refusal the agent acts on: Anthropic's "prompt is too long" (Claude Code compacts), OpenAI's context_length_exceeded. */
export function overflowRefusal(style: ApiStyle, tokens: number, window: number): { status: number; type: string; message: string } {
  if (style === 'anthropic') {
    return { status: 400, type: 'invalid_request_error', message: `prompt is too long: ${tokens} tokens > ${window} maximum` };
  }
  return {
    status: 400,
    type: 'context_length_exceeded',
    message: `This model's maximum context length is ${window} tokens. However, your messages resulted in ${tokens} tokens.`,
  };
}

/** A request settled: learn the estimate's error; a compaction that ran, and the first request after it. */
export function noteSettled(
  w: WindowState,
  window: number | null,
  estimate: number,
  promptTokens: number,
  compaction: boolean,
  at: string,
): void {
  if (estimate >= 1_000 && promptTokens > 0) w.scale = promptTokens / estimate;
  const last = w.compactions[w.compactions.length - 1];
  if (compaction) {
    // Claude Code may send its compaction request twice in a row: one compaction.
    if (last && last.afterTokens === null) last.at = at;
    else w.compactions.push({ at, beforeTokens: w.lastPromptTokens ?? promptTokens, afterTokens: null });
    w.compacting = false;
    return;
  }
  if (last && last.afterTokens === null) last.afterTokens = promptTokens;
  w.lastPromptTokens = promptTokens;
  if (window !== null && promptTokens <= window * COMPACT_AT) w.asked = false;
}

/** A compaction request is made to fit under this fraction of the window (room for the summary it asks for). */
const FIT_TO = 0.92;
const ELIDED = (n: number) => `[${n} characters of this tool result left out by Flotilla so the compaction fits the model's window]`;

/**
 * A compaction request over the window cannot be served, and the conversation would be lost: the oldest tool results
 * are left out (a note in their place) until it fits — the summary loses their detail, the session goes on. Null when
 * it fits already or is not one this can shrink.
 */
export function fitCompaction(
  body: Buffer,
  style: ApiStyle,
  window: number | null,
  scale: number | null,
  estimate: number,
): { body: Buffer; tokens: number; elided: number } | null {
  if (window === null) return null;
  const factor = scale ?? 1;
  const target = window * FIT_TO;
  if (estimate * factor <= target) return null;
  let o: Record<string, any>;
  try {
    o = JSON.parse(body.toString('utf8'));
  } catch {
    return null;
  }
  if (!Array.isArray(o.messages)) return null;
  // Characters to take out, in the meter's own estimate (tokens ≈ characters / 4).
  let excess = Math.ceil(((estimate * factor - target) / factor) * 4);
  let elided = 0;
  let removed = 0;
  const cut = (text: string): string => {
    if (excess <= 0 || text.length < 400) return text;
    const note = ELIDED(text.length);
    excess -= text.length - note.length;
    removed += text.length - note.length;
    elided++;
    return note;
  };
  for (const m of o.messages.slice(0, -1)) {
    if (excess <= 0) break;
    if (style === 'anthropic' && Array.isArray(m?.content)) {
      for (const b of m.content) {
        if (b?.type !== 'tool_result') continue;
        if (typeof b.content === 'string') b.content = cut(b.content);
        else if (Array.isArray(b.content))
          for (const part of b.content) if (part?.type === 'text' && typeof part.text === 'string') part.text = cut(part.text);
      }
    } else if (m?.role === 'tool' && typeof m.content === 'string') m.content = cut(m.content);
  }
  if (elided === 0) return null;
  const out = Buffer.from(JSON.stringify(o));
  return { body: out, tokens: Math.round((estimate - removed / 4) * factor), elided };
}
