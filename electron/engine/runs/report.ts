// The `flotilla run --json` report: each session's final state, spend and changed files, the run's warnings and totals.
import type { RunReport } from '../../shared/contract.ts';
import { providerTable } from '../../shared/provider-table.ts';
import type { Meter, SpendLedger } from '../meter/index.ts';
import type { RunRegistry } from './registry.ts';
import { slotModel } from './scheduler.ts';

export interface ReportSources {
  registry: RunRegistry;
  ledger: SpendLedger;
  /** Live compat counts (this engine's): a session it never metered reports none. */
  meter: Meter;
  review: {
    /** Lets the change watchers catch up with the last writes (a report is a final word). */
    settle(runId: string): Promise<void>;
    changedPaths(runId: string, sessionId: string): Promise<string[]>;
    conflicts(runId: string): { path: string; sessions: string[]; kind: RunReport['conflicts'][number]['kind'] }[];
  };
  /** Merged, pushed and the merge plan position of each session. */
  landing: { states(runId: string): Promise<Map<string, { merged: boolean; pushed: boolean; planPosition: number | null }>> };
}

export async function runReport(src: ReportSources, runId: string): Promise<RunReport> {
  const run = src.registry.runInfo(runId);
  const sessions = src.registry.listSessions(runId);
  const totals = src.ledger.totals({ runId });
  const template = src.registry.template(runId);
  await src.review.settle(runId);
  const landing = await src.landing.states(runId);
  return {
    run: { id: run.id, name: run.name, startedAt: run.startedAt, endedAt: run.endedAt },
    sessions: await Promise.all(
      sessions.map(async (s) => {
        const t = src.ledger.totals({ sessionId: s.id });
        return {
          id: s.id,
          slot: s.slot,
          task: s.task,
          status: s.status,
          exitCode: s.exitCode,
          branch: s.branch,
          worktree: s.worktree,
          model: slotModel(template, s.slot),
          spend: {
            usd: t.usd,
            inputTokens: t.inputTokens,
            cacheReadTokens: t.cacheReadTokens,
            outputTokens: t.outputTokens,
            requests: t.requests,
          },
          compat: (src.meter.sessionSpend(s.id)?.compat ?? []).map(({ rule, count }) => ({ rule, count })),
          changedFiles: await src.review.changedPaths(runId, s.id),
          ...(landing.get(s.id) ?? { merged: false, pushed: false, planPosition: null }),
        };
      }),
    ),
    conflicts: src.review.conflicts(runId).map((w) => ({ path: w.path, sessions: w.sessions, kind: w.kind })),
    totals: { usd: totals.usd, requests: totals.requests },
    ...(template.providers ? { providers: providerTable(src.ledger.rows(runId)) } : {}),
  };
}
