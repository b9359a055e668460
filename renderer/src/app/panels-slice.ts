// Which side panel is open (one at a time, beside the grid); the panels themselves are listed in panels.tsx.
import type { SliceCreator } from '../store/slice.ts';

export interface PanelsSlice {
  /** The open panel's id (spend, conflicts, review, settings), or null. */
  panel: string | null;
  togglePanel(id: string): void;
  showPanel(id: string | null): void;
}

export const createPanelsSlice: SliceCreator<PanelsSlice> = (set) => ({
  panel: null,
  togglePanel: (id) => set((s) => ({ panel: s.panel === id ? null : id })),
  showPanel: (panel) => set({ panel }),
});
