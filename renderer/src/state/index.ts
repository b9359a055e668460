// zustand slices: sessions, spend, conflicts, ui — combined into one store. Maps are replaced on every update, never
// mutated, so selectors comparing with Object.is see changes. Spend ticks arrive fast while responses stream: they are
// collected and applied once per animation frame. Terminal output never comes through here.
import { create } from 'zustand';
import type {
  ConflictWarning,
  EngineEvent,
  LaunchProgress,
  RunInfo,
  RunSpend,
  SessionInfo,
  SessionSpend,
} from '../../../electron/shared/contract.ts';
import type { EngineClient, EngineConnection, ConnectionStatus } from '../transport/index.ts';

export interface SessionsSlice {
  runs: Map<string, RunInfo>;
  sessions: Map<string, SessionInfo>;
  /** The run the grid shows: the one launched last (or the newest known at connect). */
  currentRunId: string | null;
  upsertRun(run: RunInfo): void;
  upsertSessions(sessions: SessionInfo[]): void;
  setCurrentRun(runId: string | null): void;
}

export interface SpendSlice {
  spend: Map<string, SessionSpend>;
  runSpend: Map<string, RunSpend>;
  applySpend(sessions: SessionSpend[], runs: RunSpend[]): void;
}

export interface ConflictsSlice {
  /** Warnings by run id, as the engine last sent them (the full list each time). */
  conflicts: Map<string, ConflictWarning[]>;
  setConflicts(runId: string, warnings: ConflictWarning[]): void;
}

export interface UiSlice {
  connection: ConnectionStatus;
  /** The session whose terminal has the keyboard. */
  focusedId: string | null;
  /** Focus mode: the focused session large, the others as a strip. */
  focusMode: boolean;
  launchOpen: boolean;
  launchProgress: LaunchProgress | null;
  setConnection(c: ConnectionStatus): void;
  focus(sessionId: string | null, mode?: boolean): void;
  setFocusMode(on: boolean): void;
  setLaunchOpen(open: boolean): void;
  setLaunchProgress(p: LaunchProgress | null): void;
}

export type FlotillaState = SessionsSlice & SpendSlice & ConflictsSlice & UiSlice;

