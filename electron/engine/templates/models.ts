// Known models: context windows and list prices. Prices drift, so they live in this one table with the date and
// source they were read from; edit the table, not the code that uses it.

export interface ModelInfo {
  /** Context window in tokens. */
  contextWindow: number;
  /** USD per 1M tokens: input served from cache, input not from cache, output. Null when we have no price. */
  usdPerMTok: { cacheHit: number; input: number; output: number } | null;
}

export const MODEL_TABLE_SOURCE = {
  asOf: '2026-03-26',
  source: 'Moonshot pricing page (archived 2026-03-26); LiteLLM model_prices_and_context_window.json',
} as const;

export const MODELS: Readonly<Record<string, ModelInfo>> = {
  'kimi-k2-0711-preview': { contextWindow: 131_072, usdPerMTok: { cacheHit: 0.15, input: 0.6, output: 2.5 } },
  'kimi-k2-0905-preview': { contextWindow: 262_144, usdPerMTok: { cacheHit: 0.15, input: 0.6, output: 2.5 } },
  'kimi-k2-turbo-preview': { contextWindow: 262_144, usdPerMTok: { cacheHit: 0.15, input: 1.15, output: 8.0 } },
  'kimi-k2-thinking': { contextWindow: 262_144, usdPerMTok: { cacheHit: 0.15, input: 0.6, output: 2.5 } },
  'kimi-k2-thinking-turbo': { contextWindow: 262_144, usdPerMTok: { cacheHit: 0.15, input: 1.15, output: 8.0 } },
  'kimi-k2.5': { contextWindow: 262_144, usdPerMTok: { cacheHit: 0.1, input: 0.6, output: 3.0 } },
  'kimi-k2.6': { contextWindow: 262_144, usdPerMTok: { cacheHit: 0.16, input: 0.95, output: 4.0 } },
  'kimi-k3': { contextWindow: 1_048_576, usdPerMTok: { cacheHit: 0.3, input: 3.0, output: 15.0 } },
  // Names other hosts use for the same weights (OpenRouter, Groq); their prices differ per host, so none here.
  'kimi-k2-0905': { contextWindow: 262_144, usdPerMTok: null },
  'kimi-k2-instruct-0905': { contextWindow: 262_144, usdPerMTok: null },
};

const CLAUDE_CONTEXT_WINDOW = 200_000;

/** "moonshotai/kimi-k2-0905" (OpenRouter, Groq) and "kimi-k2.6" name the same table row. */
function tableKey(model: string): string {
  const id = model.trim().toLowerCase();
  const slash = id.lastIndexOf('/');
  return slash >= 0 ? id.slice(slash + 1) : id;
}

export function modelInfo(model: string): ModelInfo | null {
  const key = tableKey(model);
  if (Object.hasOwn(MODELS, key)) return MODELS[key]!;
  if (key.startsWith('claude-')) return { contextWindow: CLAUDE_CONTEXT_WINDOW, usdPerMTok: null };
  return null;
}

export function modelContextWindow(model: string): number | null {
  return modelInfo(model)?.contextWindow ?? null;
}
