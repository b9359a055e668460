// The pty host's entry when the engine runs from source (tsx, vitest): register tsx in this thread, then load the
// TypeScript worker. Bundled builds start dist/electron/pty-host.mjs instead.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
