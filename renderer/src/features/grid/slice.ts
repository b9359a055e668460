// The grid: which session has the keyboard, focus mode, and each run's tile layout (the order the user dragged and the
// tiles pinned to the front — the one part of the store kept in this origin's storage, see store/index.ts).
import type { SliceCreator } from '../../store/slice.ts';
import { type RunLayout, arrange, moveBefore } from './layout.ts';

export interface GridSlice {
  /** The session whose terminal has the keyboard. */
  focusedId: string | null;
  /** Focus mode: the focused session large, the others as a strip. */
  focusMode: boolean;
  focus(sessionId: string | null, mode?: boolean): void;
  setFocusMode(on: boolean): void;
  /** Tile layout per run id. */
  layoutByRun: Record<string, RunLayout>;
  moveTile(runId: string, shown: string[], dragged: string, before: string): void;
  togglePin(runId: string, id: string): void;
}

export const createGridSlice: SliceCreator<GridSlice> = (set) => ({
  focusedId: null,
  focusMode: false,
  focus: (focusedId, mode) => set((s) => ({ focusedId, focusMode: mode ?? s.focusMode })),
  setFocusMode: (focusMode) => set({ focusMode }),
  layoutByRun: {},
  moveTile: (runId, shown, dragged, before) =>
    set((s) => {
      const cur = s.layoutByRun[runId] ?? { order: [], pinned: [] };
      const order = moveBefore(arrange(shown, cur), dragged, before);
      // A pinned tile dragged among the others stays pinned; the pinned keep their relative order.
      const pinned = order.filter((id) => cur.pinned.includes(id));
      return { layoutByRun: { ...s.layoutByRun, [runId]: { order, pinned } } };
    }),
  togglePin: (runId, id) =>
    set((s) => {
      const cur = s.layoutByRun[runId] ?? { order: [], pinned: [] };
      const pinned = cur.pinned.includes(id) ? cur.pinned.filter((x) => x !== id) : [...cur.pinned, id];
      return { layoutByRun: { ...s.layoutByRun, [runId]: { ...cur, pinned } } };
    }),
});
