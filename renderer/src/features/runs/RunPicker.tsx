// The run picker in the header: live runs first, then history from the store (state, spend, age). Picking an ended
// run shows its tiles with their last screens, its review and its spend; Stop run and Clean run sit beside it.
import { useEffect, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { RunInfo } from '../../../../electron/shared/contract.ts';
import { runs as runsApi } from '../../api/index.ts';
import { runActions } from './actions.ts';
import { useStore } from '../../store/index.ts';
import { loadRun } from '../../store/sync.ts';
import { usd } from '../../ui/format.ts';

const live = (r: RunInfo) => r.state === 'launching' || r.state === 'running';

export function age(iso: string, now = Date.now()): string {
  const s = Math.max(0, (now - Date.parse(iso)) / 1000);
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86_400)} d ago`;
}

export function orderRuns(list: RunInfo[]): RunInfo[] {
  return [...list].sort((a, b) => Number(live(b)) - Number(live(a)) || b.startedAt.localeCompare(a.startedAt));
}

export function RunPicker() {
  const runs = useStore(useShallow((s) => orderRuns([...s.runs.values()])));
  const current = useStore((s) => s.currentRunId);
  const setCurrentRun = useStore((s) => s.setCurrentRun);
  const [totals, setTotals] = useState(new Map<string, number>());
  // A live run's spend as the header shows it (the engine's runSpend events); the ledger's totals for the others.
  const runSpend = useStore((s) => s.runSpend);
  const spentOf = (r: RunInfo): number | undefined => (live(r) ? runSpend.get(r.id)?.usd : undefined) ?? totals.get(r.id);

  // The ledger's figures, fetched when the list changes (a run started or ended).
  const key = runs.map((r) => `${r.id}:${r.state}`).join(',');
  useEffect(() => {
    runsApi
      .totals()
      .then((t) => setTotals(new Map(t.map((x) => [x.runId, x.usd]))))
      .catch(() => {});
  }, [key]);

  if (runs.length === 0) return null;
  const run = runs.find((r) => r.id === current);
  // With runs on other machines: what each machine's runs spent, and all of them together.
  const perHost = new Map<string, number>();
  for (const r of runs) perHost.set(r.host ?? 'this machine', (perHost.get(r.host ?? 'this machine') ?? 0) + (spentOf(r) ?? 0));
  return (
    <div className="run-picker">
      <select
        data-testid="run-picker"
        aria-label="Run shown in the grid"
        value={current ?? ''}
        onChange={(e) => {
          setCurrentRun(e.target.value);
          void loadRun(e.target.value).catch(() => {});
        }}
      >
        {runs.map((r) => (
          <option key={r.id} value={r.id} data-testid={`run-option-${r.id}`}>
            {r.name}
            {r.host ? ` on ${r.host}` : ''} · {r.state} · {spentOf(r) === undefined ? '…' : usd(spentOf(r)!)} · {age(r.startedAt)}
          </option>
        ))}
      </select>
      {runs.some((r) => r.host) && (
        <span className="dim small host-spend" data-testid="host-spend" title="Spend of the runs listed, per machine">
          {[...perHost].map(([h, v]) => `${h} ${usd(v)}`).join(' · ')} · total {usd([...perHost.values()].reduce((a, b) => a + b, 0))}
        </span>
      )}
      {run && live(run) && (
        <button className="btn small" data-testid="run-stop" onClick={() => void runActions.stop(run.id)}>
          Stop run
        </button>
      )}
      {run && !live(run) && (
        <button className="btn small" data-testid="run-clean" onClick={() => void runActions.clean(run.id)}>
          Clean run
        </button>
      )}
    </div>
  );
}
