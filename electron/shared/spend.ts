// Spend (the meter). Dollars are USD; token counts follow Anthropic's meaning: `inputTokens` is the uncached part of the
// prompt, cache reads and writes are separate (an OpenAI-style `prompt_tokens` is split into input + cacheRead).
import { z } from 'zod';

/** The wire format a provider speaks: Anthropic Messages, OpenAI Chat Completions, or OpenAI's Responses API. */
export const ApiStyle = z.enum(['anthropic', 'openai', 'responses']);
export type ApiStyle = z.infer<typeof ApiStyle>;
export const API_STYLES: readonly ApiStyle[] = ApiStyle.options;

const count = z.number().int().min(0);

/** Token figures of one or many model calls (prompt = inputTokens + cacheReadTokens + cacheWriteTokens). */
export const TokenCounts = z.object({
  inputTokens: count,
  cacheReadTokens: count,
  cacheWriteTokens: count,
  outputTokens: count,
});
export type TokenCounts = z.infer<typeof TokenCounts>;

export const zeroTokens = (): TokenCounts => ({ inputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, outputTokens: 0 });

export const UpstreamErrorKind = z.enum([
  'rate_limited',
  'overloaded',
  'out_of_balance',
  'bad_key',
  'unknown_model',
  'context_overflow',
  'budget',
  /** The host could not be reached, reset the connection or went quiet: the request did not finish. */
  'unreachable',
  /** The host's answer could not be used: malformed, or past the size limit. */
  'bad_response',
  'other',
]);
export type UpstreamErrorKind = z.infer<typeof UpstreamErrorKind>;

export const UpstreamErrorInfo = z.object({
  kind: UpstreamErrorKind,
  status: z.number().int(),
  /** The provider's error type, e.g. "rate_limit_reached_error". */
  type: z.string().nullable(),
  message: z.string(),
  at: z.string(),
  /** A rejection a compatibility rule is the known fix for: its id (see `flotilla probe`). */
  fixRule: z.string().nullable().optional(),
  /** Where the rejected request was saved (secrets removed, texts shortened), for a bug report. */
  savedAs: z.string().nullable().optional(),
  /** What Flotilla did about it (e.g. the rate governor pausing the key). */
  note: z.string().nullable().optional(),
});
export type UpstreamErrorInfo = z.infer<typeof UpstreamErrorInfo>;

/** How a ledger row's figure was obtained. */
export const UsageState = z.enum([
  'open', // request under way; figures so far are an estimate
  'exact', // usage reported by the provider
  'partial', // the stream ended before the usage arrived: what was seen
  'interrupted', // the engine died while the request was open
  'error', // the provider answered with an error (usually no tokens)
  'refused', // refused by the meter (budget) — never reached the provider
]);
export type UsageState = z.infer<typeof UsageState>;

/** Ledger states whose dollars and tokens count as spent ('open' is an estimate, 'refused' never reached the provider). */
export const BILLED_USAGE_STATES: readonly UsageState[] = ['exact', 'partial', 'interrupted', 'error'];

export const LedgerRow = TokenCounts.extend({
  id: z.number().int(),
  sessionId: z.string(),
  runId: z.string(),
  model: z.string().nullable(),
  usd: z.number(),
  /** False when the model has no price: tokens counted, dollars unknown (never a silent $0). */
  priced: z.boolean(),
  state: UsageState,
  ttftMs: z.number().nullable(),
  durationMs: z.number().nullable(),
  httpStatus: z.number().int().nullable(),
  errorType: z.string().nullable(),
  startedAt: z.string(),
  endedAt: z.string().nullable(),
  /** The provider that served it (its name in the run's `providers:`); null for a run of one provider. */
  provider: z.string().nullable(),
  /** It failed before the first byte and the request went on to another provider (the agent never saw this one). */
  failedOver: z.boolean(),
});
export type LedgerRow = z.infer<typeof LedgerRow>;

export const SpendTotals = TokenCounts.extend({
  usd: z.number(),
  /** Part of `usd` that is still an estimate (responses streaming now). */
  estimateUsd: z.number(),
  /** Billed model requests (not count_tokens, models, probes, refusals). */
  requests: z.number().int(),
  /** Tokens of models that have no price. */
  unpricedTokens: z.number().int(),
  /** What the same tokens would have cost on the reference model, and the difference. */
  referenceModel: z.string(),
  referenceUsd: z.number(),
  savingsUsd: z.number(),
  budgetUsd: z.number().nullable(),
});
export type SpendTotals = z.infer<typeof SpendTotals>;

/** A compatibility rule that rewrote a session's requests: how often, and what it did the last time. */
export const CompatCount = z.object({ rule: z.string(), count: z.number().int(), last: z.string() });
export type CompatCount = z.infer<typeof CompatCount>;

export const HeldInfo = z.object({
  scope: z.enum(['session', 'run']),
  budgetUsd: z.number(),
  /** What is spent and reserved against that budget now. */
  committedUsd: z.number(),
  /** What the held request would reserve. */
  neededUsd: z.number(),
  since: z.string(),
  requests: z.number().int(),
  /** When the hold gives up and answers the agent with the budget error (ISO time). */
  until: z.string(),
});
export type HeldInfo = z.infer<typeof HeldInfo>;

