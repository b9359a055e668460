// The terminal's commands: copy, paste, find, select all, clear, font size. They act on the focused session's terminal.
import { TerminalLimits } from '../../../../electron/shared/limits.ts';
import type { AppCommandDef } from '../../keys/registry.ts';
import { useStore } from '../../store/index.ts';
import { focusedSession, hasFocused } from '../grid/focus.ts';
import { terminals } from './index.ts';

function fontSize(delta: number | null): void {
  const { min, max } = TerminalLimits.FontSize;
  const next = delta === null ? TerminalLimits.FontSize.default : Math.max(min, Math.min(max, terminals.fontSize + delta));
  terminals.setPrefs({ fontSize: next });
  useStore.getState().say(`Terminal font ${next} px`);
}

async function copyFocused(): Promise<void> {
  const s = focusedSession();
  if (!s) return;
  try {
    if (!(await terminals.copySelection(s.id))) useStore.getState().say('Nothing selected in the terminal');
  } catch (err) {
    useStore.getState().say(`Cannot copy: ${(err as Error).message}`, 'error');
  }
}

async function pasteFocused(): Promise<void> {
  const s = focusedSession();
  if (!s) return;
  try {
    terminals.paste(s.id, await navigator.clipboard.readText());
  } catch (err) {
    useStore.getState().say(`Cannot paste: ${(err as Error).message} — use the terminal's context menu or your system's paste`, 'error');
  }
}

export function terminalCommands(): AppCommandDef[] {
  return [
    {
      id: 'terminal.copy',
      title: 'Copy selection',
      category: 'Terminal',
      keys: 'Mod+Shift+C',
      enabled: hasFocused,
      run: () => copyFocused(),
    },
    // The browser's own paste (Ctrl+Shift+V pastes plain text) reaches the terminal: the key only has to pass xterm.
    { id: 'terminal.paste', title: 'Paste', category: 'Terminal', keys: 'Mod+Shift+V', enabled: hasFocused, run: () => pasteFocused() },
    {
      id: 'terminal.find',
      title: 'Find in terminal',
      category: 'Terminal',
      keys: 'Mod+Shift+F',
      enabled: hasFocused,
      run: () => useStore.getState().setFindIn(useStore.getState().focusedId),
    },
    {
      id: 'terminal.selectAll',
      title: 'Select all in terminal',
      category: 'Terminal',
      keys: 'Mod+Shift+A',
      enabled: hasFocused,
      run: () => terminals.selectAll(focusedSession()!.id),
    },
    {
      id: 'terminal.clear',
      title: 'Clear terminal',
      category: 'Terminal',
      enabled: hasFocused,
      run: () => terminals.clear(focusedSession()!.id),
    },
    { id: 'terminal.fontBigger', title: 'Bigger terminal font', category: 'Terminal', keys: 'Mod+Shift+=', run: () => fontSize(1) },
    { id: 'terminal.fontSmaller', title: 'Smaller terminal font', category: 'Terminal', keys: 'Mod+Shift+-', run: () => fontSize(-1) },
    { id: 'terminal.fontReset', title: 'Reset terminal font size', category: 'Terminal', keys: 'Mod+Shift+0', run: () => fontSize(null) },
  ];
}
