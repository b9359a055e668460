// The palette's own commands: open it (Ctrl+Shift+P), or its '?' mode, the shortcut sheet.
import type { AppCommandDef } from '../../keys/registry.ts';
import { useStore } from '../../store/index.ts';

export function paletteCommands(): AppCommandDef[] {
  return [
    {
      id: 'palette.open',
      title: 'Command palette',
      category: 'View',
      keys: 'Mod+Shift+P',
      hidden: true,
      run: () => useStore.getState().setPalette('commands'),
    },
    { id: 'palette.shortcuts', title: 'Keyboard shortcuts', category: 'Help', run: () => useStore.getState().setPalette('shortcuts') },
  ];
}
