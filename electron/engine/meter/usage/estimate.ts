// The one place the characters → tokens ratio lives.

/**
 * Characters per token for the live estimate. K2's tokenizer (like Claude's and GPT's BPEs) averages ≈ 4 characters per
 * token on English prose and code; CJK text is denser (≈ 1.5), so the estimate undercounts there. It is only used for the
 * live figure while a stream runs and for streams cut before their usage arrived.
 */
export const CHARS_PER_TOKEN = 4;

export function tokensFromChars(chars: number): number {
  return chars > 0 ? Math.ceil(chars / CHARS_PER_TOKEN) : 0;
}
