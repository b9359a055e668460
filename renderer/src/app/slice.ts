// The window's own state: the connection to the engine and the toast (a short message about the last action).
import type { EngineHealth } from '../../../electron/shared/contract.ts';
import type { ConnectionStatus } from '../transport/index.ts';
import type { SliceCreator } from '../store/slice.ts';

export interface AppSlice {
  connection: ConnectionStatus;
  /** A short message about the last action ("Stopped session 3", an error), cleared after a few seconds. */
  toast: { text: string; kind: 'info' | 'error'; at: number } | null;
  /** The engine's own health (its disk), as it last said. */
  health: EngineHealth | null;
  setHealth(h: EngineHealth): void;
  say(text: string, kind?: 'info' | 'error'): void;
  setConnection(c: ConnectionStatus): void;
}

export const createAppSlice: SliceCreator<AppSlice> = (set) => ({
  connection: { state: 'connecting', error: null, attempt: 0 },
  toast: null,
  health: null,
  setHealth: (health) => set({ health }),
  say: (text, kind = 'info') => set({ toast: { text, kind, at: Date.now() } }),
  setConnection: (connection) => set({ connection }),
});
