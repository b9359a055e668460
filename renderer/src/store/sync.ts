// The engine → store link: events as they come (spend ticks batched per animation frame), and after every (re)connect
// everything the engine knows about the runs, the current run's spend (its ledger seeds the spend chart), its warnings
// and the changed files the panels were showing.
import type { EngineEvent, RunSpend, SessionSpend } from '../../../electron/shared/contract.ts';
import { engineApi, hosts, review, runs, spend } from '../api/index.ts';
import type { EngineConnection } from '../transport/index.ts';
import { useStore } from './index.ts';

/** Spend ticks arrive fast while responses stream: apply them once per animation frame. `flush` applies what waits now. */
function spendBatcher(): { queue: (s: SessionSpend | null, r: RunSpend | null) => void; flush: () => void } {
  const sessions = new Map<string, SessionSpend>();
  const runSpends = new Map<string, RunSpend>();
  let pending = false;
  const flush = () => {
    pending = false;
    if (!sessions.size && !runSpends.size) return;
    const a = [...sessions.values()];
    const b = [...runSpends.values()];
    sessions.clear();
    runSpends.clear();
    useStore.getState().applySpend(a, b);
  };
  const queue = (s: SessionSpend | null, r: RunSpend | null) => {
    if (s) sessions.set(s.sessionId, s);
    if (r) runSpends.set(r.runId, r);
    if (pending) return;
    pending = true;
    // rAF does not run in a hidden window; a timer keeps totals (and the title) fresh there.
    if (document.hidden) setTimeout(flush, 250);
    else requestAnimationFrame(flush);
  };
  return { queue, flush };
}

/** One batcher for the page: a spend overview is applied after the ticks that came before it and before those after. */
const spendTicks = spendBatcher();

function onEngineEvent(e: EngineEvent): void {
  const queueSpend = spendTicks.queue;
  const st = useStore.getState();
  switch (e.event) {
    case 'run':
      return st.upsertRun(e.run);
    case 'session':
      return st.upsertSessions([e.session]);
    case 'launchProgress':
      return st.setLaunchProgress(e.progress);
    case 'spend':
      return queueSpend(e.spend, null);
    case 'runSpend':
      return queueSpend(null, e.spend);
    case 'conflicts':
      return st.setConflicts(e.runId, e.warnings);
    case 'changes':
      return st.setChanges(e.sessionId, e.files);
    case 'watchFailed':
      return st.setWatchFailures([e.failure]);
    case 'governor':
      return st.setGovernor(e.keys);
    case 'health':
      return st.setHealth(e.health);
    case 'host':
      return st.upsertHost(e.host);
    case 'budget':
      return st.noteBudgetAlert({ scope: e.scope, id: e.id, level: e.level, usd: e.usd, budgetUsd: e.budgetUsd });
    default:
      return;
  }
}

/** Spend, spend history and warnings of a run that became current (at connect, after a launch). */
export async function loadRun(runId: string): Promise<void> {
  // The overview is applied the moment it arrives: answers and events share one ordered channel, so every tick that
  // came before it is older (applied first) and every tick after it is newer. Applied later — after the other answers —
  // it would overwrite a newer tick, e.g. hide the hold that a spend event had just shown.
  const applied = spend
    .overview(runId)
    .then((overview) => {
      spendTicks.flush();
      useStore.getState().applySpend(overview.sessions, overview.run ? [overview.run] : []);
    })
    .catch(() => {});
  const [warnings, rows] = await Promise.all([review.conflicts(runId).catch(() => null), spend.ledger(runId).catch(() => null), applied]);
  const failures = await review.watchFailures(runId).catch(() => null);
  const st = useStore.getState();
  if (rows) st.seedHistory(rows);
  if (warnings) st.setConflicts(runId, warnings);
  if (failures) st.setWatchFailures(failures);
}

/** A session's changed files (the Review panel asks when it shows a session; events keep them current after). */
export async function loadChanges(sessionId: string): Promise<void> {
  useStore.getState().setChanges(sessionId, await review.changes(sessionId));
}

async function loadAll(): Promise<void> {
  // Each answer is applied as it arrives, for the same reason as the overview in loadRun: an event after it is newer.
  const st = () => useStore.getState();
  await Promise.all([
    runs.list().then((list) => st().loadRuns(list, [])),
    runs.sessions().then((list) => st().loadRuns([], list)),
    spend.governor().then(
      (keys) => st().setGovernor(keys),
      () => {},
    ),
    engineApi.health().then(
      (h) => st().setHealth(h),
      () => {},
    ),
    hosts.list().then(
      (list) => st().setHosts(list),
      () => {},
    ),
  ]);
  const { currentRunId, changes } = useStore.getState();
  // Changes pushed while we were away were missed: fetch again what the panels show.
  await Promise.all([...changes.keys()].map((id) => loadChanges(id).catch(() => {})));
  if (currentRunId) await loadRun(currentRunId);
}

export function wireEngineToStore(conn: EngineConnection): void {
  let off: (() => void) | null = null;
  conn.onStatus((c) => useStore.getState().setConnection(c));
  conn.onClient((client) => {
    off?.();
    off = null;
    if (!client) return;
    off = client.onEvent(onEngineEvent);
    loadAll().catch((err) => console.warn('flotilla: initial load failed', err));
  });
}
