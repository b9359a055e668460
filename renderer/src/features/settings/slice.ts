// Settings → Interface as the window applies it: the theme chosen (or following the OS) and the keybinding overrides
// that could not apply (the Settings panel lists them).
import type { UiSettings } from '../../../../electron/shared/contract.ts';
import type { SliceCreator } from '../../store/slice.ts';

export interface SettingsSlice {
  themeChoice: NonNullable<UiSettings['theme']>;
  keybindingProblems: string[];
  setInterfacePrefs(p: { themeChoice: NonNullable<UiSettings['theme']>; keybindingProblems: string[] }): void;
}

export const createSettingsSlice: SliceCreator<SettingsSlice> = (set) => ({
  themeChoice: 'system',
  keybindingProblems: [],
  setInterfacePrefs: (p) => set(p),
});
