// Settings → Interface applied to the window: terminal font size, screen-reader mode, grid scrollback, the theme
// (following the OS unless chosen) and the user's keybindings. Loaded at every connect and after every save.
import type { UiSettings } from '../../electron/shared/contract.ts';
import { settings as settingsApi } from './api/index.ts';
import { terminals } from './terminal/index.ts';
import { DEFAULT_BACKGROUND_MS } from './terminal/scheduler.ts';

let chosen: UiSettings['theme'] = 'system';
// The key registry registers how it takes overrides (keys/ imports this module, not the other way round).
let applyKeys: (o: UiSettings['keybindings']) => string[] = () => [];
let problems: string[] = [];

export function onKeybindings(apply: (o: UiSettings['keybindings']) => string[]): void {
  applyKeys = apply;
}

/** The keybinding overrides that could not apply the last time (the Settings panel lists them). */
export function keybindingProblems(): string[] {
  return problems;
}
const media = typeof window !== 'undefined' && window.matchMedia ? window.matchMedia('(prefers-color-scheme: light)') : null;

function effectiveTheme(): 'dark' | 'light' {
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
  chosen = u.theme ?? 'system';
  terminals.setPrefs({ fontSize: u.terminalFontSize ?? 12, screenReader: u.screenReader ?? false, gridScrollback: u.gridScrollback ?? 1000, renderer: u.terminalRenderer ?? 'auto',
    backgroundRefreshMs: u.backgroundRefreshMs ?? DEFAULT_BACKGROUND_MS,
  });
  applyTheme();
  problems = applyKeys(u.keybindings);
  return problems;
}

/** Loads settings and applies their interface part (at connect). */
export async function loadUi(): Promise<void> {
  try {
    applyUi((await settingsApi.load()).settings.ui);
  } catch {
    applyTheme();
  }
}
