// What the UI may ask of where it runs (desktop or browser): one interface, implemented by desktop.ts and browser.ts.
import type { AppCommand, EngineEndpoint } from '../../../electron/shared/ipc.ts';

export interface Platform {
  readonly kind: 'desktop' | 'browser';
  /** The engine to talk to: from the desktop app, or from the page URL (?token=…). Null when there is none. */
  endpoint(): Promise<EngineEndpoint | null>;
  /** A native folder picker, where there is one. */
  readonly pickFolder: (() => Promise<string | null>) | null;
  /** An OS notification; false when the platform has none (the page shows its own notice instead). */
  notify(title: string, body: string, sessionId?: string): boolean;
  /** The dock / taskbar badge (desktop); a browser has the window title only. */
  setBadge(count: number): void;
  /** A click on an OS notification asks to focus this session. */
  onFocusSession(cb: (sessionId: string) => void): () => void;
  /** Opens a folder in the OS file manager; null when the platform cannot (the page shows the path instead). */
  readonly openFolder: ((path: string) => Promise<void>) | null;
  /**
   * Where a provider key typed into Settings is kept. 'engine': the engine stores it (its data dir, 0600). 'desktop':
   * the desktop app keeps it encrypted and the engine holds it in memory only.
   */
  readonly keyStore: 'engine' | 'desktop';
  /** Desktop only: keeps a key encrypted (OS key store); false when it cannot. */
  keepProviderKey(name: string, value: string): Promise<boolean>;
  /** Desktop only: starts the data dir's engine again after it died; null in a browser (run `flotilla open` there). */
  readonly restartEngine: (() => Promise<boolean>) | null;
  /** The app menu's commands (desktop); answers the unsubscribe. A browser has no menu: never called there. */
  onAppCommand(cb: (command: AppCommand) => void): () => void;
  /** The side panel open last time (desktop: kept with the window's bounds; browser: this origin's storage). */
  rememberedPanel(): Promise<string | null>;
  rememberPanel(panel: string | null): void;
  /** Opens an http(s) link in the OS browser (desktop: through the main process's checked opener). */
  openExternal(url: string): void;
}
