// Every command of the app, with its default keys: what the palette lists and the keys trigger. Session commands act on
// the focused session; run commands on the run shown.
import { isFinalStatus } from '../../../electron/shared/contract.ts';
import { PANELS, usePanels } from '../components/panels/index.tsx';
import { needsYou } from '../components/format.ts';
import { selectCurrentSessions, useStore } from '../state/index.ts';
import { terminals } from '../terminal/index.ts';
import { openLogs, runActions, sessionActions, sessionOf } from './actions.ts';
import type { AppCommandDef } from './registry.ts';

/** Focuses a session: its tile is highlighted and its terminal gets the keyboard. */
export function focusSession(id: string, focusMode?: boolean): void {
  useStore.getState().focus(id, focusMode);
  // After React has moved the terminal (focus mode re-parents it).
  requestAnimationFrame(() => terminals.focus(id));
}

export function backToGrid(): void {
  const st = useStore.getState();
  st.setFocusMode(false);
  const id = st.focusedId;
  if (id) requestAnimationFrame(() => terminals.focus(id));
}

const focused = () => sessionOf(useStore.getState().focusedId);
const hasFocused = () => focused() !== null;
const currentRun = () => useStore.getState().currentRunId;

function onFocused(title: string, id: string, f: (typeof sessionActions)[keyof typeof sessionActions], extra: Partial<AppCommandDef> = {}): AppCommandDef {
  return {
    id,
    title,
    category: 'Session',
    enabled: hasFocused,
    run: () => {
      const s = focused();
      if (s) return f(s);
    },
    ...extra,
  };
}

function fontSize(delta: number | null): void {
  const next = delta === null ? 12 : Math.max(8, Math.min(32, terminals.fontSize + delta));
  terminals.setPrefs({ fontSize: next });
  useStore.getState().say(`Terminal font ${next} px`);
}

