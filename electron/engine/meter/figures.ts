// The meter's in-memory state per session and run, and the figures computed from it: live dollars (settled ledger rows
// plus estimates of what streams now), the spend snapshots clients get, and what closing a row adds to the totals.
// Pure: no I/O, no timers (the Meter owns those).
import { type WindowState, newWindowState } from './window.ts';
import {
  BILLED_USAGE_STATES,
  type ApiStyle,
  type LedgerRow,
  type RunSpend,
  type SessionSpend,
  type TokenCounts,
  type EffectiveLimits,
  type HeldInfo,
  type UpstreamErrorInfo,
  zeroTokens,
} from '../../shared/contract.ts';
import type { Ticket } from './governor.ts';
import type { CompatProfile, RuleFire } from './compat/index.ts';
import type { SpendLedger } from './ledger.ts';
import { type PriceTable, referenceCost } from './prices.ts';

const zeroUsage = zeroTokens;

export interface MeteredSession {
  sessionId: string;
  runId: string;
  style: ApiStyle;
  /** The template's model, used when a request names none. */
  model: string;
  budgetUsd: number | null;
  /** The compatibility profile its requests are rewritten with (null: as sent). */
  compat?: CompatProfile | null;
  /** The provider account its requests count against in the rate governor (null: not governed). */
  rateKey?: { id: string; label: string; limits: EffectiveLimits } | null;
  /**
   * A run of several providers: each one's wire style, profile and account by its name (the proxy's route names the
   * provider of each request). Absent: every request is metered with the fields above.
   */
  providers?: Record<string, MeteredProvider>;
}

export interface MeteredProvider {
  preset: string;
  style: ApiStyle;
  compat: CompatProfile | null;
  rateKey: { id: string; label: string; limits: EffectiveLimits } | null;
}

export interface MeteredRun {
  runId: string;
  budgetUsd: number | null;
  prices: PriceTable;
  referenceModel: string;
}

export interface InFlight {
  /** Claude Code's compaction request. */
  compaction: boolean;
  /** The provider serving it: its name and preset (prices are looked up by both); null for a run of one provider. */
  provider: readonly string[] | null;
  /** Null for the one tick between forwarding and writing the row (the write is kept off the request's path). */
  rowId: number | null;
  settled: boolean;
  model: string | null;
  startedAt: number;
  firstTokenAt: number | null;
  promptTokensEstimate: number;
  usage: TokenCounts | null;
  estimatedOutputTokens: number;
  lastProgressAt: number;
  /** Its worst case, counted against the budgets until it settles (budget.ts). */
  reservedUsd: number;
  /** Its slot in the rate governor, released when it ends. */
  ticket: Ticket;
}

export interface SessionState {
  info: MeteredSession;
  run: RunState;
  inFlight: Set<InFlight>;
  /** Exact totals from the ledger, refreshed when a request closes. */
  settled: LedgerTotals;
  ttftMs: number | null;
  tokensPerSec: number | null;
  contextTokens: number | null;
  contextWindow: number | null;
  lastError: UpstreamErrorInfo | null;
  /** Compatibility rules that fired on this session's requests: how often, and the last note. */
  compat: Map<string, { count: number; last: string }>;
  warned80: boolean;
  over: boolean;
  emitTimer: NodeJS.Timeout | null;
  /** Requests held for a budget (holds.ts), and waiting for the rate governor. */
  held: HeldInfo | null;
  waiting: { requests: number; ahead: number } | null;
  /** The provider that served its last answer (runs of several providers). */
  provider?: string | null;
  /** The model's window: the estimate's correction, compactions, overflows answered here (window.ts). */
  window: WindowState;
}

export interface RunState {
  info: MeteredRun;
  sessions: Set<SessionState>;
  warned80: boolean;
  over: boolean;
  emitTimer: NodeJS.Timeout | null;
}

export type LedgerTotals = ReturnType<SpendLedger['totals']>;

