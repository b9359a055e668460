// Review: what each session changed, where sessions collide, and what to do with a session's work — a file's diff, one
// path across sessions, commit, squash-merge into the base branch, discard, export a patch. Live runs are watched (see
// run-review.ts); runs of earlier engines are answered from git directly.
import { existsSync } from 'node:fs';
import type {
  ChangedFile,
  CommandArgs,
  ConflictWarning,
  WatchFailure,
  EngineEvent,
  FileDiff,
  MergeResult,
  PathDiff,
  SessionInfo,
} from '../../shared/contract.ts';
import { EngineError } from '../errors.ts';
import type { LiveRun, RunRegistry } from '../runs/index.ts';
import { baseBranchOf, commitSession, exportPatch, fileDiff, removeWorktrees, sessionChanges, squashMerge } from '../workspace/index.ts';
import { type RunReview, SharedReview, WorktreeReview } from './run-review.ts';

export interface ReviewDeps {
  registry: RunRegistry;
  emit: (e: EngineEvent) => void;
  log: (line: string) => void;
  /** Stops a session's agent (discard stops it before removing its worktree). */
  stopSession: (sessionId: string) => Promise<void>;
}

export class Review {
  private readonly runs = new Map<string, RunReview>();

  constructor(private readonly d: ReviewDeps) {}

  /** Starts watching a live run's changes and conflicts (both workspace modes). */
  watch(run: LiveRun): void {
    const runId = run.info.id;
    const events = {
      changes: (sessionId: string, files: ChangedFile[]) => this.d.emit({ type: 'event', event: 'changes', sessionId, files }),
      warnings: (warnings: ConflictWarning[]) => this.d.emit({ type: 'event', event: 'conflicts', runId, warnings }),
      scanError: (err: Error) => this.d.log(`change scan failed: ${err.message}`),
      watchFailed: (failure: WatchFailure) => {
        this.d.log(`session ${failure.sessionId}: ${failure.message}`);
        this.d.emit({ type: 'event', event: 'watchFailed', failure });
      },
    };
    const { repo, baseCommit, workspace, startedAt } = run.info;
    let review: RunReview | null = null;
    if (workspace === 'worktree' && baseCommit) {
      review = new WorktreeReview(
        { repo, baseCommit, baseBranch: run.baseBranch, sessions: run.sessions.map((s) => ({ id: s.info.id, worktree: s.info.worktree })) },
        events,
      );
    } else if (workspace === 'shared') {
      review = new SharedReview({ repo, baseCommit, startedAt, sessionIds: () => run.sessions.map((s) => s.info.id) }, events);
    }
    if (review) {
      this.runs.get(runId)?.close();
      this.runs.set(runId, review);
    }
  }

  /** Stops watching a run (it was cleaned: its worktrees are gone). */
  unwatch(runId: string): void {
    this.runs.get(runId)?.close();
    this.runs.delete(runId);
  }

  /** Whether a run is still watched. */
  watches(runId: string): boolean {
    return this.runs.has(runId);
  }

  private ofSession(sessionId: string): RunReview | undefined {
    const runId = this.d.registry.liveSession(sessionId)?.run.info.id;
    return runId ? this.runs.get(runId) : undefined;
  }

  /** An agent is about to edit (intent, from the wire) or has edited (PostToolUse hook) a file. */
  noteEdit(sessionId: string, absPath: string, tool: string, intent: boolean): void {
    this.ofSession(sessionId)?.noteEdit(sessionId, absPath, tool, intent);
  }

  touch(sessionId: string): void {
    this.ofSession(sessionId)?.touch(sessionId);
  }

  // -------------------------------------------------------------------------------------------------------------------
  // Queries

  conflicts(runId: string): ConflictWarning[] {
    return this.runs.get(runId)?.warnings() ?? [];
  }

  /** Sessions of a live run whose edits are not watched (rescanned instead); none for an ended run. */
  watchFailures(runId: string): WatchFailure[] {
    return this.runs.get(runId)?.watchFailures() ?? [];
  }

  /** Changed files of a session; in shared mode, `sessions: []` marks a change nobody claimed (unattributed). */
  async changes(sessionId: string): Promise<ChangedFile[]> {
    const info = this.d.registry.sessionInfo(sessionId);
    const live = this.runs.get(info.runId);
    if (live) return live.changes(sessionId);
    const run = this.d.registry.runInfo(info.runId);
    if (!run.baseCommit) return [];
    if (run.workspace === 'shared') return (await sessionChanges(run.repo, run.baseCommit)).map((f) => ({ ...f, sessions: [] }));
    return sessionChanges(info.worktree, run.baseCommit);
  }

  /** Lets a live run's watchers catch up with the last writes. */
  async settle(runId: string): Promise<void> {
    await this.runs.get(runId)?.settle();
  }

