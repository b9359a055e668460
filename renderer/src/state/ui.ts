// The window's own state: the connection, which session has the keyboard, focus mode, the launch dialog.
import type { StateCreator } from 'zustand';
import type { LaunchProgress } from '../../../electron/shared/contract.ts';
import type { ConnectionStatus } from '../transport/index.ts';
import type { FlotillaState } from './store.ts';

export interface UiSlice {
  connection: ConnectionStatus;
  /** The session whose terminal has the keyboard. */
  focusedId: string | null;
  /** Focus mode: the focused session large, the others as a strip. */
  focusMode: boolean;
  launchOpen: boolean;
  launchProgress: LaunchProgress | null;
  /** The command palette; '?' mode shows the shortcut sheet. */
  palette: null | 'commands' | 'shortcuts';
  /** The session whose terminal shows the find bar. */
  findIn: string | null;
  /** The session the Review panel shows (null: the first done one). */
  reviewPick: string | null;
  /** A short message about the last action ("Stopped session 3", an error), cleared after a few seconds. */
  toast: { text: string; kind: 'info' | 'error'; at: number } | null;
  setPalette(p: null | 'commands' | 'shortcuts'): void;
  setFindIn(sessionId: string | null): void;
  setReviewPick(sessionId: string | null): void;
  say(text: string, kind?: 'info' | 'error'): void;
  setConnection(c: ConnectionStatus): void;
  focus(sessionId: string | null, mode?: boolean): void;
  setFocusMode(on: boolean): void;
  setLaunchOpen(open: boolean): void;
  setLaunchProgress(p: LaunchProgress | null): void;
}

export const createUiSlice: StateCreator<FlotillaState, [], [], UiSlice> = (set) => ({
  connection: { state: 'connecting', error: null, attempt: 0 },
  focusedId: null,
  focusMode: false,
  launchOpen: false,
  launchProgress: null,
  palette: null,
  findIn: null,
  reviewPick: null,
  toast: null,
  setPalette: (palette) => set({ palette }),
  setFindIn: (findIn) => set({ findIn }),
  setReviewPick: (reviewPick) => set({ reviewPick }),
  say: (text, kind = 'info') => set({ toast: { text, kind, at: Date.now() } }),
  setConnection: (connection) => set({ connection }),
  focus: (focusedId, mode) => set((s) => ({ focusedId, focusMode: mode ?? s.focusMode })),
  setFocusMode: (focusMode) => set({ focusMode }),
  setLaunchOpen: (launchOpen) => set({ launchOpen }),
  setLaunchProgress: (launchProgress) => set({ launchProgress }),
});
