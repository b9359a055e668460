// The meter's live figures reach clients as events, each kind at most every few hundred ms however fast responses
// stream: per session (spend), per run (runSpend), and the rate governor's view.
import type { EngineEvent, GovernorKey } from '../../shared/contract.ts';
import { type RunState, type SessionState, runSnapshot, sessionSnapshot } from './figures.ts';

/** Spend events per session at most this often (the UI redraws a few times a second at most). */
const SPEND_EVENT_INTERVAL_MS = 250;
/** The governor's view is pushed to clients at most this often. */
const GOVERNOR_EVENT_INTERVAL_MS = 500;

export class ThrottledEvents {
  private governorTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly emit: (e: EngineEvent) => void,
    private readonly governorViews: () => GovernorKey[],
  ) {}

  governor(): void {
    if (this.governorTimer) return;
    this.governorTimer = setTimeout(() => {
      this.governorTimer = null;
      this.emit({ type: 'event', event: 'governor', keys: this.governorViews() });
    }, GOVERNOR_EVENT_INTERVAL_MS);
  }

  /** The session's spend changed (and so its run's). */
  spend(s: SessionState): void {
    this.runSpend(s.run);
    if (s.emitTimer) return;
    s.emitTimer = setTimeout(() => {
      s.emitTimer = null;
      this.emit({ type: 'event', event: 'spend', spend: sessionSnapshot(s) });
    }, SPEND_EVENT_INTERVAL_MS);
  }

  runSpend(run: RunState): void {
    if (run.emitTimer) return;
    run.emitTimer = setTimeout(() => {
      run.emitTimer = null;
      this.emit({ type: 'event', event: 'runSpend', spend: runSnapshot(run) });
    }, SPEND_EVENT_INTERVAL_MS);
  }

  /** A run leaves the meter: its pending events are dropped (its figures are final; clients have them). */
  forget(run: RunState): void {
    for (const s of run.sessions) if (s.emitTimer) clearTimeout(s.emitTimer), (s.emitTimer = null);
    if (run.emitTimer) clearTimeout(run.emitTimer);
    run.emitTimer = null;
  }

  close(sessions: Iterable<SessionState>, runs: Iterable<RunState>): void {
    for (const s of sessions) if (s.emitTimer) clearTimeout(s.emitTimer);
    for (const r of runs) if (r.emitTimer) clearTimeout(r.emitTimer);
    if (this.governorTimer) clearTimeout(this.governorTimer);
  }
}
