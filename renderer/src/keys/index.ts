// App-wide keys through the one registry (registry.ts). Only Ctrl+Shift chords (Cmd on macOS) are the app's: the
// terminals hand those back (attachCustomKeyEventHandler) and every other key — Esc, Ctrl+C, Ctrl+L, Ctrl+J, Ctrl+R,
// arrows, Tab — goes to the focused agent, in the grid and in focus mode alike. This folder maps chords to commands
// only: the commands live with their features and reach it through setCommandSource (app/commands.ts).
import type { UiSettings } from '../../../electron/shared/contract.ts';
import { type AppCommandDef, Keymap } from './registry.ts';

export { Keymap, isMac, type AppCommandDef } from './registry.ts';

let source: () => AppCommandDef[] = () => [];
let overrides: UiSettings['keybindings'] = {};
// Built on first use (the command list reads the store and the features, which are loaded by then).
let keymap: Keymap | null = null;

/** Where the commands come from (app/commands.ts sets it once, at start). */
export function setCommandSource(commands: () => AppCommandDef[]): void {
  source = commands;
  keymap = null;
}

/** The registry in use (the palette and the shortcut sheet read it). */
export function currentKeymap(): Keymap {
  keymap ??= new Keymap(source(), overrides ?? {});
  return keymap;
}

/** Settings' ui.keybindings over the defaults; answers what could not apply. */
export function applyKeybindings(o: UiSettings['keybindings']): string[] {
  overrides = o ?? {};
  keymap = new Keymap(source(), overrides);
  return keymap.problems;
}

export function isAppKey(e: KeyboardEvent): boolean {
  return currentKeymap().commandFor(e) !== null;
}

/**
 * Runs the command a key event is bound to. `modalOpen`: a modal (launch dialog, palette) keeps its keys, except the
 * palette toggling itself; `pasteInTerminal`: the browser's own paste event carries the text to the terminal.
 */
export function handleGlobalKey(e: KeyboardEvent, ctx: { modalOpen: boolean; terminalFocused: boolean }): void {
  const c = currentKeymap().commandFor(e);
  if (!c) return;
  if (ctx.modalOpen && c.id !== 'palette.open') return;
  e.stopPropagation();
  // Paste: the browser's own paste event carries the text to the terminal (no clipboard permission needed).
  if (c.id === 'terminal.paste' && ctx.terminalFocused) return;
  e.preventDefault();
  if (c.enabled && !c.enabled()) return;
  void c.run();
}
