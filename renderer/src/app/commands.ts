// Every command of the app, gathered from the features in the order the palette lists them, and handed to the key
// registry (keys/ maps chords to these; it imports no feature). Also the desktop app menu's commands.
import type { AppCommand } from '../../../electron/shared/ipc.ts';
import { gridCommands, slotCommands } from '../features/grid/commands.ts';
import { launchCommand } from '../features/launch/commands.ts';
import { paletteCommands } from '../features/palette/commands.ts';
import { logsCommand, runCommands, sessionCommands } from '../features/runs/commands.ts';
import { terminalCommands } from '../features/terminal/commands.ts';
import { terminals } from '../features/terminal/index.ts';
import { currentKeymap, handleGlobalKey, setCommandSource } from '../keys/index.ts';
import type { AppCommandDef } from '../keys/registry.ts';
import { useStore } from '../store/index.ts';
import { PANELS } from './panels.tsx';

export function appCommands(): AppCommandDef[] {
  const [openPalette, shortcuts] = paletteCommands();
  return [
    openPalette!,
    shortcuts!,
    launchCommand,
    ...slotCommands(),
    ...gridCommands(),
    ...sessionCommands(),
    ...terminalCommands(),
    ...runCommands(),
    ...PANELS.map((p) => ({
      id: `panel.${p.id}`,
      title: `${p.label} panel`,
      category: 'View',
      run: () => useStore.getState().togglePanel(p.id),
    })),
    logsCommand,
  ];
}

setCommandSource(appCommands);

/** An app menu item (desktop): the same commands as the keys. */
export function runAppCommand(c: AppCommand): void {
  if (c === 'preferences') return useStore.getState().showPanel('settings');
  const id = { launch: 'run.launch', palette: 'palette.open', grid: 'view.grid' }[c];
  void currentKeymap().get(id)?.run();
}

/** The window's keydown listener (capture phase): app chords run their command, every other key reaches the agent. */
export function onGlobalKey(e: KeyboardEvent): void {
  handleGlobalKey(e, {
    modalOpen: useStore.getState().launchOpen || document.querySelector('dialog[open]') !== null,
    terminalFocused: terminals.focusedSessionId !== null,
  });
}
