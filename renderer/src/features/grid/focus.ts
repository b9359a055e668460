// Which session has the keyboard: focusing one highlights its tile and gives its terminal the keys.
import type { SessionInfo } from '../../../../electron/shared/contract.ts';
import { useStore } from '../../store/index.ts';
import { terminals } from '../terminal/index.ts';

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

/** The focused session, if there is one. */
export function focusedSession(): SessionInfo | null {
  const id = useStore.getState().focusedId;
  return id ? (useStore.getState().sessions.get(id) ?? null) : null;
}

export const hasFocused = (): boolean => focusedSession() !== null;
