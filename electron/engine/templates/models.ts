// Known models: context windows and list prices, as the templates module has always exposed them. The figures come
// from the one price table (meter/prices.ts); edit that table, not this view of it.
import { PriceTable, SHIPPED_PRICES_AS_OF, SHIPPED_PRICES_SOURCES } from '../meter/index.ts';

export interface ModelInfo {
  /** Context window in tokens. */
  contextWindow: number;
  /** USD per 1M tokens: input served from cache, input not from cache, output. Null when we have no price. */
  usdPerMTok: { cacheHit: number; input: number; output: number } | null;
}

export const MODEL_TABLE_SOURCE = {
  asOf: SHIPPED_PRICES_AS_OF,
  source: SHIPPED_PRICES_SOURCES.join('; '),
} as const;

const SHIPPED = PriceTable.shipped();

export const MODELS: Readonly<Record<string, ModelInfo>> = Object.freeze(
  Object.fromEntries(
    SHIPPED.entries()
      .filter((e) => e.contextWindow !== null)
      .map((e) => [
        e.model,
        { contextWindow: e.contextWindow!, usdPerMTok: { cacheHit: e.cacheReadUsd, input: e.inputUsd, output: e.outputUsd } },
      ]),
  ),
);

/** Looks a model up like the meter does: "moonshotai/kimi-k2-0905" and "claude-sonnet-4-5-20250929" find their rows. */
export function modelInfo(model: string): ModelInfo | null {
  const e = SHIPPED.get(model);
  if (!e || e.contextWindow === null) return null;
  return { contextWindow: e.contextWindow, usdPerMTok: { cacheHit: e.cacheReadUsd, input: e.inputUsd, output: e.outputUsd } };
}

export function modelContextWindow(model: string): number | null {
  return SHIPPED.contextWindow(model);
}