/** Dollars at the price of the provider that served it (`provider`: its name and preset; none: the model's price). */
export function cost(run: RunState, model: string | null, u: TokenCounts, provider?: readonly string[]): { usd: number; priced: boolean } {
  return provider ? run.info.prices.costFor(provider, model, u) : run.info.prices.cost(model, u);
}

/** Dollars of a session: settled ledger rows plus live estimates of requests still streaming. */
export function liveUsd(s: SessionState): { usd: number; estimateUsd: number } {
  let estimateUsd = 0;
  for (const f of s.inFlight) estimateUsd += cost(s.run, f.model, estimateUsage(f), f.provider ?? undefined).usd;
  return { usd: s.settled.usd + estimateUsd, estimateUsd };
}

export function estimateUsage(f: InFlight): TokenCounts {
  const u = f.usage ?? { ...zeroUsage(), inputTokens: f.promptTokensEstimate };
  return { ...u, outputTokens: Math.max(u.outputTokens, f.estimatedOutputTokens) };
}

export function sessionSnapshot(s: SessionState): SessionSpend {
  const { usd, estimateUsd } = liveUsd(s);
  const t = s.settled;
  const live = [...s.inFlight].map((f) => estimateUsage(f));
  const sum = (k: keyof TokenCounts) => t[k] + live.reduce((a, u) => a + u[k], 0);
  const usage: TokenCounts = {
    inputTokens: sum('inputTokens'),
    cacheReadTokens: sum('cacheReadTokens'),
    cacheWriteTokens: sum('cacheWriteTokens'),
    outputTokens: sum('outputTokens'),
  };
  // Savings compare priced tokens only: tokens of an unpriced model have no K2 figure to compare against.
  const priced = [...s.inFlight].filter((f) => cost(s.run, f.model, zeroUsage()).priced).map((f) => estimateUsage(f));
  const pricedUsage: TokenCounts = {
    inputTokens: t.pricedUsage.inputTokens + priced.reduce((a, u) => a + u.inputTokens, 0),
    cacheReadTokens: t.pricedUsage.cacheReadTokens + priced.reduce((a, u) => a + u.cacheReadTokens, 0),
    cacheWriteTokens: t.pricedUsage.cacheWriteTokens + priced.reduce((a, u) => a + u.cacheWriteTokens, 0),
    outputTokens: t.pricedUsage.outputTokens + priced.reduce((a, u) => a + u.outputTokens, 0),
  };
  const referenceUsd = referenceCost(s.run.info.prices, s.run.info.referenceModel, pricedUsage);
  return {
    sessionId: s.info.sessionId,
    runId: s.info.runId,
    usd,
    estimateUsd,
    ...usage,
    // The ledger counts open rows as requests already; the live ones are counted once, from memory.
    requests: t.requests - t.openRequests + s.inFlight.size,
    unpricedTokens: t.unpricedTokens,
    referenceModel: s.run.info.referenceModel,
    referenceUsd,
    savingsUsd: referenceUsd - usd,
    budgetUsd: s.info.budgetUsd,
    inFlight: s.inFlight.size,
    ttftMs: s.ttftMs,
    tokensPerSec: s.tokensPerSec,
    contextFill: s.contextTokens !== null && s.contextWindow ? s.contextTokens / s.contextWindow : null,
    contextTokens: s.contextTokens,
    contextWindow: s.contextWindow,
    lastError: s.lastError,
    compat: [...s.compat].map(([rule, c]) => ({ rule, count: c.count, last: c.last })),
    reservedUsd: [...s.inFlight].reduce((a, f) => a + f.reservedUsd, 0),
    held: s.held,
    waiting: s.waiting,
    ...(s.provider ? { provider: s.provider } : {}),
    window: {
      compacting: s.window.compacting,
      localOverflows: s.window.localOverflows,
      trimmed: s.window.trimmed,
      compactions: s.window.compactions,
    },
  };
}

