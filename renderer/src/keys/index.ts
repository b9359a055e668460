// App-wide keys through the one registry (registry.ts, commands.ts). Only Ctrl+Shift chords (Cmd on macOS) are the
// app's: the terminals hand those back (attachCustomKeyEventHandler) and every other key — Esc, Ctrl+C, Ctrl+L, Ctrl+J,
// Ctrl+R, arrows, Tab — goes to the focused agent, in the grid and in focus mode alike.
import type { AppCommand } from '../../../electron/shared/ipc.ts';
import type { UiSettings } from '../../../electron/shared/contract.ts';
import { useStore } from '../state/index.ts';
import { usePanels } from '../components/panels/index.tsx';
import { terminals } from '../terminal/index.ts';
import { appCommands, backToGrid, focusSession } from './commands.ts';
import { Keymap } from './registry.ts';
import { onKeybindings } from '../prefs.ts';

export { focusSession, backToGrid };
export { Keymap, isMac, type AppCommandDef } from './registry.ts';

// Built on first use (the command list reads the panels, which import this module back).
let keymap: Keymap | null = null;

/** The registry in use (the palette and the shortcut sheet read it). */
export function currentKeymap(): Keymap {
  keymap ??= new Keymap(appCommands());
  return keymap;
}

/** Settings' ui.keybindings over the defaults; answers what could not apply. */
export function applyKeybindings(overrides: UiSettings['keybindings']): string[] {
  keymap = new Keymap(appCommands(), overrides ?? {});
  return keymap.problems;
}
onKeybindings(applyKeybindings);

export function isAppKey(e: KeyboardEvent): boolean {
  return currentKeymap().commandFor(e) !== null;
}

export function handleGlobalKey(e: KeyboardEvent): void {
  const c = currentKeymap().commandFor(e);
  if (!c) return;
  const st = useStore.getState();
  // A modal (launch dialog, palette) keeps its keys, except the palette toggling itself.
  if ((st.launchOpen || document.querySelector('dialog[open]')) && c.id !== 'palette.open') return;
  e.stopPropagation();
  // Paste: the browser's own paste event carries the text to the terminal (no clipboard permission needed).
  if (c.id === 'terminal.paste' && terminals.focusedSessionId) return;
  e.preventDefault();
  if (c.enabled && !c.enabled()) return;
  void c.run();
}

/** An app menu item (desktop): the same commands as the keys. */
export function runAppCommand(c: AppCommand): void {
  if (c === 'preferences') return usePanels.getState().show('settings');
  const id = { launch: 'run.launch', palette: 'palette.open', grid: 'view.grid' }[c];
  void currentKeymap().get(id)?.run();
}
