// Where the UI runs: the desktop app (Electron, through the preload's bridge) or a plain browser tab on the engine's
// URL. One interface, two implementations (after Tabby's PlatformService); the rest of the UI never asks which.
import type { DesktopBridge } from '../../../electron/shared/ipc.ts';
import type { Platform } from './types.ts';

export type { Platform } from './types.ts';
import { browserPlatform } from './browser.ts';
import { desktopPlatform } from './desktop.ts';

declare global {
  interface Window {
    flotilla?: DesktopBridge;
  }
}

export const platform: Platform = typeof window !== 'undefined' && window.flotilla ? desktopPlatform(window.flotilla) : browserPlatform();
