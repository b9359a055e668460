// What the Conflicts and Review panels show: each run's warnings and each session's changed files, kept current by
// the engine's `conflicts` and `changes` events (and loaded again after a reconnect).
import type { ChangedFile, ConflictWarning, WatchFailure } from '../../../../electron/shared/contract.ts';
import type { SliceCreator } from '../../store/slice.ts';

export interface ReviewSlice {
  /** Warnings by run id, as the engine last sent them (the full list each time). */
  conflicts: Map<string, ConflictWarning[]>;
  /** Changed files by session id (a shared checkout: all of its changes, attributed). */
  changes: Map<string, ChangedFile[]>;
  /** Sessions whose edits are not watched (inotify ran out): rescanned every few seconds; the tile says what to do. */
  watchFailures: Map<string, WatchFailure>;
  setConflicts(runId: string, warnings: ConflictWarning[]): void;
  setWatchFailures(failures: WatchFailure[]): void;
  setChanges(sessionId: string, files: ChangedFile[]): void;
  /** The session the Review panel shows (null: the first done one). */
  reviewPick: string | null;
  setReviewPick(sessionId: string | null): void;
}

export const createReviewSlice: SliceCreator<ReviewSlice> = (set) => ({
  conflicts: new Map(),
  changes: new Map(),
  reviewPick: null,
  setReviewPick: (reviewPick) => set({ reviewPick }),
  watchFailures: new Map(),
  setWatchFailures: (failures) =>
    set((s) => {
      const next = new Map(s.watchFailures);
      for (const f of failures) next.set(f.sessionId, f);
      return { watchFailures: next };
    }),
  setConflicts: (runId, warnings) => set((s) => ({ conflicts: new Map(s.conflicts).set(runId, warnings) })),
  setChanges: (sessionId, files) => set((s) => ({ changes: new Map(s.changes).set(sessionId, files) })),
});
