// The UI's one store: every feature's slice combined (zustand's slices pattern), middleware on the combined store only.
// Maps are replaced on every update, never mutated, so selectors comparing with Object.is see changes. Terminal output
// never comes through here. The grid's tile layout is the one part kept in this origin's storage.
import { create } from 'zustand';
import { createJSONStorage, persist } from 'zustand/middleware';
import { type AppSlice, createAppSlice } from '../app/slice.ts';
import { type PanelsSlice, createPanelsSlice } from '../app/panels-slice.ts';
import { type GridSlice, createGridSlice } from '../features/grid/slice.ts';
import { type LaunchSlice, createLaunchSlice } from '../features/launch/slice.ts';
import { type PaletteSlice, createPaletteSlice } from '../features/palette/slice.ts';
import { type ReviewSlice, createReviewSlice } from '../features/review/slice.ts';
import { type RunsSlice, createRunsSlice } from '../features/runs/slice.ts';
import { type SettingsSlice, createSettingsSlice } from '../features/settings/slice.ts';
import { type SpendSlice, createSpendSlice } from '../features/spend/slice.ts';
import { type TerminalSlice, createTerminalSlice } from '../features/terminal/slice.ts';
import { type DialogsSlice, createDialogsSlice } from '../ui/dialogs-slice.ts';

export type FlotillaState = AppSlice &
  PanelsSlice &
  DialogsSlice &
  RunsSlice &
  GridSlice &
  TerminalSlice &
  LaunchSlice &
  PaletteSlice &
  SpendSlice &
  ReviewSlice &
  SettingsSlice;

/** What is kept across reloads, under the key and in the shape the grid layout always had ({byRun}). */
interface Persisted {
  byRun?: GridSlice['layoutByRun'];
}

export const useStore = create<FlotillaState>()(
  persist(
    (set, get) => ({
      ...createAppSlice(set, get),
      ...createPanelsSlice(set, get),
      ...createDialogsSlice(set, get),
      ...createRunsSlice(set, get),
      ...createGridSlice(set, get),
      ...createTerminalSlice(set, get),
      ...createLaunchSlice(set, get),
      ...createPaletteSlice(set, get),
      ...createSpendSlice(set, get),
      ...createReviewSlice(set, get),
      ...createSettingsSlice(set, get),
    }),
    {
      name: 'flotilla.layout',
      storage: createJSONStorage(() => localStorage),
      partialize: (s): Persisted => ({ byRun: s.layoutByRun }),
      merge: (persisted, current) => ({ ...current, layoutByRun: (persisted as Persisted | undefined)?.byRun ?? current.layoutByRun }),
    },
  ),
);
