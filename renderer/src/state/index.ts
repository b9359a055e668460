// The UI's state: one zustand store of slices (sessions, spend, review, ui), fed by the engine. The public face of the
// state folder.
export { useStore, type FlotillaState } from './store.ts';
export { selectCurrentSessions } from './sessions.ts';
export type { SpendPoint } from './spend.ts';
export { loadChanges, loadRun, wireEngineToStore } from './sync.ts';
