// Settings → Interface applied to the window: terminal font size, screen-reader mode, grid scrollback, the theme
// (following the OS unless chosen) and the user's keybindings. Loaded at every connect and after every save; what the
// window applied (the theme chosen, the keybinding overrides that could not apply) is kept in the settings slice.
import type { UiSettings } from '../../../../electron/shared/contract.ts';
import { TerminalLimits } from '../../../../electron/shared/limits.ts';
import { settings as settingsApi } from '../../api/index.ts';
import { applyKeybindings } from '../../keys/index.ts';
import { useStore } from '../../store/index.ts';
import { terminals } from '../terminal/index.ts';

const media = typeof window !== 'undefined' && window.matchMedia ? window.matchMedia('(prefers-color-scheme: light)') : null;

function effectiveTheme(): 'dark' | 'light' {
  const chosen = useStore.getState().themeChoice;
  if (chosen === 'dark' || chosen === 'light') return chosen;
  return media?.matches ? 'light' : 'dark';
}

function applyTheme(): void {
  const t = effectiveTheme();
  document.documentElement.dataset.theme = t;
  terminals.setPrefs({ theme: t });
}
media?.addEventListener('change', applyTheme);

/** Applies the interface settings; answers the keybinding overrides that could not apply (for the Settings panel). */
export function applyUi(ui: UiSettings | undefined): string[] {
  const u = ui ?? {};
  terminals.setPrefs({
    fontSize: u.terminalFontSize ?? TerminalLimits.FontSize.default,
    screenReader: u.screenReader ?? false,
    gridScrollback: u.gridScrollback ?? TerminalLimits.GridScrollback.default,
    renderer: u.terminalRenderer ?? 'auto',
    backgroundRefreshMs: u.backgroundRefreshMs ?? TerminalLimits.BackgroundRefreshMs.default,
  });
  const keybindingProblems = applyKeybindings(u.keybindings);
  useStore.getState().setInterfacePrefs({ themeChoice: u.theme ?? 'system', keybindingProblems });
  applyTheme();
  return keybindingProblems;
}

/** Loads settings and applies their interface part (at connect). */
export async function loadUi(): Promise<void> {
  try {
    applyUi((await settingsApi.load()).settings.ui);
  } catch {
    applyTheme();
  }
}