  /** The paths a session changed (the report's list). */
  async changedPaths(runId: string, sessionId: string): Promise<string[]> {
    const live = this.runs.get(runId);
    if (live) return live.changedPaths(sessionId);
    const run = this.d.registry.runInfo(runId);
    const s = this.d.registry.sessionInfo(sessionId);
    if (run.workspace === 'shared' || !run.baseCommit || !existsSync(s.worktree)) return [];
    return (await sessionChanges(s.worktree, run.baseCommit).catch(() => [])).map((f) => f.path);
  }

  async diff(sessionId: string, path: string): Promise<FileDiff> {
    const { info, base } = this.withBase(sessionId);
    return fileDiff(info.worktree, base, path);
  }

  /** One path as each of several sessions changed it (all sessions of the run that changed it, by default). */
  async pathAcross(runId: string, path: string, sessionIds?: string[]): Promise<PathDiff[]> {
    const run = this.d.registry.runInfo(runId);
    const sessions = this.d.registry.listSessions(runId).filter((s) => (sessionIds ? sessionIds.includes(s.id) : true));
    const out: PathDiff[] = [];
    for (const s of sessions) {
      if (!run.baseCommit || !existsSync(s.worktree)) continue;
      const d = await fileDiff(s.worktree, run.baseCommit, path);
      if (sessionIds || d.diff || d.binary) out.push({ sessionId: s.id, slot: s.slot, diff: d });
    }
    return out;
  }

  async exportPatch(sessionId: string): Promise<{ patch: string }> {
    const { info, base } = this.withBase(sessionId);
    return { patch: await exportPatch(info.worktree, base) };
  }

  worktreePath(sessionId: string): { path: string; exists: boolean } {
    const info = this.d.registry.sessionInfo(sessionId);
    return { path: info.worktree, exists: existsSync(info.worktree) };
  }

  // -------------------------------------------------------------------------------------------------------------------
  // Landing

  async commit(sessionId: string, message: string): Promise<{ commit: string | null }> {
    const info = this.worktreeSession(sessionId, 'commit works per worktree; this run shares one checkout');
    const r = await commitSession(info.worktree, message);
    this.touch(sessionId);
    return r;
  }

  /** Squash-merge a session into the run's base branch: refused (with the reason) rather than half-done. */
  async merge(args: CommandArgs<'merge'>): Promise<MergeResult> {
    const info = this.worktreeSession(args.sessionId, 'this run works in your checkout directly: there is nothing to merge');
    const run = this.d.registry.runInfo(info.runId);
    const target = args.target ?? this.d.registry.liveRun(info.runId)?.baseBranch ?? (await baseBranchOf(run.repo, run.base));
    if (!target)
      throw new EngineError('no_target', `the run's base (${run.base}) is not a branch — pass a target branch to merge into`, {
        field: 'target',
      });
    const message = args.message ?? `${run.name}: session ${info.slot}${info.task ? ` — ${info.task}` : ''}`;
    const r = await squashMerge({ repo: run.repo, target, worktree: info.worktree, message });
    // Every other session's overlap and drift is now measured against the new base.
    this.runs.get(info.runId)?.baseMoved();
    return { ...r, target };
  }

  /** Removes a session's worktree and branch. The session's record and ledger stay. */
  async discard(sessionId: string, confirm: boolean): Promise<null> {
    if (!confirm)
      throw new EngineError('confirm', 'discard removes the worktree and branch for good — send confirm: true', { field: 'confirm' });
    const live = this.d.registry.liveSession(sessionId);
    if (live?.terminal.agent) await this.d.stopSession(sessionId);
    const info = this.worktreeSession(sessionId, 'this run shares your checkout: there is no worktree to discard');
    const run = this.d.registry.runInfo(info.runId);
    this.runs.get(info.runId)?.removeSession(sessionId);
    await removeWorktrees(run.repo, [{ path: info.worktree, branch: info.branch }]);
    return null;
  }

  close(): void {
    for (const r of this.runs.values()) r.close();
    this.runs.clear();
  }

  private worktreeSession(sessionId: string, sharedMessage: string): SessionInfo {
    const info = this.d.registry.sessionInfo(sessionId);
    if (this.d.registry.runInfo(info.runId).workspace !== 'worktree') throw new EngineError('shared', sharedMessage);
    return info;
  }

  private withBase(sessionId: string): { info: SessionInfo; base: string } {
    const info = this.d.registry.sessionInfo(sessionId);
    const run = this.d.registry.runInfo(info.runId);
    if (!run.baseCommit) throw new EngineError('no_base', `run ${run.name} has no base commit to diff against`);
    return { info, base: run.baseCommit };
  }
}
