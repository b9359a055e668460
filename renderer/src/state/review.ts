// What the Conflicts and Review panels show: each run's warnings and each session's changed files, kept current by
// the engine's `conflicts` and `changes` events (and loaded again after a reconnect).
import type { StateCreator } from 'zustand';
import type { ChangedFile, ConflictWarning } from '../../../electron/shared/contract.ts';
import type { FlotillaState } from './store.ts';

export interface ReviewSlice {
  /** Warnings by run id, as the engine last sent them (the full list each time). */
  conflicts: Map<string, ConflictWarning[]>;
  /** Changed files by session id (a shared checkout: all of its changes, attributed). */
  changes: Map<string, ChangedFile[]>;
  setConflicts(runId: string, warnings: ConflictWarning[]): void;
  setChanges(sessionId: string, files: ChangedFile[]): void;
}

export const createReviewSlice: StateCreator<FlotillaState, [], [], ReviewSlice> = (set) => ({
  conflicts: new Map(),
  changes: new Map(),
  setConflicts: (runId, warnings) => set((s) => ({ conflicts: new Map(s.conflicts).set(runId, warnings) })),
  setChanges: (sessionId, files) => set((s) => ({ changes: new Map(s.changes).set(sessionId, files) })),
});
