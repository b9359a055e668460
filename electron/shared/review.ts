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
  /** The name looks like a secret (`.env*`, `*.pem`, `id_*`, `*.key`): look before committing or pushing it. */
  secret: z.boolean().optional(),
  /**
   * A file Flotilla copied in (.worktreeinclude) that the agent changed: git ignores it there, so it is in no commit,
   * merge, patch or push — the change stays in the worktree.
   */
  copied: z.boolean().optional(),
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

/** One session in a merge plan: whether it merges into the base as it is now, and whom it conflicts with. */
export const MergePlanStep = z.object({
  sessionId: z.string(),
  slot: z.number().int(),
  /** Merges cleanly into the base branch as it is now. */
  clean: z.boolean(),
  /** Other planned sessions whose changes conflict with this one's. */
  conflictsWith: z.array(z.string()),
  /** Those of them planned before it: merging them first makes this one conflict with the new base. */
  blockedBy: z.array(z.string()),
});
export type MergePlanStep = z.infer<typeof MergePlanStep>;
export const MergePlan = z.object({
  steps: z.array(MergePlanStep),
  /** Sessions whose changes the base already has (merged before): not planned again. */
  merged: z.array(z.string()),
});
export type MergePlan = z.infer<typeof MergePlan>;

export const MergeAllResult = z.object({
  merged: z.array(z.object({ sessionId: z.string(), commit: z.string() })),
  skipped: z.array(z.object({ sessionId: z.string(), reason: z.string() })),
  /** The plan after the merges (the rest checked against the new base). */
  plan: MergePlan,
});
export type MergeAllResult = z.infer<typeof MergeAllResult>;

export const RebaseResult = z.object({
  /** agent: its agent was asked to rebase (a prompt naming the paths); git: `git rebase` ran in its worktree; none: nothing to do. */
  mode: z.enum(['agent', 'git', 'none']),
  /** The paths that conflict with the base (for git: those the rebase stopped on, left for the agent or the user). */
  conflicts: z.array(z.string()),
  message: z.string(),
});
export type RebaseResult = z.infer<typeof RebaseResult>;

export const PushResult = z.object({ remote: z.string(), branch: z.string(), commit: z.string().nullable(), message: z.string() });
export type PushResult = z.infer<typeof PushResult>;

export const CleanResult = z.object({
  removedWorktrees: z.number().int(),
  removedBranches: z.number().int(),
  /** Containers of the run's sandboxed sessions that were left (kept for inspection, or orphaned by a crash). */
  removedContainers: z.number().int().optional(),
});
export type CleanResult = z.infer<typeof CleanResult>;
