// Runs and their sessions, as the engine last reported them.
import type { HostView, RunInfo, SessionInfo } from '../../../../electron/shared/contract.ts';
import type { SliceCreator } from '../../store/slice.ts';

export interface RunsSlice {
  runs: Map<string, RunInfo>;
  sessions: Map<string, SessionInfo>;
  /** The run the grid shows: the one launched last (or the newest known at connect). */
  currentRunId: string | null;
  upsertRun(run: RunInfo): void;
  upsertSessions(sessions: SessionInfo[]): void;
  setCurrentRun(runId: string | null): void;
  /** Everything the engine knows, after a (re)connect: the current run stays current if it still exists. */
  loadRuns(runs: RunInfo[], sessions: SessionInfo[]): void;
  /** Other machines whose runs are in the grid (Settings → Hosts), by name, with their connection states. */
  hosts: Map<string, HostView>;
  setHosts(list: HostView[]): void;
  upsertHost(host: HostView): void;
}

export const createRunsSlice: SliceCreator<RunsSlice> = (set) => ({
  runs: new Map(),
  sessions: new Map(),
  currentRunId: null,
  hosts: new Map(),
  setHosts: (list) => set({ hosts: new Map(list.map((h) => [h.name, h])) }),
  upsertHost: (host) => set((s) => ({ hosts: new Map(s.hosts).set(host.name, host) })),
  upsertRun: (run) =>
    set((s) => {
      const isNew = !s.runs.has(run.id);
      const runs = new Map(s.runs).set(run.id, run);
      // A run launched while we watch (this window, the CLI, the demo) becomes the one the grid shows.
      const fresh = isNew && (run.state === 'launching' || run.state === 'running');
      return { runs, currentRunId: fresh ? run.id : (s.currentRunId ?? run.id) };
    }),
  upsertSessions: (list) =>
    set((s) => {
      if (list.length === 0) return {};
      const sessions = new Map(s.sessions);
      for (const x of list) sessions.set(x.id, x);
      return { sessions };
    }),
  setCurrentRun: (currentRunId) => set({ currentRunId }),
  loadRuns: (runList, sessionList) =>
    set((s) => {
      const runs = new Map(s.runs);
      for (const r of runList) runs.set(r.id, r);
      const sessions = new Map(s.sessions);
      for (const x of sessionList) sessions.set(x.id, x);
      const newest = [...runList].sort((a, b) => b.startedAt.localeCompare(a.startedAt))[0] ?? null;
      const currentRunId = s.currentRunId && runs.has(s.currentRunId) ? s.currentRunId : (newest?.id ?? null);
      return { runs, sessions, currentRunId };
    }),
});

/** Sessions of the current run, by slot. */
export function selectCurrentSessions(s: Pick<RunsSlice, 'sessions' | 'currentRunId'>): SessionInfo[] {
  const out: SessionInfo[] = [];
  for (const x of s.sessions.values()) if (x.runId === s.currentRunId) out.push(x);
  return out.sort((a, b) => a.slot - b.slot);
}
