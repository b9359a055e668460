// Changes, conflicts and review: what each session changed, where sessions collide, and landing a session.
import { z } from 'zod';

export const ChangeStatus = z.enum(['added', 'modified', 'deleted', 'renamed', 'untracked', 'typechange']);
export type ChangeStatus = z.infer<typeof ChangeStatus>;

export const ChangedFile = z.object({
  /** Repository-relative, forward slashes; the new path of a rename. */
  path: z.string(),
  oldPath: z.string().nullable(),
  status: ChangeStatus,
  /** null for binary files. */
  added: z.number().int().nullable(),
  removed: z.number().int().nullable(),
  binary: z.boolean(),
  /** Shared workspace mode: the sessions whose tool calls touched the path (empty = unattributed). */
  sessions: z.array(z.string()).optional(),
});
export type ChangedFile = z.infer<typeof ChangedFile>;

/** A session whose worktree cannot be watched for edits (inotify watches or descriptors ran out): rescanned instead. */
export const WatchFailure = z.object({
  sessionId: z.string(),
  code: z.enum(['ENOSPC', 'EMFILE']),
  /** What happened and what to do (raise fs.inotify.max_user_watches…). */
  message: z.string(),
});
export type WatchFailure = z.infer<typeof WatchFailure>;

export const ConflictKind = z.enum(['overlap', 'conflict', 'drift', 'intent']);
export type ConflictKind = z.infer<typeof ConflictKind>;

export const ConflictWarning = z.object({
  /** kind + sessions + path: stable while the warning persists. */
  key: z.string(),
  /** Repo-relative, forward slashes. */
  path: z.string(),
  /** Session ids, sorted. */
  sessions: z.array(z.string()),
  kind: ConflictKind,
  /** ISO time the warning began. */
  since: z.string(),
  detail: z.string().nullable(),
});
export type ConflictWarning = z.infer<typeof ConflictWarning>;

export const FileDiff = z.object({
  path: z.string(),
  binary: z.boolean(),
  truncated: z.boolean(),
  /** e.g. "binary file: 2.1 KB → 3.4 KB" or "diff truncated at 200 KB (of 1.4 MB)". */
  note: z.string().nullable(),
  /** Unified diff text. */
  diff: z.string(),
  /**
   * The whole file before and after (text files up to 256 KB each; null for an added / deleted side): the viewer
   * highlights with full context and expands unchanged regions from them. Absent when too large or binary.
   */
  oldText: z.string().nullable().optional(),
  newText: z.string().nullable().optional(),
});
export type FileDiff = z.infer<typeof FileDiff>;

/** One path as one session changed it (the Conflicts panel's side-by-side columns). */
export const PathDiff = z.object({ sessionId: z.string(), slot: z.number().int(), diff: FileDiff });
export type PathDiff = z.infer<typeof PathDiff>;

export const CommitResult = z.object({ commit: z.string().nullable() });
export type CommitResult = z.infer<typeof CommitResult>;

export const MergeResult = z.object({ commit: z.string(), files: z.number().int(), target: z.string() });
export type MergeResult = z.infer<typeof MergeResult>;

export const PatchResult = z.object({ patch: z.string() });
export type PatchResult = z.infer<typeof PatchResult>;

export const WorktreeLocation = z.object({ path: z.string(), exists: z.boolean() });
export type WorktreeLocation = z.infer<typeof WorktreeLocation>;

export const CleanResult = z.object({ removedWorktrees: z.number().int(), removedBranches: z.number().int() });
export type CleanResult = z.infer<typeof CleanResult>;