export const SessionSpend = SpendTotals.extend({
  sessionId: z.string(),
  runId: z.string(),
  inFlight: z.number().int(),
  /** Of the last completed request: time to first token, output tokens per second while streaming. */
  ttftMs: z.number().nullable(),
  tokensPerSec: z.number().nullable(),
  /** Last request's prompt tokens over the model's window (0..1), and the two numbers. */
  contextFill: z.number().nullable(),
  contextTokens: z.number().int().nullable(),
  contextWindow: z.number().int().nullable(),
  lastError: UpstreamErrorInfo.nullable(),
  /** The compatibility rules that fired on this session's requests. */
  compat: z.array(CompatCount),
  /** Dollars reserved by requests in flight (their worst case), counted against the budgets until they settle. */
  reservedUsd: z.number(),
  /** Requests held because a budget cannot cover them: which budget, since when, how many; null when none is. */
  held: HeldInfo.nullable(),
  /** Requests waiting for the rate governor, and how many of other sessions are ahead; null when none waits. */
  waiting: z.object({ requests: z.number().int(), ahead: z.number().int() }).nullable(),
  /** The provider serving the session (runs of several providers; absent or null otherwise). */
  provider: z.string().nullable().optional(),
  /** The model's window: a compaction asked for and not done yet, overflows answered before the round trip, compactions. */
  window: z
    .object({
      compacting: z.boolean(),
      localOverflows: z.number().int(),
      /** Compaction requests that had their oldest tool results left out to fit the window. */
      trimmed: z.number().int(),
      compactions: z.array(z.object({ at: z.string(), beforeTokens: z.number().int(), afterTokens: z.number().int().nullable() })),
    })
    .optional(),
});
export type SessionSpend = z.infer<typeof SessionSpend>;

export const RunSpend = SpendTotals.extend({ runId: z.string() });
export type RunSpend = z.infer<typeof RunSpend>;

/** A run's spend and each of its sessions': live for a run of this engine; `run: null` for an older run. */
export const SpendOverview = z.object({ run: RunSpend.nullable(), sessions: z.array(SessionSpend) });
export type SpendOverview = z.infer<typeof SpendOverview>;

/** What `flotilla run --json` reports per session. */
export const SpendSummary = z.object({
  usd: z.number(),
  inputTokens: count,
  cacheReadTokens: count,
  outputTokens: count,
  requests: z.number().int(),
});
export type SpendSummary = z.infer<typeof SpendSummary>;

export const BudgetScope = z.enum(['session', 'run']);
export type BudgetScope = z.infer<typeof BudgetScope>;

export const BudgetAlert = z.object({
  scope: BudgetScope,
  id: z.string(),
  /** 80: warning; 100: used up (requests it cannot cover are held until it is raised). */
  level: z.union([z.literal(80), z.literal(100)]),
  usd: z.number(),
  budgetUsd: z.number(),
});
export type BudgetAlert = z.infer<typeof BudgetAlert>;

export const EditIntent = z.object({
  sessionId: z.string(),
  /** As the tool call named it (absolute for Claude Code). */
  path: z.string(),
  tool: z.string(),
  at: z.string(),
});
export type EditIntent = z.infer<typeof EditIntent>;

export const PriceEntry = z.object({
  model: z.string(),
  /** USD per million tokens. */
  inputUsd: z.number().min(0),
  cacheReadUsd: z.number().min(0),
  /** Cache writes; K2 has no surcharge (priced as input). */
  cacheWriteUsd: z.number().min(0),
  outputUsd: z.number().min(0),
  contextWindow: z.number().int().nullable(),
  asOf: z.string(),
  source: z.string(),
  /** The provider stopped serving the model on this date (reported). */
  retiredOn: z.string().nullable().optional(),
});
export type PriceEntry = z.infer<typeof PriceEntry>;

/** The provider account's balance (Moonshot's /v1/users/me/balance), in USD. */
export const Balance = z.object({
  availableUsd: z.number(),
  cashUsd: z.number().nullable(),
  voucherUsd: z.number().nullable(),
});
export type Balance = z.infer<typeof Balance>;

/** A rejected request as saved for a bug report, and how to send it again by hand. */
export const RejectedRequest = z.object({
  at: z.string(),
  status: z.number().int(),
  message: z.string(),
  fixRule: z.string().nullable(),
  savedAs: z.string(),
  /** A curl command line resending it, with the key as an environment variable (never the key itself). */
  curl: z.string(),
});
export type RejectedRequest = z.infer<typeof RejectedRequest>;

/** A model a run may name: from the provider's own list when a key is set, else the shipped table. */
export const ModelChoice = z.object({
  id: z.string(),
  priced: z.boolean(),
  contextWindow: z.number().int().nullable(),
  retiredOn: z.string().nullable(),
});
export type ModelChoice = z.infer<typeof ModelChoice>;

export const ModelList = z.object({
  source: z.enum(['provider', 'shipped']),
  models: z.array(ModelChoice),
  /** Why the provider's list is not shown (no key, unreachable), when it is not. */
  note: z.string().nullable(),
});
export type ModelList = z.infer<typeof ModelList>;