export const useStore = create<FlotillaState>()((set) => ({
  runs: new Map(),
  sessions: new Map(),
  currentRunId: null,
  upsertRun: (run) =>
    set((s) => {
      const isNew = !s.runs.has(run.id);
      const runs = new Map(s.runs);
      runs.set(run.id, run);
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

  spend: new Map(),
  runSpend: new Map(),
  applySpend: (list, runList) =>
    set((s) => {
      const out: Partial<FlotillaState> = {};
      if (list.length) {
        const spend = new Map(s.spend);
        for (const x of list) spend.set(x.sessionId, x);
        out.spend = spend;
      }
      if (runList.length) {
        const runSpend = new Map(s.runSpend);
        for (const x of runList) runSpend.set(x.runId, x);
        out.runSpend = runSpend;
      }
      return out;
    }),

  conflicts: new Map(),
  setConflicts: (runId, warnings) =>
    set((s) => {
      const conflicts = new Map(s.conflicts);
      conflicts.set(runId, warnings);
      return { conflicts };
    }),

  connection: { state: 'connecting', error: null, attempt: 0 },
  focusedId: null,
  focusMode: false,
  launchOpen: false,
  launchProgress: null,
  setConnection: (connection) => set({ connection }),
  focus: (focusedId, mode) => set((s) => ({ focusedId, focusMode: mode ?? s.focusMode })),
  setFocusMode: (focusMode) => set({ focusMode }),
  setLaunchOpen: (launchOpen) => set({ launchOpen }),
  setLaunchProgress: (launchProgress) => set({ launchProgress }),
}));

/** Sessions of the current run, by slot. */
export function selectCurrentSessions(s: FlotillaState): SessionInfo[] {
  const out: SessionInfo[] = [];
  for (const x of s.sessions.values()) if (x.runId === s.currentRunId) out.push(x);
  return out.sort((a, b) => a.slot - b.slot);
}

// ---------------------------------------------------------------------------------------------------------------------
// Spend ticks, batched per animation frame

const pendingSpend = new Map<string, SessionSpend>();
const pendingRunSpend = new Map<string, RunSpend>();
let frame = 0;

function flushSpend(): void {
  frame = 0;
  const a = [...pendingSpend.values()];
  const b = [...pendingRunSpend.values()];
  pendingSpend.clear();
  pendingRunSpend.clear();
  useStore.getState().applySpend(a, b);
}

function queueSpend(s: SessionSpend | null, r: RunSpend | null): void {
  if (s) pendingSpend.set(s.sessionId, s);
  if (r) pendingRunSpend.set(r.runId, r);
  // rAF does not run in a hidden window; a timer keeps totals (and the title) fresh there.
  if (!frame) frame = document.hidden ? (setTimeout(flushSpend, 250) as unknown as number) : requestAnimationFrame(flushSpend);
}

function onEngineEvent(e: EngineEvent): void {
  const st = useStore.getState();
  switch (e.event) {
    case 'run':
      st.upsertRun(e.run);
      break;
    case 'session':
      st.upsertSessions([e.session]);
      break;
    case 'launchProgress':
      st.setLaunchProgress(e.progress);
      break;
    case 'spend':
      queueSpend(e.spend, null);
      break;
    case 'runSpend':
      queueSpend(null, e.spend);
      break;
    case 'conflicts':
      st.setConflicts(e.runId, e.warnings);
      break;
    default:
      break;
  }
}

/** Loads what the engine knows (runs, sessions, spend, conflicts) after every (re)connect. */
async function loadAll(client: EngineClient): Promise<void> {
  const runs = (await client.call('listRuns', {})) as RunInfo[];
  const sessions = (await client.call('listSessions', {})) as SessionInfo[];
  const st = useStore.getState();
  const runMap = new Map(st.runs);
  for (const r of runs) runMap.set(r.id, r);
  const newest = [...runs].sort((a, b) => b.startedAt.localeCompare(a.startedAt))[0] ?? null;
  useStore.setState({ runs: runMap, currentRunId: st.currentRunId && runMap.has(st.currentRunId) ? st.currentRunId : (newest?.id ?? null) });
  st.upsertSessions(sessions);
  const current = useStore.getState().currentRunId;
  if (!current) return;
  const [spend, conflicts] = await Promise.all([
    client.call('spend', { runId: current }).catch(() => null) as Promise<{ run: RunSpend | null; sessions: SessionSpend[] } | null>,
    client.call('conflicts', { runId: current }).catch(() => null) as Promise<ConflictWarning[] | null>,
  ]);
  if (spend) useStore.getState().applySpend(spend.sessions, spend.run ? [spend.run] : []);
  if (conflicts) useStore.getState().setConflicts(current, conflicts);
}

export function wireEngineToStore(conn: EngineConnection): void {
  let off: (() => void) | null = null;
  conn.onStatus((c) => useStore.getState().setConnection(c));
  conn.onClient((client) => {
    off?.();
    off = null;
    if (!client) return;
    off = client.onEvent(onEngineEvent);
    loadAll(client).catch((err) => console.warn('flotilla: initial load failed', err));
  });
}

/** Loads spend and conflicts of a run that became current (e.g. after a launch). */
export async function loadRunExtras(client: EngineClient, runId: string): Promise<void> {
  const spend = (await client.call('spend', { runId }).catch(() => null)) as { run: RunSpend | null; sessions: SessionSpend[] } | null;
  if (spend) useStore.getState().applySpend(spend.sessions, spend.run ? [spend.run] : []);
  const conflicts = (await client.call('conflicts', { runId }).catch(() => null)) as ConflictWarning[] | null;
  if (conflicts) useStore.getState().setConflicts(runId, conflicts);
}
