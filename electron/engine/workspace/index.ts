// Workspaces: the user's repository, one git worktree and branch per session, what each session changed, collisions
// between sessions, and landing a session (diff, commit, squash-merge). The public face of the workspace folder.
export { git, gitRaw, runGit, GitCommandError, type GitResult } from './git.ts';
export { WorkspaceError, type WorkspaceErrorCode } from './errors.ts';
export { baseBranchOf, changedFiles, currentBranch, gitVersion, repoToplevel, resolveRef } from './repo.ts';
export { cleanRun, createWorktrees, removeWorktrees, runSlug, sessionBranch, type WorktreeEntry } from './worktrees.ts';
export { mergeTree, sessionChanges, snapshotCommit } from './changes.ts';
export { MergeRefused, commitSession, exportPatch, fileDiff, squashMerge, type MergeRefusal } from './merge.ts';
export { pushBranch, remotes } from './push.ts';
export { INCLUDE_FILE, SETUP_FAILED_EXIT, copyIncluded, includedPaths, withSetup } from './setup.ts';
export { ConflictDetector, type ConflictDetectorOptions } from './conflicts.ts';
export type { GitStats } from './git-queue.ts';
export { WorktreeWatcher, type WatchFailure } from './watcher.ts';
export { canonical, insideRel } from './paths.ts';
export type { ChangedFile, ConflictWarning, FileDiff } from '../../shared/contract.ts';
