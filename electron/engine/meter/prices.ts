// Prices: the one table of model prices and context windows in Flotilla, the user's overrides of it (settings.json and
// templates), and turning token counts into dollars.
//
// Money: USD per million tokens in the table; a cost is (tokens × price) / 1e6 per kind of token, summed, in doubles.
// Nothing is rounded here or in the ledger — a figure is rounded only when it is displayed — so sums over thousands of
// requests stay within a micro-dollar of the exact decimal result.
import {
  PRICE_OVERRIDE_FIELDS,
  PriceOverride,
  RATE_FIELDS,
  type PriceEntry,
  type PriceOverrides,
  type Settings,
  type TokenCounts,
} from '../../shared/contract.ts';

export class PriceError extends Error {
  /** engine/errors.ts turns a string `code` into the wire's error code. */
  readonly code = 'prices_invalid';
  constructor(message: string) {
    super(message);
    this.name = 'PriceError';
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// The shipped table. Prices drift: edit these rows (with their date and source), never the code that uses them.

const K2_AS_OF = '2026-03-26';
const K2_SOURCE = 'Moonshot pricing page (archived 2026-03-26); LiteLLM model_prices_and_context_window.json';
const CLAUDE_AS_OF = '2026-03-26';
const CLAUDE_SOURCE = 'Anthropic list prices (anthropic.com/pricing); cache write = 1.25 × input (5-minute cache)';
const CLAUDE_CONTEXT_WINDOW = 200_000;

/** K2 has no cache-write surcharge (automatic prefix caching): cache writes cost the cache-miss input rate. */
function k2(model: string, cacheHit: number, input: number, output: number, contextWindow: number, retiredOn?: string): PriceEntry {
  return {
    model,
    inputUsd: input,
    cacheReadUsd: cacheHit,
    cacheWriteUsd: input,
    outputUsd: output,
    contextWindow,
    asOf: K2_AS_OF,
    source: K2_SOURCE,
    ...(retiredOn ? { retiredOn } : {}),
  };
}

/** The five original K2 ids: retired by Moonshot (reported: LiteLLM deprecation_date, promptfoo docs). */
const K2_RETIRED = '2026-05-25';
/** Models reported after the archived pricing page (k2-and-agents.md §8, late 2026): check the live /v1/models. */
const LATE_2026_AS_OF = '2026-11-15';
const LATE_2026_SOURCE = 'reported late 2026 (Moonshot release notes as summarised in k2-and-agents.md §8; no archived price page)';

function claude(model: string, input: number, cacheRead: number, cacheWrite: number, output: number): PriceEntry {
  return {
    model,
    inputUsd: input,
    cacheReadUsd: cacheRead,
    cacheWriteUsd: cacheWrite,
    outputUsd: output,
    contextWindow: CLAUDE_CONTEXT_WINDOW,
    asOf: CLAUDE_AS_OF,
    source: CLAUDE_SOURCE,
  };
}

/** A host's price for K2 weights (late 2026, as reported; cache reads at input price where the host lists no discount). */
function host(key: string, input: number, cacheRead: number, output: number, contextWindow: number, source: string): PriceEntry {
  return {
    model: key,
    inputUsd: input,
    cacheReadUsd: cacheRead,
    cacheWriteUsd: input,
    outputUsd: output,
    contextWindow,
    asOf: LATE_2026_AS_OF,
    source,
  };
}

const SHIPPED: readonly PriceEntry[] = [
  //   model                      cache hit  miss  output  context
  k2('kimi-k2-0711-preview', 0.15, 0.6, 2.5, 131_072, K2_RETIRED),
  k2('kimi-k2-0905-preview', 0.15, 0.6, 2.5, 262_144, K2_RETIRED),
  k2('kimi-k2-turbo-preview', 0.15, 1.15, 8.0, 262_144, K2_RETIRED),
  k2('kimi-k2-thinking', 0.15, 0.6, 2.5, 262_144, K2_RETIRED),
  k2('kimi-k2-thinking-turbo', 0.15, 1.15, 8.0, 262_144, K2_RETIRED),
  k2('kimi-k2.5', 0.1, 0.6, 3.0, 262_144),
  k2('kimi-k2.6', 0.16, 0.95, 4.0, 262_144),
  k2('kimi-k3', 0.3, 3.0, 15.0, 1_048_576),
  // Thinking cannot be turned off on this one (the compat rule thinking-enabled).
  {
    model: 'kimi-k2.7-code',
    inputUsd: 0.95,
    cacheReadUsd: 0.19,
    cacheWriteUsd: 0.95,
    outputUsd: 4.0,
    contextWindow: 262_144,
    asOf: LATE_2026_AS_OF,
    source: LATE_2026_SOURCE,
  },
  // Other hosts' names for the K2 weights, at that host's price (each id is used by one host only). Neither lists a
  // cache discount we can rely on for OpenRouter, so its cache reads are priced as input.
  {
    model: 'kimi-k2-0905', // OpenRouter: moonshotai/kimi-k2-0905
    inputUsd: 0.6,
    cacheReadUsd: 0.6,
    cacheWriteUsd: 0.6,
    outputUsd: 2.5,
    contextWindow: 262_144,
    asOf: K2_AS_OF,
    source: 'OpenRouter list price for moonshotai/kimi-k2-0905 (no cache discount listed)',
  },
  {
    model: 'kimi-k2-instruct-0905', // Groq: moonshotai/kimi-k2-instruct-0905
    inputUsd: 1.0,
    cacheReadUsd: 0.5,
    cacheWriteUsd: 1.0,
    outputUsd: 3.0,
    contextWindow: 262_144,
    asOf: K2_AS_OF,
    source: 'Groq list price for moonshotai/kimi-k2-instruct-0905',
  },
  // Hosts' own prices for the same weights, keyed `<provider>:<model id>` (the model-only rows are the fallback).
  host('groq:kimi-k2-instruct-0905', 1.0, 0.5, 3.0, 262_144, 'Groq list price for moonshotai/kimi-k2-instruct-0905'),
  host('fireworks:kimi-k2p7-code', 0.95, 0.95, 4.0, 262_144, 'Fireworks list price for kimi-k2p7-code (k2-and-agents.md §11)'),
  host('fireworks:kimi-k3', 3.0, 0.3, 15.0, 1_048_576, 'Fireworks list price for kimi-k3 (k2-and-agents.md §11)'),
  host('novita:kimi-k3', 3.0, 0.3, 15.0, 1_048_576, 'Novita list price for moonshotai/kimi-k3 (k2-and-agents.md §11)'),
  host('together:kimi-k2-thinking', 1.2, 1.2, 4.0, 262_144, 'Together list price for moonshotai/Kimi-K2-Thinking (k2-and-agents.md §11)'),
  host('vercel:kimi-k3-fast', 4.5, 4.5, 22.5, 1_048_576, 'Vercel AI Gateway list price for moonshotai/kimi-k3-fast (k2-and-agents.md §11)'),
  //      model                input  cache read  cache write  output
  claude('claude-opus-4-1', 15, 1.5, 18.75, 75),
  claude('claude-opus-4', 15, 1.5, 18.75, 75),
  claude('claude-sonnet-4-5', 3, 0.3, 3.75, 15),
  claude('claude-sonnet-4', 3, 0.3, 3.75, 15),
  claude('claude-haiku-4-5', 1, 0.1, 1.25, 5),
];

/**
 * Models known to exist that have no price we can stand behind: their context window is known, their dollars are not —
 * they meter as *unpriced* (tokens counted, never $0).
 */
export interface UnpricedModel {
  model: string;
  contextWindow: number;
  asOf: string;
  source: string;
}

const UNPRICED: readonly UnpricedModel[] = [
  { model: 'kimi-k3.1-pro', contextWindow: 1_048_576, asOf: LATE_2026_AS_OF, source: `${LATE_2026_SOURCE}; no official price found` },
  {
    model: 'kimi-k2.7-code-highspeed',
    contextWindow: 262_144,
    asOf: LATE_2026_AS_OF,
    source: `${LATE_2026_SOURCE}; no official price found`,
  },
];

/** When the shipped table was read, and from where (for display next to the table). */
export const SHIPPED_PRICES_AS_OF = K2_AS_OF;
export const SHIPPED_PRICES_SOURCES: readonly string[] = [...new Set(SHIPPED.map((e) => e.source))];

/** What savings are measured against unless settings or the template name another model. */
export const DEFAULT_REFERENCE_MODEL = 'claude-sonnet-4-5';

// ---------------------------------------------------------------------------------------------------------------------
// Overrides (settings.json `prices:`, template `prices:`): keyed by model id, any subset of the fields.

export { PRICE_OVERRIDE_FIELDS, PriceOverride, type PriceOverrides } from '../../shared/contract.ts';

// ---------------------------------------------------------------------------------------------------------------------
// Model ids

/** Table keys are lower case and trimmed. */
function normalize(model: string): string {
  return model.trim().toLowerCase();
}

/**
 * A snapshot tag after a model id: Anthropic's dates (claude-sonnet-4-5-20250929), `-latest`, a Bedrock-style version
 * after a date (-20250929-v1:0) and Vertex's `@20250929`.
 */
const SNAPSHOT_SUFFIX = /^(?:-(?:\d{8}(?:-v\d+(?::\d+)?)?|latest)|@.+)$/;

/** True when `id` is `key` or `key` followed by a snapshot tag. */
function matchesKey(id: string, key: string): boolean {
  return id === key || (id.startsWith(key) && SNAPSHOT_SUFFIX.test(id.slice(key.length)));
}

/** Today as YYYY-MM-DD: the asOf of an override. */
function today(): string {
  return new Date().toISOString().slice(0, 10);
}

// ---------------------------------------------------------------------------------------------------------------------

export class PriceTable {
  private readonly byKey: ReadonlyMap<string, PriceEntry>;

  private constructor(entries: Iterable<PriceEntry>) {
    const m = new Map<string, PriceEntry>();
    for (const e of entries) m.set(normalize(e.model), { ...e, model: normalize(e.model) });
    this.byKey = m;
  }

  static shipped(): PriceTable {
    return new PriceTable(SHIPPED);
  }

  /**
   * A new table with `overrides` applied. A partial override of a known model (anything `get` finds) keeps the fields it
   * does not name; an unknown model needs at least inputUsd and outputUsd (cache reads and writes then default to the
   * input rate, no context window). `source` names where the overrides come from (a file path) in entries and errors.
   */
  withOverrides(overrides: PriceOverrides, source: string): PriceTable {
    const entries = new Map(this.byKey);
    for (const [rawModel, rawOverride] of Object.entries(overrides ?? {})) {
      const model = normalize(rawModel);
      if (!model) throw new PriceError(`${source}: prices: a model id must not be empty`);
      const parsed = PriceOverride.safeParse(rawOverride ?? {});
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        const field = issue.path.map(String).join('.');
        const what =
          issue.code === 'unrecognized_keys'
            ? `unknown field(s) ${issue.keys.map((k) => `'${k}'`).join(', ')} — expected ${PRICE_OVERRIDE_FIELDS.join(', ')}`
            : field === 'contextWindow'
              ? 'must be a positive whole number of tokens'
              : 'must be a number of US dollars per million tokens, 0 or more';
        throw new PriceError(`${source}: prices.${rawModel}${field && issue.code !== 'unrecognized_keys' ? `.${field}` : ''}: ${what}`);
      }
      const o = parsed.data;
      const named = PRICE_OVERRIDE_FIELDS.filter((f) => o[f] !== undefined);
      // `<provider>:<model>` (a host's own price) starts from the model's row when it overrides only some fields.
      const base = this.get(model) ?? (model.includes(':') ? this.get(model.slice(model.indexOf(':') + 1)) : null);
      if (base) {
        const allPrices = RATE_FIELDS.every((f) => o[f] !== undefined);
        entries.set(model, {
          model,
          inputUsd: o.inputUsd ?? base.inputUsd,
          cacheReadUsd: o.cacheReadUsd ?? base.cacheReadUsd,
          cacheWriteUsd: o.cacheWriteUsd ?? base.cacheWriteUsd,
          outputUsd: o.outputUsd ?? base.outputUsd,
          contextWindow: o.contextWindow ?? base.contextWindow,
          asOf: named.length ? today() : base.asOf,
          source: named.length === 0 ? base.source : allPrices ? source : `${source} (${named.join(', ')}); ${base.source}`,
        });
        continue;
      }
      const missing = (['inputUsd', 'outputUsd'] as const).filter((f) => o[f] === undefined);
      if (missing.length > 0) {
        throw new PriceError(
          `${source}: prices.${rawModel}: '${rawModel}' is not in the price table, so it needs at least inputUsd and outputUsd (missing: ${missing.join(', ')})`,
        );
      }
      entries.set(model, {
        model,
        inputUsd: o.inputUsd!,
        cacheReadUsd: o.cacheReadUsd ?? o.inputUsd!,
        cacheWriteUsd: o.cacheWriteUsd ?? o.inputUsd!,
        outputUsd: o.outputUsd!,
        contextWindow: o.contextWindow ?? null,
        asOf: today(),
        source,
      });
    }
    return new PriceTable(entries.values());
  }

  /**
   * The entry for a model id: exact (case-insensitive) first, then the id without a snapshot tag
   * (claude-sonnet-4-5-20250929 → claude-sonnet-4-5), then the same for the part after the last `/`
   * (moonshotai/kimi-k2-0905 → kimi-k2-0905). Null when there is no price.
   */
  get(model: string): PriceEntry | null {
    const id = normalize(model);
    if (!id) return null;
    const slash = id.lastIndexOf('/');
    const candidates = slash >= 0 ? [id, id.slice(slash + 1)] : [id];
    for (const c of candidates) {
      const exact = this.byKey.get(c);
      if (exact) return { ...exact };
      let best: PriceEntry | null = null;
      for (const [key, e] of this.byKey) {
        if (matchesKey(c, key) && (!best || key.length > best.model.length)) best = e;
      }
      if (best) return { ...best };
    }
    return null;
  }

  /**
   * The price a provider charges for a model: its own row (`<provider>:<model>`, the first of `providers` that has one,
   * the host's id and the id after its last `/` both tried), else the model's row. `providers` are the provider's name
   * and its preset.
   */
  getFor(providers: readonly string[], model: string): PriceEntry | null {
    const id = normalize(model);
    const tail = id.slice(id.lastIndexOf('/') + 1);
    for (const p of providers) {
      for (const m of tail === id ? [id] : [id, tail]) {
        const own = this.byKey.get(`${normalize(p)}:${m}`);
        if (own) return { ...own };
      }
    }
    return this.get(model);
  }

  /** Dollars at the provider's price (see getFor); like cost() for a model without one. */
  costFor(providers: readonly string[], model: string | null, u: TokenCounts): { usd: number; priced: boolean } {
    return dollars(model === null ? null : this.getFor(providers, model), u);
  }

  contextWindow(model: string): number | null {
    const priced = this.get(model);
    if (priced) return priced.contextWindow;
    const id = normalize(model);
    return UNPRICED.find((u) => u.model === id || u.model === id.slice(id.lastIndexOf('/') + 1))?.contextWindow ?? null;
  }

  /** Models with no price that are known to exist (see UNPRICED). */
  static unpriced(): readonly UnpricedModel[] {
    return UNPRICED;
  }

  /** Every entry, shipped ones first in table order, then models only overrides added. */
  entries(): PriceEntry[] {
    return [...this.byKey.values()].map((e) => ({ ...e }));
  }

  /**
   * Dollars for token counts on a model. A model without a price (or no model) gives {usd: 0, priced: false}: show it
   * as unpriced, never as $0. Not rounded.
   */
  cost(model: string | null, u: TokenCounts): { usd: number; priced: boolean } {
    return dollars(model === null ? null : this.get(model), u);
  }
}

function dollars(e: PriceEntry | null, u: TokenCounts): { usd: number; priced: boolean } {
  if (!e) return { usd: 0, priced: false };
  const usd =
    (u.inputTokens * e.inputUsd) / 1e6 +
    (u.cacheReadTokens * e.cacheReadUsd) / 1e6 +
    (u.cacheWriteTokens * e.cacheWriteUsd) / 1e6 +
    (u.outputTokens * e.outputUsd) / 1e6;
  return { usd, priced: true };
}

/** What the same tokens would cost on the reference model (for "saved vs Claude"); 0 when that model has no price. */
export function referenceCost(table: PriceTable, referenceModel: string, usage: TokenCounts): number {
  return table.cost(referenceModel, usage).usd;
}

/** The prices a run is metered at: shipped ← settings.json prices ← the template's prices. */
export function effectivePrices(
  settings: Settings,
  templatePrices?: PriceOverrides,
  sources: { settings?: string; template?: string } = {},
): PriceTable {
  return PriceTable.shipped()
    .withOverrides(settings.prices ?? {}, sources.settings ?? 'settings.json')
    .withOverrides(templatePrices ?? {}, sources.template ?? 'template');
}

/** The model savings are measured against: the template's, else the settings', else claude-sonnet-4-5. */
export function effectiveReferenceModel(settings: Settings, templateReferenceModel?: string | null): string {
  return templateReferenceModel ?? settings.referenceModel ?? DEFAULT_REFERENCE_MODEL;
}
