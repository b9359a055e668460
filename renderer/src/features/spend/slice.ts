// Spend per session and per run, and each session's spend over time (the Spend panel's chart): seeded from the
// run's ledger when the run is loaded — so it survives a reload — then appended to by every live spend update.
import {
  BILLED_USAGE_STATES,
  type BudgetAlert,
  type GovernorKey,
  type LedgerRow,
  type RunSpend,
  type SessionSpend,
} from '../../../../electron/shared/contract.ts';
import type { SliceCreator } from '../../store/slice.ts';

export interface SpendPoint {
  t: number;
  usd: number;
}

/** Points kept per session (the chart is a few hundred pixels wide). */
const MAX_POINTS = 600;

export interface SpendSlice {
  spend: Map<string, SessionSpend>;
  runSpend: Map<string, RunSpend>;
  /** Cumulative dollars over time, per session. */
  history: Map<string, SpendPoint[]>;
  applySpend(sessions: SessionSpend[], runs: RunSpend[]): void;
  /** Replaces the history of a run's sessions with what its ledger says (cumulative, in the order requests ended). */
  seedHistory(rows: LedgerRow[]): void;
  /** The rate governor per provider key (limits, what runs, what waits). */
  governor: GovernorKey[];
  setGovernor(keys: GovernorKey[]): void;
  /** The latest budget alert (80 %: a notice; 100 %: the session is held), for notifications. */
  budgetAlert: { alert: BudgetAlert; n: number } | null;
  noteBudgetAlert(a: BudgetAlert): void;
}

function append(list: SpendPoint[], p: SpendPoint): SpendPoint[] {
  const last = list[list.length - 1];
  if (last && last.usd === p.usd) return list;
  const next = [...list, p];
  return next.length > MAX_POINTS ? next.slice(next.length - MAX_POINTS) : next;
}

/** Each session's cumulative spend from its ledger rows (billed ones only: open rows are estimates). */
function historyFromLedger(rows: readonly LedgerRow[]): Map<string, SpendPoint[]> {
  const billed = rows
    .filter((r) => BILLED_USAGE_STATES.includes(r.state))
    .map((r) => ({ r, t: Date.parse(r.endedAt ?? r.startedAt) }))
    .sort((a, b) => a.t - b.t);
  const out = new Map<string, SpendPoint[]>();
  const sums = new Map<string, number>();
  for (const { r, t } of billed) {
    const usd = (sums.get(r.sessionId) ?? 0) + r.usd;
    sums.set(r.sessionId, usd);
    out.set(r.sessionId, append(out.get(r.sessionId) ?? [], { t, usd }));
  }
  return out;
}

export const createSpendSlice: SliceCreator<SpendSlice> = (set) => ({
  spend: new Map(),
  runSpend: new Map(),
  history: new Map(),
  governor: [],
  setGovernor: (keys) => set({ governor: keys }),
  budgetAlert: null,
  noteBudgetAlert: (alert) => set((s) => ({ budgetAlert: { alert, n: (s.budgetAlert?.n ?? 0) + 1 } })),
  applySpend: (list, runList) =>
    set((s) => {
      const out: Partial<SpendSlice> = {};
      if (list.length) {
        const spend = new Map(s.spend);
        const history = new Map(s.history);
        const now = Date.now();
        for (const x of list) {
          spend.set(x.sessionId, x);
          history.set(x.sessionId, append(history.get(x.sessionId) ?? [], { t: now, usd: x.usd }));
        }
        out.spend = spend;
        out.history = history;
      }
      if (runList.length) {
        const runSpend = new Map(s.runSpend);
        for (const x of runList) runSpend.set(x.runId, x);
        out.runSpend = runSpend;
      }
      return out;
    }),
  seedHistory: (rows) =>
    set((s) => {
      const seeded = historyFromLedger(rows);
      if (seeded.size === 0) return {};
      const history = new Map(s.history);
      for (const [id, points] of seeded) {
        // Live points newer than the ledger's last row stay (they are the estimate of what streams now).
        const last = points[points.length - 1]!.t;
        const live = (s.history.get(id) ?? []).filter((p) => p.t > last);
        history.set(id, live.reduce(append, points));
      }
      return { history };
    }),
});
