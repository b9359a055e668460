// App-wide keys. Terminals hand these back (attachCustomKeyEventHandler) so an agent's tile never swallows them.
import { selectCurrentSessions, useStore } from '../state/index.ts';
import { terminals } from '../terminal/index.ts';
import { needsYou } from '../components/format.ts';
import { usePanels } from '../components/panels/index.tsx';
import type { AppCommand } from '../../../electron/shared/ipc.ts';

type Action = { kind: 'slot'; n: number } | { kind: 'nextNeedsYou' } | { kind: 'launch' } | { kind: 'grid' };

function actionOf(e: KeyboardEvent): Action | null {
  const mod = e.ctrlKey || e.metaKey;
  if (mod && !e.altKey && !e.shiftKey) {
    if (/^Digit[1-9]$/.test(e.code)) return { kind: 'slot', n: Number(e.code.slice(5)) };
    if (e.code === 'KeyJ') return { kind: 'nextNeedsYou' };
    if (e.code === 'KeyL') return { kind: 'launch' };
  }
  // Esc leaves focus mode. In the grid it belongs to the agent (Claude Code interrupts on Esc).
  if (e.key === 'Escape' && !mod && useStore.getState().focusMode && !useStore.getState().launchOpen) return { kind: 'grid' };
  return null;
}

export function isAppKey(e: KeyboardEvent): boolean {
  return actionOf(e) !== null;
}

/** Focuses a session: its tile is highlighted and its terminal gets the keyboard. */
export function focusSession(id: string, focusMode?: boolean): void {
  useStore.getState().focus(id, focusMode);
  // After React has moved the terminal (focus mode re-parents it).
  requestAnimationFrame(() => terminals.focus(id));
}

export function handleGlobalKey(e: KeyboardEvent): void {
  const a = actionOf(e);
  if (!a) return;
  const st = useStore.getState();
  if (st.launchOpen && a.kind !== 'launch') return;
  e.preventDefault();
  e.stopPropagation();
  const sessions = selectCurrentSessions(st);
  switch (a.kind) {
    case 'slot': {
      const s = sessions.find((x) => x.slot === a.n) ?? sessions[a.n - 1];
      if (s) focusSession(s.id, true);
      break;
    }
    case 'nextNeedsYou': {
      const waiting = sessions.filter((x) => needsYou(x.status));
      if (!waiting.length) break;
      const at = sessions.findIndex((x) => x.id === st.focusedId);
      const next = sessions.slice(at + 1).find((x) => needsYou(x.status)) ?? waiting[0]!;
      focusSession(next.id);
      break;
    }
    case 'launch':
      st.setLaunchOpen(true);
      break;
    case 'grid':
      backToGrid();
      break;
  }
}

function backToGrid(): void {
  const st = useStore.getState();
  st.setFocusMode(false);
  const id = st.focusedId;
  if (id) requestAnimationFrame(() => terminals.focus(id));
}

/** An app menu item (desktop): the same actions as the keys. */
export function runAppCommand(c: AppCommand): void {
  const st = useStore.getState();
  switch (c) {
    case 'preferences':
      usePanels.getState().show('settings');
      break;
    case 'launch':
      st.setLaunchOpen(true);
      break;
    case 'grid':
      backToGrid();
      break;
    case 'palette':
      break;
  }
}
