// What the UI shows around the terminals (their bytes never pass through the store): the find bar's session.
import type { SliceCreator } from '../../store/slice.ts';

export interface TerminalSlice {
  /** The session whose terminal shows the find bar. */
  findIn: string | null;
  setFindIn(sessionId: string | null): void;
}

export const createTerminalSlice: SliceCreator<TerminalSlice> = (set) => ({
  findIn: null,
  setFindIn: (findIn) => set({ findIn }),
});