export function runSnapshot(run: RunState): RunSpend {
  const parts = [...run.sessions].map((s) => sessionSnapshot(s));
  const total = (
    k:
      | 'usd'
      | 'estimateUsd'
      | 'inputTokens'
      | 'cacheReadTokens'
      | 'cacheWriteTokens'
      | 'outputTokens'
      | 'requests'
      | 'unpricedTokens'
      | 'referenceUsd',
  ) => parts.reduce((a, p) => a + p[k], 0);
  return {
    runId: run.info.runId,
    usd: total('usd'),
    estimateUsd: total('estimateUsd'),
    inputTokens: total('inputTokens'),
    cacheReadTokens: total('cacheReadTokens'),
    cacheWriteTokens: total('cacheWriteTokens'),
    outputTokens: total('outputTokens'),
    requests: total('requests'),
    unpricedTokens: total('unpricedTokens'),
    referenceModel: run.info.referenceModel,
    referenceUsd: total('referenceUsd'),
    savingsUsd: total('referenceUsd') - total('usd'),
    budgetUsd: run.info.budgetUsd,
  };
}

const BILLED: ReadonlySet<LedgerRow['state']> = new Set(BILLED_USAGE_STATES);

/** What closing one row adds to the ledger's totals (the same sums SpendLedger.totals computes in SQL). */
/** `request`: false for an attempt that went on to another provider (the agent made one request, not two). */
export function addToTotals(
  t: LedgerTotals,
  state: LedgerRow['state'],
  u: TokenCounts,
  usd: number,
  priced: boolean,
  request = true,
): void {
  if (request) t.requests += 1;
  if (!BILLED.has(state)) return;
  t.usd += usd;
  t.inputTokens += u.inputTokens;
  t.cacheReadTokens += u.cacheReadTokens;
  t.cacheWriteTokens += u.cacheWriteTokens;
  t.outputTokens += u.outputTokens;
  if (priced) {
    t.pricedUsage.inputTokens += u.inputTokens;
    t.pricedUsage.cacheReadTokens += u.cacheReadTokens;
    t.pricedUsage.cacheWriteTokens += u.cacheWriteTokens;
    t.pricedUsage.outputTokens += u.outputTokens;
  } else {
    t.unpricedTokens += u.inputTokens + u.cacheReadTokens + u.cacheWriteTokens + u.outputTokens;
  }
}

/** Counts the compat rules that rewrote a request on the session; answers the ones that failed (to be logged). */
export function countCompatFires(s: SessionState, fires: readonly RuleFire[]): RuleFire[] {
  const failed: RuleFire[] = [];
  for (const f of fires) {
    if (f.note.startsWith('failed:')) {
      failed.push(f);
      continue;
    }
    const c = s.compat.get(f.rule);
    s.compat = new Map(s.compat).set(f.rule, { count: (c?.count ?? 0) + 1, last: f.note });
  }
  return failed;
}

/** A request admitted now (held or queued time before this is not the provider's latency). */
export function newFlight(
  model: string | null,
  promptTokensEstimate: number,
  reservedUsd: number,
  ticket: Ticket,
  provider: readonly string[] | null = null,
): InFlight {
  const now = Date.now();
  return {
    compaction: false,
    provider,
    rowId: null,
    settled: false,
    model,
    startedAt: now,
    firstTokenAt: null,
    promptTokensEstimate,
    usage: null,
    estimatedOutputTokens: 0,
    lastProgressAt: now,
    reservedUsd,
    ticket,
  };
}

/** A session's state when the meter first sees it: its totals so far from the ledger, nothing in flight. */
export function newSessionState(info: MeteredSession, run: RunState, settled: LedgerTotals): SessionState {
  return {
    info,
    run,
    inFlight: new Set(),
    settled,
    ttftMs: null,
    tokensPerSec: null,
    contextTokens: null,
    contextWindow: run.info.prices.contextWindow(info.model),
    lastError: null,
    compat: new Map(),
    warned80: false,
    over: false,
    emitTimer: null,
    held: null,
    waiting: null,
    window: newWindowState(),
  };
}
