// The few native helpers the Electron preload exposes, one channel per message (no raw ipcRenderer in the page).
export const IpcChannels = {
  endpoint: 'flotilla:endpoint',
  pickFolder: 'flotilla:pick-folder',
  notify: 'flotilla:notify',
  openPath: 'flotilla:open-path',
  setProviderKey: 'flotilla:set-provider-key',
  restartEngine: 'flotilla:restart-engine',
  /** main → page: run an app command (a menu item was picked). */
  command: 'flotilla:command',
  panel: 'flotilla:panel',
  /** main → page: a notification was clicked; focus that session's tile. */
  focusSession: 'flotilla:focus-session',
  badge: 'flotilla:badge',
  setPanel: 'flotilla:set-panel',
} as const;

/** What the app menu asks the page to do. */
export type AppCommand = 'preferences' | 'launch' | 'palette' | 'grid';

import type { EngineEndpoint } from './client.ts';

export type { EngineEndpoint };

/** What `window.flotilla` offers in the desktop app; absent in a plain browser. */
export interface DesktopBridge {
  endpoint(): Promise<EngineEndpoint | null>;
  pickFolder(): Promise<string | null>;
  /** An OS notification; a click on it brings the window up and focuses `sessionId`'s tile. */
  notify(title: string, body: string, sessionId?: string): Promise<void>;
  /** Sessions that need you: the dock / taskbar badge. */
  setBadge(count: number): Promise<void>;
  onFocusSession(cb: (sessionId: string) => void): () => void;
  openPath(path: string): Promise<string>;
  setProviderKey(name: string, value: string): Promise<boolean>;
  /** Starts the data dir's engine again after it died (the page reloads on the new engine). */
  restartEngine(): Promise<boolean>;
  /** Menu items the page runs; answers the unsubscribe. */
  onCommand(cb: (command: AppCommand) => void): () => void;
  /** The side panel open when the window last closed (kept with the window's size and position). */
  panel(): Promise<string | null>;
  setPanel(panel: string | null): Promise<void>;
}
