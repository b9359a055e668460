// A browser tab on `flotilla serve`'s URL: the engine's token is in the page URL; nothing native.
import type { Platform } from './types.ts';

const PANEL_KEY = 'flotilla.panel';

export function browserPlatform(): Platform {
  return {
    kind: 'browser',
    endpoint: async () => {
      const token = new URLSearchParams(location.search).get('token');
      return token ? { origin: location.origin, token } : null;
    },
    pickFolder: null,
    notify: () => false,
    setBadge: () => {},
    onFocusSession: () => () => {},
    openFolder: null,
    keyStore: 'engine',
    keepProviderKey: async () => false,
    restartEngine: null,
    onAppCommand: () => () => {},
    rememberedPanel: async () => {
      try {
        return localStorage.getItem(PANEL_KEY);
      } catch {
        return null;
      }
    },
    rememberPanel: (panel) => {
      try {
        if (panel) localStorage.setItem(PANEL_KEY, panel);
        else localStorage.removeItem(PANEL_KEY);
      } catch {
        // Storage off (private mode): the panel is simply not remembered.
      }
    },
    // A new window is never opened: the desktop main process hands http(s) URLs to the OS browser; a browser opens a tab.
    openExternal: (url) => {
      if (/^https?:\/\//i.test(url)) window.open(url, '_blank', 'noopener,noreferrer');
    },
  };
}
