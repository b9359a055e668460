// Launch: the dialog that starts a run from a template (Ctrl+Shift+L).
import type { AppCommandDef } from '../../keys/registry.ts';
import { useStore } from '../../store/index.ts';

export const launchCommand: AppCommandDef = {
  id: 'run.launch',
  title: 'Launch sessions…',
  category: 'Run',
  keys: 'Mod+Shift+L',
  run: () => useStore.getState().setLaunchOpen(true),
};
