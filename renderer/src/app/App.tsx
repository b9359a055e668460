import { useEffect, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { SessionStatus } from '../../../electron/shared/contract.ts';
import { runs } from '../api/index.ts';
import { currentKeymap } from '../keys/index.ts';
import { onGlobalKey, runAppCommand } from './commands.ts';
import { loadUi } from '../features/settings/prefs.ts';
import { Dialogs } from '../ui/Dialogs.tsx';
import { Palette } from '../features/palette/Palette.tsx';
import { RunPicker } from '../features/runs/RunPicker.tsx';
import { Toast } from '../features/terminal/TerminalTools.tsx';
import { useStore } from '../store/index.ts';
import { selectCurrentSessions } from '../features/runs/slice.ts';
import { platform } from '../platform/index.ts';
import { Grid } from '../features/grid/Grid.tsx';
import { InterruptedBar } from '../features/grid/Interrupted.tsx';
import { LaunchDialog } from '../features/launch/LaunchDialog.tsx';
import { PANELS, PanelButtons, SidePanel } from './panels.tsx';
import { Notifications } from './Notifications.tsx';
import { STATUS_LABEL, STATUS_ORDER, needsYou, pct, usd } from '../ui/format.ts';

function Header() {
  const run = useStore((s) => (s.currentRunId ? s.runs.get(s.currentRunId) : undefined));
  const spend = useStore((s) => (s.currentRunId ? s.runSpend.get(s.currentRunId) : undefined));
  const statuses = useStore(useShallow((s) => selectCurrentSessions(s).map((x) => x.status)));
  const connection = useStore((s) => s.connection);
  const setLaunchOpen = useStore((s) => s.setLaunchOpen);
  const counts = new Map<SessionStatus, number>();
  for (const st of statuses) counts.set(st, (counts.get(st) ?? 0) + 1);
  const budgetUsed = spend?.budgetUsd ? spend.usd / spend.budgetUsd : null;

  return (
    <header className="app-head">
      <div className="brand">Flotilla</div>
      <div className="run-name" title={run ? `${run.repo} @ ${run.base} · ${run.model}` : undefined}>
        {run ? <RunPicker /> : 'no run'}
        {run && <span className={`run-state run-${run.state}`}>{run.state}</span>}
      </div>
      <div className="counts">
        {STATUS_ORDER.filter((s) => counts.has(s)).map((s) => (
          <span key={s} className={`count badge-${s}`} data-testid={`count-${s}`}>
            {counts.get(s)} {STATUS_LABEL[s]}
          </span>
        ))}
      </div>
      <div className="spacer" />
      {spend && spend.savingsUsd !== 0 && (
        <div className="savings" title={`Same tokens on ${spend.referenceModel}: ${usd(spend.referenceUsd)}`}>
          saved {usd(spend.savingsUsd)} <span className="dim">vs {spend.referenceModel}</span>
        </div>
      )}
      {budgetUsed != null && (
        <div
          className={`budget${budgetUsed >= 1 ? ' over' : budgetUsed >= 0.8 ? ' warn' : ''}`}
          title={`Run budget ${usd(spend!.budgetUsd!)}`}
        >
          budget {pct(budgetUsed)}
          <span className="bar">
            <span style={{ width: `${Math.min(100, budgetUsed * 100)}%` }} />
          </span>
        </div>
      )}
      <div className="total-spend" data-testid="header-spend" title={spend ? `${spend.requests} requests` : undefined}>
        {usd(spend?.usd ?? 0)}
        {spend && spend.estimateUsd > 0 && (
          <span className="estimate-mark" title={`${usd(spend.estimateUsd)} still streaming — an estimate`}>
            est.
          </span>
        )}
      </div>
      {connection.state !== 'open' && (
        <div className="conn" title={connection.error ?? undefined}>
          {connection.state === 'connecting' ? 'connecting…' : 'offline'}
        </div>
      )}
      <PanelButtons />
      <button
        className="btn icon"
        data-testid="palette-button"
        aria-label="Command palette"
        title={`Command palette (${currentKeymap().keysOf('palette.open') ?? ''})`}
        onClick={() => useStore.getState().setPalette('commands')}
      >
        ⌘
      </button>
      <button
        className="btn primary"
        data-testid="launch-button"
        onClick={() => setLaunchOpen(true)}
        title={`Launch a run (${currentKeymap().keysOf('run.launch') ?? ''})`}
      >
        Launch
      </button>
    </header>
  );
}

function EmptyState() {
  const connection = useStore((s) => s.connection);
  const setLaunchOpen = useStore((s) => s.setLaunchOpen);
  const [demoError, setDemoError] = useState<string | null>(null);
  const [demoBusy, setDemoBusy] = useState(false);

  const tryDemo = async () => {
    setDemoBusy(true);
    setDemoError(null);
    try {
      await runs.demo();
    } catch (err) {
      setDemoError((err as Error).message);
    } finally {
      setDemoBusy(false);
    }
  };

  return (
    <div className="empty" data-testid="empty-state">
      {connection.state !== 'open' && connection.error ? (
        <p className="error">{connection.error}</p>
      ) : (
        <>
          <p className="empty-title">No sessions yet — Launch (Ctrl+L)</p>
          <div className="empty-actions">
            <button className="btn primary" onClick={() => setLaunchOpen(true)}>
              Launch…
            </button>
            <button className="btn" data-testid="demo-button" disabled={demoBusy} onClick={tryDemo}>
              {demoBusy ? 'Starting the demo…' : 'Try the demo'}
            </button>
          </div>
          {demoError && (
            <p className="error" data-testid="demo-error">
              {demoError}
            </p>
          )}
        </>
      )}
    </div>
  );
}

/** The engine stopped answering after it had answered: say so over the grid (the tiles keep their last screens). */
function EngineDown() {
  const connection = useStore((s) => s.connection);
  const count = useStore((s) => s.sessions.size);
  const [busy, setBusy] = useState(false);
  if (connection.state === 'open' || !connection.error || count === 0) return null;
  return (
    <div className="engine-down" data-testid="engine-down">
      <span>{connection.error}</span>
      {platform.restartEngine && (
        <button
          className="btn small primary"
          disabled={busy}
          onClick={() => {
            setBusy(true);
            void platform.restartEngine!().finally(() => setBusy(false));
          }}
        >
          {busy ? 'Restarting…' : 'Restart engine'}
        </button>
      )}
    </div>
  );
}

/** The engine's disk is full: what is held, and what to do (it resumes by itself once space returns). */
function DiskFull() {
  const disk = useStore((s) => s.health?.disk);
  if (!disk?.full) return null;
  const kept = disk.pendingWrites > 0 ? ` ${disk.pendingWrites} record write(s) wait in memory.` : '';
  const held = disk.heldRequests > 0 ? ` ${disk.heldRequests} model request(s) held.` : '';
  return (
    <div className="engine-down disk-full" data-testid="disk-full" role="alert">
      <span>
        {disk.message}.{held}
        {kept} Free some space there: everything resumes by itself.
      </span>
    </div>
  );
}

export function App() {
  const count = useStore((s) => selectCurrentSessions(s).length);
  const waiting = useStore((s) => {
    let n = 0;
    for (const x of s.sessions.values()) if (needsYou(x.status)) n++;
    return n;
  });
  const launchOpen = useStore((s) => s.launchOpen);

  useEffect(() => {
    document.title = waiting > 0 ? `(${waiting}) Flotilla` : 'Flotilla';
    platform.setBadge(waiting);
  }, [waiting]);

  useEffect(() => {
    window.addEventListener('keydown', onGlobalKey, true);
    return () => window.removeEventListener('keydown', onGlobalKey, true);
  }, []);

  // Settings → Interface (font, theme, keybindings), at every connect.
  const connected = useStore((s) => s.connection.state === 'open');
  useEffect(() => {
    if (connected) void loadUi();
  }, [connected]);

  // The app menu's items, and the side panel open last time (remembered as it changes).
  useEffect(() => platform.onAppCommand(runAppCommand), []);
  useEffect(() => {
    let live = true;
    void platform.rememberedPanel().then((p) => {
      if (live && p && PANELS.some((x) => x.id === p) && useStore.getState().panel === null) useStore.getState().showPanel(p);
    });
    const off = useStore.subscribe((s, prev) => {
      if (s.panel !== prev.panel) platform.rememberPanel(s.panel);
    });
    return () => {
      live = false;
      off();
    };
  }, []);

  return (
    <div className="app">
      <Header />
      <div className="app-body">
        <main className="main">
          <EngineDown />
          <DiskFull />
          {count > 0 && <InterruptedBar />}
          {count > 0 ? <Grid /> : <EmptyState />}
        </main>
        <SidePanel />
        <Notifications />
      </div>
      {launchOpen && <LaunchDialog />}
      <Palette />
      <Dialogs />
      <Toast />
    </div>
  );
}
