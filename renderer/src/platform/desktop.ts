// The desktop app: everything native goes through the preload's bridge (one function per message).
import type { DesktopBridge } from '../../../electron/shared/ipc.ts';
import type { Platform } from './types.ts';

export function desktopPlatform(bridge: DesktopBridge): Platform {
  return {
    kind: 'desktop',
    endpoint: () => bridge.endpoint(),
    pickFolder: () => bridge.pickFolder(),
    notify: (title, body, sessionId) => {
      void bridge.notify(title, body, sessionId).catch(() => {});
      return true;
    },
    setBadge: (count) => void bridge.setBadge(count).catch(() => {}),
    onFocusSession: (cb) => bridge.onFocusSession(cb),
    openFolder: async (path) => {
      const err = await bridge.openPath(path);
      if (err) throw new Error(err);
    },
    keyStore: 'desktop',
    keepProviderKey: (name, value) => bridge.setProviderKey(name, value),
    restartEngine: () => bridge.restartEngine(),
    onAppCommand: (cb) => bridge.onCommand(cb),
    rememberedPanel: () => bridge.panel().catch(() => null),
    rememberPanel: (panel) => void bridge.setPanel(panel).catch(() => {}),
    // A new window is never opened: the desktop main process hands http(s) URLs to the OS browser; a browser opens a tab.
    openExternal: (url) => {
      if (/^https?:\/\//i.test(url)) window.open(url, '_blank', 'noopener,noreferrer');
    },
  };
}
