// A run's models against Claude Code's needs of a window: one with no known window is launched with a notice saying
// what Claude Code will assume and how to set it; one too small to hold Claude Code's own prompt and a conversation is
// refused with the reason.
import { EngineError } from '../errors.ts';
import type { PriceTable } from '../meter/index.ts';
import { type Template, agentPresetInfo } from '../templates/index.ts';

/** Below this, Claude Code's own system prompt and tools (19 700 tokens measured with 2.1.332) leave too little room. */
export const MIN_CLAUDE_CODE_WINDOW = 40_000;
/** What Claude Code assumes for a model it does not know (reported: tale#3398, it compacts near 167K of it). */
const CLAUDE_CODE_DEFAULT_WINDOW = 200_000;

export function windowNotices(t: Template, prices: PriceTable): string[] {
  if (!agentPresetInfo(t.agent.preset).supportsHooks) return []; // Claude Code's presets
  const models = [...new Set([t.model, ...(t.models ?? []).filter((m): m is string => m !== null)])];
  const notices: string[] = [];
  for (const m of models) {
    const w = prices.contextWindow(m);
    if (w === null) {
      notices.push(
        `model ${m} has no known window: Claude Code assumes ${CLAUDE_CODE_DEFAULT_WINDOW} tokens and Flotilla answers no overflow for it — ` +
          `set prices: {"${m}": {contextWindow: <tokens>}} in the template or settings.json`,
      );
    } else if (w < MIN_CLAUDE_CODE_WINDOW) {
      throw new EngineError(
        'template_invalid',
        `model ${m}'s window of ${w} tokens is too small for Claude Code: its own system prompt and tools take ~19 700 tokens and it needs room for a conversation and its compaction (at least ${MIN_CLAUDE_CODE_WINDOW}) — ` +
          `use a model with a larger window, or correct prices.${m}.contextWindow`,
        { field: 'model' },
      );
    }
  }
  return notices;
}
