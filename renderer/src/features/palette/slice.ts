// The command palette: closed, listing commands, or in '?' mode showing the shortcut sheet.
import type { SliceCreator } from '../../store/slice.ts';

export interface PaletteSlice {
  palette: null | 'commands' | 'shortcuts';
  setPalette(p: null | 'commands' | 'shortcuts'): void;
}

export const createPaletteSlice: SliceCreator<PaletteSlice> = (set) => ({
  palette: null,
  setPalette: (palette) => set({ palette }),
});
