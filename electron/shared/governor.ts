// The rate governor as clients see it: a provider account's limits (concurrency, requests and tokens per minute), the
// Moonshot tiers they can be named by, and what the governor is doing per provider key. Pure.
import { z } from 'zod';

const positiveInt = z.number().int().positive();

/** Moonshot's account tiers (platform docs, late 2026): concurrency, requests per minute, tokens per minute. */
export const MOONSHOT_TIERS: Readonly<Record<number, { concurrency: number; rpm: number; tpm: number }>> = {
  0: { concurrency: 1, rpm: 3, tpm: 500_000 },
  1: { concurrency: 50, rpm: 200, tpm: 2_000_000 },
  2: { concurrency: 100, rpm: 500, tpm: 3_000_000 },
  3: { concurrency: 200, rpm: 5_000, tpm: 3_000_000 },
  4: { concurrency: 400, rpm: 5_000, tpm: 4_000_000 },
  5: { concurrency: 1_000, rpm: 10_000, tpm: 5_000_000 },
};
export const TIER_IDS: readonly number[] = Object.keys(MOONSHOT_TIERS).map(Number);

/** `provider.limits` in a template, `limits.<KEY>` in settings: a tier, and/or numbers that override it. */
export const ProviderLimits = z.strictObject({
  tier: z
    .number()
    .int()
    .refine((n) => n in MOONSHOT_TIERS, { message: `a Moonshot tier, one of ${TIER_IDS.join(', ')}` })
    .optional(),
  concurrency: positiveInt.optional(),
  rpm: positiveInt.optional(),
  tpm: positiveInt.optional(),
});
export type ProviderLimits = z.infer<typeof ProviderLimits>;

/** Limits after the tier is applied; null: no limit of that kind. */
export const EffectiveLimits = z.object({ concurrency: positiveInt.nullable(), rpm: positiveInt.nullable(), tpm: positiveInt.nullable() });
export type EffectiveLimits = z.infer<typeof EffectiveLimits>;

export const NO_LIMITS: EffectiveLimits = { concurrency: null, rpm: null, tpm: null };

/** A tier's numbers, overridden field by field by the explicit ones. */
export function effectiveLimits(l: ProviderLimits | undefined | null): EffectiveLimits {
  const tier = l?.tier !== undefined ? MOONSHOT_TIERS[l.tier] : undefined;
  return {
    concurrency: l?.concurrency ?? tier?.concurrency ?? null,
    rpm: l?.rpm ?? tier?.rpm ?? null,
    tpm: l?.tpm ?? tier?.tpm ?? null,
  };
}

/** What the governor does for one provider key (named by the variable the key comes from, never its value). */
export const GovernorKey = z.object({
  key: z.string(),
  limits: EffectiveLimits,
  inFlight: z.number().int(),
  /** Requests started and tokens counted over the last minute. */
  rpm: z.number().int(),
  tpm: z.number().int(),
  /** Requests waiting for a slot. */
  queued: z.number().int(),
  /** The provider's own 429 paused this key until then (ISO time), or null. */
  pausedUntil: z.string().nullable(),
});
export type GovernorKey = z.infer<typeof GovernorKey>;
