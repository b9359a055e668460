// Settings (<dataDir>/settings.json) and provider keys as clients see them: the shapes only. The engine's settings room
// validates with messages that name the file and field; here is what the wire carries.
import { z } from 'zod';
import { ProviderLimits } from './governor.ts';
import { PriceEntry } from './spend.ts';

const rate = z.number().finite().min(0);

/** An override of one model's prices (settings.json or a template's `prices:`): any subset of the fields. */
export const PriceOverride = z.strictObject({
  inputUsd: rate.optional(),
  cacheReadUsd: rate.optional(),
  cacheWriteUsd: rate.optional(),
  outputUsd: rate.optional(),
  contextWindow: z.number().int().positive().optional(),
});
export type PriceOverride = z.infer<typeof PriceOverride>;

export const RATE_FIELDS = ['inputUsd', 'cacheReadUsd', 'cacheWriteUsd', 'outputUsd'] as const;
export const PRICE_OVERRIDE_FIELDS = [...RATE_FIELDS, 'contextWindow'] as const;

export const PriceOverrides = z.record(z.string(), PriceOverride);
export type PriceOverrides = Record<string, PriceOverride>;

const budgetUsd = z.number().finite().positive().nullable();

export const Settings = z.strictObject({
  prices: PriceOverrides.optional(),
  /** The model savings are measured against; default claude-sonnet-4-5. */
  referenceModel: z.string().trim().min(1).optional(),
  defaultBudget: z.strictObject({ perSessionUsd: budgetUsd.optional(), runUsd: budgetUsd.optional() }).optional(),
  /** How long a request over budget is held for a raise before it is answered with the budget error (default 15). */
  budgetHoldMinutes: z.number().finite().positive().max(24 * 60).optional(),
  /** Account-wide rate limits per provider key (named like its variable, e.g. MOONSHOT_API_KEY); a template's win. */
  limits: z.record(z.string().regex(/^[A-Z_][A-Z0-9_]*$/), ProviderLimits).optional(),
});
export type Settings = z.infer<typeof Settings>;

/** A provider key is named like the environment variable it would come from. */
export const KEY_NAME = /^[A-Z_][A-Z0-9_]*$/;
/** Keys the Settings panel always lists (set or not). */
export const KNOWN_PROVIDER_KEYS: readonly string[] = ['MOONSHOT_API_KEY', 'OPENROUTER_API_KEY'];

export const KeySource = z.enum(['environment', 'data dir']);
export type KeySource = z.infer<typeof KeySource>;

/** What the Settings panel shows: settings, the effective and the shipped price tables, which keys are set — never their values. */
export const SettingsView = z.object({
  settings: Settings,
  prices: z.array(PriceEntry),
  shipped: z.array(PriceEntry),
  keys: z.array(z.object({ name: z.string(), source: KeySource })),
});
export type SettingsView = z.infer<typeof SettingsView>;