export function appCommands(): AppCommandDef[] {
  const slots: AppCommandDef[] = Array.from({ length: 9 }, (_, i) => ({
    id: `session.focus${i + 1}`,
    title: `Focus session ${i + 1}`,
    category: 'Session',
    keys: `Mod+Shift+${i + 1}`,
    enabled: () => selectCurrentSessions(useStore.getState()).length > i,
    run: () => {
      const list = selectCurrentSessions(useStore.getState());
      const s = list.find((x) => x.slot === i + 1) ?? list[i];
      if (s) focusSession(s.id, true);
    },
  }));
  return [
    { id: 'palette.open', title: 'Command palette', category: 'View', keys: 'Mod+Shift+P', hidden: true, run: () => useStore.getState().setPalette('commands') },
    { id: 'palette.shortcuts', title: 'Keyboard shortcuts', category: 'Help', run: () => useStore.getState().setPalette('shortcuts') },
    { id: 'run.launch', title: 'Launch sessions…', category: 'Run', keys: 'Mod+Shift+L', run: () => useStore.getState().setLaunchOpen(true) },
    ...slots,
    {
      id: 'session.nextNeedsYou',
      title: 'Next session that needs you',
      category: 'Session',
      keys: 'Mod+Shift+J',
      run: () => {
        const st = useStore.getState();
        const sessions = selectCurrentSessions(st);
        const waiting = sessions.filter((x) => needsYou(x.status));
        if (!waiting.length) return st.say('No session needs you');
        const at = sessions.findIndex((x) => x.id === st.focusedId);
        const next = sessions.slice(at + 1).find((x) => needsYou(x.status)) ?? waiting[0]!;
        focusSession(next.id);
      },
    },
    { id: 'view.grid', title: 'Back to the grid', category: 'View', keys: 'Mod+Shift+G', enabled: () => useStore.getState().focusMode, run: backToGrid },
    {
      id: 'view.focusMode',
      title: 'Focus mode for this session',
      category: 'View',
      enabled: hasFocused,
      run: () => {
        const s = focused();
        if (s) focusSession(s.id, true);
      },
    },
    onFocused('Stop session', 'session.stop', sessionActions.stop, { enabled: () => !!focused() && !isFinalStatus(focused()!.status) }),
    onFocused('Restart session', 'session.restart', sessionActions.restart),
    onFocused('Resume session (Claude Code: its conversation goes on)', 'session.resume', sessionActions.resume, { enabled: () => !!focused()?.agentSessionId }),
    onFocused('Raise budget…', 'session.raiseBudget', sessionActions.raiseBudget),
    onFocused('Review session', 'session.review', sessionActions.review),
    onFocused('Open in editor', 'session.openEditor', sessionActions.openEditor),
    onFocused('Open terminal here', 'session.openTerminal', sessionActions.openTerminal),
    onFocused('Open worktree folder', 'session.openFolder', sessionActions.openFolder),
    onFocused('Copy worktree path', 'session.copyPath', sessionActions.copyPath),
    onFocused('Discard session…', 'session.discard', sessionActions.discard),
    { id: 'terminal.copy', title: 'Copy selection', category: 'Terminal', keys: 'Mod+Shift+C', enabled: hasFocused, run: () => copyFocused() },
    // The browser's own paste (Ctrl+Shift+V pastes plain text) reaches the terminal: the key only has to pass xterm.
    { id: 'terminal.paste', title: 'Paste', category: 'Terminal', keys: 'Mod+Shift+V', enabled: hasFocused, run: () => pasteFocused() },
    {
      id: 'terminal.find',
      title: 'Find in terminal',
      category: 'Terminal',
      keys: 'Mod+Shift+F',
      enabled: hasFocused,
      run: () => useStore.getState().setFindIn(useStore.getState().focusedId),
    },
    { id: 'terminal.selectAll', title: 'Select all in terminal', category: 'Terminal', keys: 'Mod+Shift+A', enabled: hasFocused, run: () => terminals.selectAll(focused()!.id) },
    { id: 'terminal.clear', title: 'Clear terminal', category: 'Terminal', enabled: hasFocused, run: () => terminals.clear(focused()!.id) },
    { id: 'terminal.fontBigger', title: 'Bigger terminal font', category: 'Terminal', keys: 'Mod+Shift+=', run: () => fontSize(1) },
    { id: 'terminal.fontSmaller', title: 'Smaller terminal font', category: 'Terminal', keys: 'Mod+Shift+-', run: () => fontSize(-1) },
    { id: 'terminal.fontReset', title: 'Reset terminal font size', category: 'Terminal', keys: 'Mod+Shift+0', run: () => fontSize(null) },
    { id: 'run.stop', title: 'Stop run…', category: 'Run', enabled: () => currentRun() !== null, run: () => runActions.stop(currentRun()!) },
    { id: 'run.clean', title: 'Clean run (remove worktrees)…', category: 'Run', enabled: () => currentRun() !== null, run: () => runActions.clean(currentRun()!) },
    { id: 'run.pick', title: 'Switch run…', category: 'Run', keys: 'Mod+Shift+O', run: () => document.querySelector<HTMLSelectElement>('[data-testid="run-picker"]')?.focus() },
    ...PANELS.map((p) => ({ id: `panel.${p.id}`, title: `${p.label} panel`, category: 'View', run: () => usePanels.getState().toggle(p.id) })),
    { id: 'app.logs', title: 'Open logs', category: 'Help', run: openLogs },
  ];
}

async function copyFocused(): Promise<void> {
  const s = focused();
  if (!s) return;
  try {
    if (!(await terminals.copySelection(s.id))) useStore.getState().say('Nothing selected in the terminal');
  } catch (err) {
    useStore.getState().say(`Cannot copy: ${(err as Error).message}`, 'error');
  }
}

async function pasteFocused(): Promise<void> {
  const s = focused();
  if (!s) return;
  try {
    terminals.paste(s.id, await navigator.clipboard.readText());
  } catch (err) {
    useStore.getState().say(`Cannot paste: ${(err as Error).message} — use the terminal's context menu or your system's paste`, 'error');
  }
}
