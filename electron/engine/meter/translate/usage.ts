// Token counts across the translation: OpenAI's usage (cached tokens a subset of the prompt) in Anthropic's words
// (input_tokens the uncached remainder; cache hits as cache_read_input_tokens) — never zeros when the host reported
// figures (zeroed usage breaks Claude Code's context tracking: LiteLLM #24176).
type Json = Record<string, any>;

export interface AnthropicUsage {
  input_tokens: number;
  output_tokens: number;
  cache_read_input_tokens: number;
  cache_creation_input_tokens: number;
}

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.round(v) : 0);

/** OpenAI Chat usage (Moonshot's quirks included: top-level `cached_tokens`) → Anthropic usage. */
export function anthropicUsage(u: Json | null | undefined): AnthropicUsage {
  const prompt = num(u?.prompt_tokens);
  const cached = Math.min(prompt, num(u?.prompt_tokens_details?.cached_tokens) || num(u?.cached_tokens));
  return {
    input_tokens: prompt - cached,
    output_tokens: num(u?.completion_tokens),
    cache_read_input_tokens: cached,
    cache_creation_input_tokens: 0,
  };
}

/** About 4 characters a token: what a prompt costs before the host says (the same rule the meter's estimates use). */
export function estimateTokensOfJson(v: unknown): number {
  let chars = 0;
  try {
    chars = JSON.stringify(v ?? null).length;
  } catch {
    chars = 0;
  }
  return Math.ceil(chars / 4);
}
