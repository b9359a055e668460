// The terminals feature: the window's xterm instances (one per session, managed outside React), their frame scheduler,
// WebGL lease, themes and tools (find bar, context menu). The public face of the folder.
import { platform } from '../../platform/index.ts';
import { useStore } from '../../store/index.ts';
import { engine } from '../../transport/index.ts';
import { TerminalManager } from './manager.ts';

export { TerminalManager, type TerminalPrefs } from './manager.ts';
export { DARK_THEME, LIGHT_THEME } from './themes.ts';
export type { FlotillaDebugHooks } from './debug.ts';

/** The window's terminals. Those of sessions that leave the view (another run is shown) are disposed. */
export const terminals = new TerminalManager(engine, {
  onFocus: (id) => {
    if (useStore.getState().focusedId !== id) useStore.getState().focus(id);
  },
  openLink: (url) => platform.openExternal(url),
});

/** Disposes the terminals of sessions that leave the view (another run is shown); returns the unsubscribe. */
export function disposeTerminalsOutOfView(): () => void {
  return useStore.subscribe((s, prev) => {
    if (s.currentRunId === prev.currentRunId && s.sessions === prev.sessions) return;
    terminals.retain((id) => s.sessions.get(id)?.runId === s.currentRunId);
  });
}
