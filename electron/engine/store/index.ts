// Persistence: runs, sessions and their status history and the spend ledger in <dataDir>/flotilla.db (SQLite compiled
// to WASM, so nothing to rebuild per platform or Electron version). The public face of the store folder.
export { Store, type StoreFaults } from './store.ts';
export { PENDING_LIMIT } from './pending.ts';
export type { StoreOptions } from './db.ts';
export { StoreError } from './errors.ts';
export { defaultDataDir, ensureDataDir, expandHome } from './data-dir.ts';
export { SCHEMA_VERSION } from './migrations.ts';
export type { UsageSums } from './usage.ts';
