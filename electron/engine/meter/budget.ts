// Budgets that cannot be overshot (LiteLLM's model): before a request is forwarded it reserves its worst case — the
// prompt estimated from the body, all of it at the uncached input price, plus the output it may produce (its
// max_tokens, capped) at the output price — on the session's and the run's budget; when its usage arrives the
// reservation is replaced by the exact cost. A request is admitted only when what is spent and reserved plus its own
// reservation fits every budget it counts against; otherwise it is held (holds.ts). Pure figures, no I/O.
import type { BudgetAlert, HeldInfo } from '../../shared/contract.ts';
import { cost, estimateUsage, liveUsd, runSnapshot, type InFlight, type RunState, type SessionState } from './figures.ts';

/**
 * Output tokens a reservation counts at most. Claude Code asks for max_tokens 32 000 on every turn but its turns are
 * a few hundred to a few thousand tokens; reserving all 32 000 would hold a session with a dollar left. An answer
 * longer than this is the reservation's error, reconciled when the usage arrives.
 */
export const RESERVE_OUTPUT_CAP = 4_096;

export function reservationUsd(run: RunState, model: string | null, promptTokens: number, maxTokens: number | null): number {
  const outputTokens = Math.min(maxTokens ?? RESERVE_OUTPUT_CAP, RESERVE_OUTPUT_CAP);
  return cost(run, model, { inputTokens: promptTokens, cacheReadTokens: 0, cacheWriteTokens: 0, outputTokens }).usd;
}

/** What a request in flight counts against budgets: its reservation, or what it has already cost if that is more. */
function flightUsd(s: SessionState, f: InFlight): number {
  return Math.max(f.reservedUsd, cost(s.run, f.model, estimateUsage(f)).usd);
}

/** Spent (settled rows) and reserved (requests in flight) by a session. */
export function committedUsd(s: SessionState): number {
  let usd = s.settled.usd;
  for (const f of s.inFlight) usd += flightUsd(s, f);
  return usd;
}

function runCommittedUsd(run: RunState): number {
  let usd = 0;
  for (const s of run.sessions) usd += committedUsd(s);
  return usd;
}

export type BudgetBlock = Omit<HeldInfo, 'since' | 'requests' | 'until'>;

/** Null when a request reserving `neededUsd` fits the session's and the run's budgets; else the budget in the way. */
export function budgetBlock(s: SessionState, neededUsd: number): BudgetBlock | null {
  const budget = s.info.budgetUsd;
  if (budget !== null) {
    const committed = committedUsd(s);
    if (committed + neededUsd > budget) return { scope: 'session', budgetUsd: budget, committedUsd: committed, neededUsd };
  }
  const rBudget = s.run.info.budgetUsd;
  if (rBudget !== null) {
    const committed = runCommittedUsd(s.run);
    if (committed + neededUsd > rBudget) return { scope: 'run', budgetUsd: rBudget, committedUsd: committed, neededUsd };
  }
  return null;
}

const d = (n: number) => `$${n < 1 ? n.toFixed(4) : n.toFixed(2)}`;

/** What the user reads while a request is held (the tile, the Spend panel). */
export function heldDetail(b: BudgetBlock): string {
  const whose = b.scope === 'session' ? "this session's" : "the run's";
  return `over budget — ${whose} ${d(b.budgetUsd)} budget (${d(b.committedUsd)} spent and reserved) cannot cover the next request (~${d(b.neededUsd)}): raise it or decline`;
}

export type HoldEnd = 'timeout' | 'declined' | 'stopped' | 'shutdown';

const ENDS: Record<HoldEnd, string> = {
  timeout: 'nobody raised it in time',
  declined: 'the raise was declined in Flotilla',
  stopped: 'the session was stopped',
  shutdown: 'Flotilla shut down',
};

/** The error the agent shows when a held request is answered instead of forwarded (it does not retry a 402). */
export function budgetRefusalMessage(b: BudgetBlock, end: HoldEnd): string {
  const whose = b.scope === 'session' ? "this session's" : "the run's";
  const how =
    b.scope === 'session'
      ? 'Raise the session budget in Flotilla (Spend → Raise budget, the tile, or `raiseBudget`) and send your message again.'
      : 'Raise the run budget in Flotilla (Spend → Raise budget, or `raiseBudget`) and send your message again.';
  return `Flotilla: ${whose} budget of ${d(b.budgetUsd)} is used up (${d(b.committedUsd)} spent and reserved; the next request needs ~${d(b.neededUsd)}) and ${ENDS[end]}. ${how}`;
}

/** The 80 % alerts a session's spend (and its run's) has reached since the last look; each is given once. */
export function dueBudgetAlerts(s: SessionState): BudgetAlert[] {
  const alerts: BudgetAlert[] = [];
  const budget = s.info.budgetUsd;
  if (budget !== null && !s.warned80) {
    const sUsd = liveUsd(s).usd;
    if (sUsd >= 0.8 * budget) {
      s.warned80 = true;
      alerts.push({ scope: 'session', id: s.info.sessionId, level: 80, usd: sUsd, budgetUsd: budget });
    }
  }
  const run = s.run;
  const rBudget = run.info.budgetUsd;
  if (rBudget !== null && !run.warned80) {
    const rUsd = runSnapshot(run).usd;
    if (rUsd >= 0.8 * rBudget) {
      run.warned80 = true;
      alerts.push({ scope: 'run', id: run.info.runId, level: 80, usd: rUsd, budgetUsd: rBudget });
    }
  }
  return alerts;
}
