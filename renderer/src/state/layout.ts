// The grid's layout per run: the tile order the user dragged and the tiles pinned to the front, remembered in this
// origin's storage (the engine keeps its address while it runs, so a reload or a reopened window finds it again).
import { create } from 'zustand';
import { createJSONStorage, persist } from 'zustand/middleware';

export interface RunLayout {
  /** Session ids in the order the user left them. */
  order: string[];
  /** Pinned session ids: first in the grid, in this order. */
  pinned: string[];
}

interface LayoutState {
  byRun: Record<string, RunLayout>;
  move(runId: string, ids: string[], dragged: string, before: string): void;
  togglePin(runId: string, id: string): void;
}

/** The tiles in the order shown: pinned first, then the saved order, then new sessions in slot order. */
export function arrange(ids: readonly string[], layout: RunLayout | undefined): string[] {
  if (!layout) return [...ids];
  const known = new Set(ids);
  const pinned = layout.pinned.filter((id) => known.has(id));
  const rest = layout.order.filter((id) => known.has(id) && !pinned.includes(id));
  const fresh = ids.filter((id) => !pinned.includes(id) && !rest.includes(id));
  return [...pinned, ...rest, ...fresh];
}

/** `dragged` moved to just before `before` (both in `shown`, the order on screen). */
export function moveBefore(shown: readonly string[], dragged: string, before: string): string[] {
  if (dragged === before) return [...shown];
  const out = shown.filter((id) => id !== dragged);
  const at = out.indexOf(before);
  // Dropped on a tile further along: it goes after it (the tile the user dropped on moves towards the gap).
  const from = shown.indexOf(dragged);
  const to = shown.indexOf(before);
  out.splice(at + (from < to ? 1 : 0), 0, dragged);
  return out;
}

export const useLayout = create<LayoutState>()(
  persist(
    (set) => ({
      byRun: {},
      move: (runId, shown, dragged, before) =>
        set((s) => {
          const cur = s.byRun[runId] ?? { order: [], pinned: [] };
          const order = moveBefore(arrange(shown, cur), dragged, before);
          // A pinned tile dragged among the others stays pinned; the pinned keep their relative order.
          const pinned = order.filter((id) => cur.pinned.includes(id));
          return { byRun: { ...s.byRun, [runId]: { order, pinned } } };
        }),
      togglePin: (runId, id) =>
        set((s) => {
          const cur = s.byRun[runId] ?? { order: [], pinned: [] };
          const pinned = cur.pinned.includes(id) ? cur.pinned.filter((x) => x !== id) : [...cur.pinned, id];
          return { byRun: { ...s.byRun, [runId]: { ...cur, pinned } } };
        }),
    }),
    { name: 'flotilla.layout', storage: createJSONStorage(() => localStorage) },
  ),
);
