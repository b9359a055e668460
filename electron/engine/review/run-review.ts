// A live run's changes and collision warnings, one object per run, for both workspace modes. Each pushes `changes`
// (per session) and `conflicts` (per run) as they change, so clients never poll.
//   worktree — one worktree per session: the conflict detector scans each one, merge-trees overlapping pairs.
//   shared   — every session in the user's checkout: one watcher on the checkout; a change is attributed to the
//              sessions whose tool calls (intents on the wire, PostToolUse hooks) touched the path.
import { isAbsolute, relative, resolve as resolvePath, sep } from 'node:path';
import type { ChangedFile, ConflictWarning, WatchFailure } from '../../shared/contract.ts';
import { ConflictDetector, WorktreeWatcher, sessionChanges, type WatchFailure as WatcherFailure } from '../workspace/index.ts';

export interface RunReviewEvents {
  changes(sessionId: string, files: ChangedFile[]): void;
  warnings(warnings: ConflictWarning[]): void;
  scanError(err: Error): void;
  watchFailed(failure: WatchFailure): void;
}

export interface RunReview {
  /** The session's changed files now (a shared checkout: all of its changes, attributed). */
  changes(sessionId: string): Promise<ChangedFile[]>;
  /** The paths the session itself changed (the report's list). */
  changedPaths(sessionId: string): Promise<string[]>;
  warnings(): ConflictWarning[];
  /** Sessions whose worktree (or the shared checkout) cannot be watched: rescanned periodically instead. */
  watchFailures(): WatchFailure[];
  noteEdit(sessionId: string, absPath: string, tool: string, intent: boolean): void;
  touch(sessionId: string): void;
  removeSession(sessionId: string): void;
  /** The base branch moved (a merge landed): measure overlap and drift against the new tip. */
  baseMoved(): void;
  /** Waits until every change made so far has been seen. */
  settle(): Promise<void>;
  close(): void;
}

export class WorktreeReview implements RunReview {
  private readonly detector: ConflictDetector;
  private readonly failures = new Map<string, WatchFailure>();

  constructor(
    opts: { repo: string; baseCommit: string; baseBranch: string | null; sessions: { id: string; worktree: string }[] },
    events: RunReviewEvents,
  ) {
    this.detector = new ConflictDetector({ repo: opts.repo, baseCommit: opts.baseCommit, baseBranch: opts.baseBranch });
    this.detector.on('changes', (sessionId: string, files: ChangedFile[]) => events.changes(sessionId, files));
    this.detector.on('warnings', (warnings: ConflictWarning[]) => events.warnings(warnings));
    this.detector.on('scanError', (_id: string | null, err: Error) => events.scanError(err));
    this.detector.on('watchFailed', (sessionId: string, f: WatcherFailure) => {
      const failure = { sessionId, code: f.code, message: f.message };
      this.failures.set(sessionId, failure);
      events.watchFailed(failure);
    });
    for (const s of opts.sessions) this.detector.addSession(s.id, s.worktree);
  }

  async changes(sessionId: string): Promise<ChangedFile[]> {
    await this.detector.settled();
    return this.detector.changes(sessionId);
  }

  async changedPaths(sessionId: string): Promise<string[]> {
    return this.detector.changes(sessionId).map((f) => f.path);
  }

  warnings(): ConflictWarning[] {
    return this.detector.warnings();
  }

  watchFailures(): WatchFailure[] {
    return [...this.failures.values()];
  }

  noteEdit(sessionId: string, absPath: string, tool: string, intent: boolean): void {
    if (intent) this.detector.noteIntent(sessionId, absPath, tool);
    else this.detector.touch(sessionId);
  }

  touch(sessionId: string): void {
    this.detector.touch(sessionId);
  }

  removeSession(sessionId: string): void {
    this.detector.removeSession(sessionId);
  }

  baseMoved(): void {
    this.detector.setBaseBranchMoved();
  }

  settle(): Promise<void> {
    return this.detector.rescanAll();
  }

  close(): void {
    this.detector.close();
  }
}

/** Shared checkout: the changes of `repo` since `baseCommit`, each with the sessions that claimed it. */
export class SharedReview implements RunReview {
  /** Repo-relative path → the sessions whose tool calls touched it. */
  private claims = new Map<string, Set<string>>();
  private files: ChangedFile[] = [];
  private current: ConflictWarning[] = [];
  private readonly watcher: WorktreeWatcher | null;
  private scanning: Promise<ChangedFile[]> | null = null;
  private again = false;
  private closed = false;

