// A browser tab on `flotilla serve`'s URL: the engine's token is in the page URL; nothing native.
import type { Platform } from './index.ts';

export function browserPlatform(): Platform {
  return {
    kind: 'browser',
    endpoint: async () => {
      const token = new URLSearchParams(location.search).get('token');
      return token ? { origin: location.origin, token } : null;
    },
    pickFolder: null,
    notify: () => false,
    openFolder: null,
    keyStore: 'engine',
    keepProviderKey: async () => false,
    restartEngine: null,
  };
}
