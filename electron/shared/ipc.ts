// The few native helpers the Electron preload exposes, one channel per message (no raw ipcRenderer in the page).
export const IpcChannels = {
  endpoint: 'flotilla:endpoint',
  pickFolder: 'flotilla:pick-folder',
  notify: 'flotilla:notify',
  openPath: 'flotilla:open-path',
  setProviderKey: 'flotilla:set-provider-key',
  restartEngine: 'flotilla:restart-engine',
} as const;

import type { EngineEndpoint } from './client.ts';

export type { EngineEndpoint };

/** What `window.flotilla` offers in the desktop app; absent in a plain browser. */
export interface DesktopBridge {
  endpoint(): Promise<EngineEndpoint | null>;
  pickFolder(): Promise<string | null>;
  notify(title: string, body: string): Promise<void>;
  openPath(path: string): Promise<string>;
  setProviderKey(name: string, value: string): Promise<boolean>;
  /** Starts the data dir's engine again after it died (the page reloads on the new engine). */
  restartEngine(): Promise<boolean>;
}