  constructor(
    private readonly opts: { repo: string; baseCommit: string | null; startedAt: string; sessionIds: () => string[] },
    private readonly events: RunReviewEvents,
  ) {
    // Without a base commit (not a git repository) there is nothing to compare: no changes, only claims.
    this.watcher = opts.baseCommit
      ? new WorktreeWatcher(opts.repo, () => void this.scan().catch((e: Error) => events.scanError(e)), {
          // One checkout for every session: each of them is told.
          onFailure: () => this.watchFailures().forEach((f) => events.watchFailed(f)),
        })
      : null;
    if (opts.baseCommit) void this.scan().catch((e: Error) => events.scanError(e));
  }

  /** Every change of the checkout, attributed; `sessions: []` marks a change nobody claimed (unattributed). */
  async changes(_sessionId: string): Promise<ChangedFile[]> {
    return this.scan();
  }

  async changedPaths(sessionId: string): Promise<string[]> {
    return (await this.scan()).filter((f) => f.sessions?.includes(sessionId)).map((f) => f.path);
  }

  warnings(): ConflictWarning[] {
    return this.current;
  }

  watchFailures(): WatchFailure[] {
    const f = this.watcher?.failure;
    return f ? this.opts.sessionIds().map((sessionId) => ({ sessionId, code: f.code, message: f.message })) : [];
  }

  noteEdit(sessionId: string, absPath: string): void {
    const rel = relative(this.opts.repo, resolvePath(this.opts.repo, absPath));
    if (rel.startsWith('..') || isAbsolute(rel)) return;
    const key = rel.split(sep).join('/');
    const claimants = new Set(this.claims.get(key) ?? []);
    if (claimants.has(sessionId)) return;
    claimants.add(sessionId);
    this.claims = new Map(this.claims).set(key, claimants);
    this.publishWarnings();
    this.publishFiles(this.files);
  }

  touch(): void {
    if (this.opts.baseCommit) void this.scan().catch((e: Error) => this.events.scanError(e));
  }

  removeSession(): void {}

  baseMoved(): void {}

  async settle(): Promise<void> {
    if (this.opts.baseCommit) await this.scan();
  }

  close(): void {
    this.closed = true;
    this.watcher?.close();
  }

  /** One scan at a time; a request during a scan gets one more scan after it. */
  private scan(): Promise<ChangedFile[]> {
    if (!this.opts.baseCommit) return Promise.resolve([]);
    if (this.scanning) {
      this.again = true;
      return this.scanning;
    }
    const base = this.opts.baseCommit;
    const loop = async (): Promise<ChangedFile[]> => {
      let files: ChangedFile[];
      do {
        this.again = false;
        files = await sessionChanges(this.opts.repo, base);
        if (!this.closed) this.publishFiles(files);
      } while (this.again && !this.closed);
      return this.files;
    };
    this.scanning = loop().finally(() => (this.scanning = null));
    return this.scanning;
  }

  private attribute(files: ChangedFile[]): ChangedFile[] {
    return files.map((f) => ({ ...f, sessions: [...(this.claims.get(f.path) ?? [])].sort() }));
  }

  private publishFiles(raw: ChangedFile[]): void {
    const files = this.attribute(raw);
    if (JSON.stringify(files) === JSON.stringify(this.files)) return;
    this.files = files;
    for (const id of this.opts.sessionIds()) this.events.changes(id, files);
  }

  /** A path two sessions' tool calls touched is an overlap (one checkout: no branches to merge-tree). */
  private publishWarnings(): void {
    const list: ConflictWarning[] = [...this.claims]
      .filter(([, ids]) => ids.size > 1)
      .map(([path, ids]) => ({
        key: `overlap:${[...ids].sort().join('+')}:${path}`,
        path,
        sessions: [...ids].sort(),
        kind: 'overlap' as const,
        since: this.opts.startedAt,
        detail: 'shared workspace: both sessions edited this file',
      }));
    if (JSON.stringify(list) === JSON.stringify(this.current)) return;
    this.current = list;
    this.events.warnings(list);
  }
}
