// Collision warnings between sessions: the same file changed in two worktrees (overlap), changes that would not merge
// (conflict), a session's changes that no longer merge with the moved base branch (drift), and a session about to
// edit a file another one has changed or is editing (intent). Kept current from file watchers, hooks and the meter.
// The detector gathers the facts (scans, snapshots, merge-tree through the git queue); conflict-rules.ts decides.
import { EventEmitter } from 'node:events';
import { resolve } from 'node:path';
import type { ChangedFile, ConflictWarning } from '../../shared/contract.ts';
import { mergeTree, sessionChanges, snapshotCommit } from './changes.ts';
import {
  type Draft,
  type Intent,
  gitWarnings,
  intentWarnings,
  nextIntentExpiry,
  overlappingPairs,
  stampWarnings,
} from './conflict-rules.ts';
import { git } from './git.ts';
import { GitQueue, type GitStats } from './git-queue.ts';
import { canonical, worktreeRelPath } from './paths.ts';
import { WorktreeWatcher } from './watcher.ts';

export interface ConflictDetectorOptions {
  repo: string;
  baseCommit: string;
  /** Branch to watch for drift (e.g. 'main'); null = no drift checks. */
  baseBranch: string | null;
  /** Git operations in flight at once over all worktrees (default 4). */
  maxConcurrentGit?: number;
  /** Quiet period of the watchers and of touch() (default 300 ms). */
  debounceMs?: number;
  /** One WorktreeWatcher per session (default true). */
  watch?: boolean;
  /** How long an intent counts as "editing now" (default 2 minutes). */
  intentTtlMs?: number;
}

const INTENT_TTL_MS = 2 * 60_000;
const MERGE_CACHE_MAX = 2000;

interface Session {
  id: string;
  worktree: string;
  /** realpath of the worktree: the serialization key and the base for intent paths. */
  canon: string;
  watcher: WorktreeWatcher | null;
  scanned: boolean;
  changes: ChangedFile[];
  /** Changed paths, the old side of renames included. */
  paths: Set<string>;
  /** Bumped by every completed scan; a snapshot is good for the generation it was taken in. */
  gen: number;
  snap: string | null;
  snapGen: number;
  snapPromise: Promise<string> | null;
  snapPromiseGen: number;
  timer: NodeJS.Timeout | null;
  timerSince: number;
  running: Promise<void> | null;
  again: boolean;
  removed: boolean;
}

export class ConflictDetector extends EventEmitter {
  private readonly repo: string;
  private readonly baseCommit: string;
  private readonly baseBranch: string | null;
  private readonly debounceMs: number;
  private readonly watchTrees: boolean;
  private readonly intentTtlMs: number;
  private readonly queue: GitQueue;

  private readonly sessions = new Map<string, Session>();
  private readonly intents = new Map<string, Map<string, Intent>>();
  private readonly mergeCache = new Map<string, Promise<Set<string>>>();

  /** Overlap / conflict / drift as of the last evaluation, and the changed paths it was computed from. */
  private gitWarnings: Draft[] = [];
  private evalPaths = new Map<string, Set<string>>();
  private current: ConflictWarning[] = [];

  private tip: string | null = null;
  private tipStale = true;
  private evaluating: Promise<void> | null = null;
  private evalAgain = false;
  private bulk = 0;
  private intentTimer: NodeJS.Timeout | null = null;
  private idleWaiters: (() => void)[] = [];
  private closed = false;

  constructor(opts: ConflictDetectorOptions) {
    super();
    this.repo = opts.repo;
    this.baseCommit = opts.baseCommit;
    this.baseBranch = opts.baseBranch && !opts.baseBranch.startsWith('-') ? opts.baseBranch : null;
    this.debounceMs = Math.max(0, opts.debounceMs ?? 300);
    this.watchTrees = opts.watch ?? true;
    this.intentTtlMs = opts.intentTtlMs ?? INTENT_TTL_MS;
    this.queue = new GitQueue(opts.maxConcurrentGit ?? 4);
  }

  get gitStats(): GitStats {
    return this.queue.stats;
  }

  // -------------------------------------------------------------------------------------------------------------------
  // Public API

  addSession(sessionId: string, worktree: string): void {
    if (this.closed) return;
    const existing = this.sessions.get(sessionId);
    if (existing && resolve(existing.worktree) === resolve(worktree)) return this.touch(sessionId);
    if (existing) this.removeSession(sessionId);
    const s: Session = {
      id: sessionId,
      worktree,
      canon: canonical(worktree),
      watcher: null,
      scanned: false,
      changes: [],
      paths: new Set(),
      gen: 0,
      snap: null,
      snapGen: -1,
      snapPromise: null,
      snapPromiseGen: -1,
      timer: null,
      timerSince: 0,
      running: null,
      again: false,
      removed: false,
    };
    this.sessions.set(sessionId, s);
    if (this.watchTrees) {
      // The watcher has already waited for a quiet period: scan at once.
      s.watcher = new WorktreeWatcher(worktree, () => this.requestScan(s, 0), {
        debounceMs: this.debounceMs,
        // Watches used up: the engine's log says what to do; the watcher rescans periodically meanwhile.
        onFailure: (f) => this.safeEmit('watchFailed', s.id, f),
      });
    }
    this.requestScan(s, 0);
  }

  removeSession(sessionId: string): void {
    const s = this.sessions.get(sessionId);
    if (!s) return;
    s.removed = true;
    s.watcher?.close();
    if (s.timer) clearTimeout(s.timer);
    s.timer = null;
    this.sessions.delete(sessionId);
    this.intents.delete(sessionId);
    this.evalPaths.delete(sessionId);
    this.gitWarnings = this.gitWarnings.filter((w) => !w.sessions.includes(sessionId));
    this.publish();
    // A path three sessions shared is still shared by the other two: recompute rather than guess.
    if (this.sessions.size) this.requestEvaluate();
    this.checkIdle();
  }

  touch(sessionId: string): void {
    const s = this.sessions.get(sessionId);
    if (s) this.requestScan(s, this.debounceMs);
  }

  noteIntent(sessionId: string, absPath: string, tool: string): void {
    const s = this.sessions.get(sessionId);
    if (!s || this.closed) return;
    const rel = worktreeRelPath(s.worktree, s.canon, absPath);
    if (rel === null) return;
    let m = this.intents.get(sessionId);
    if (!m) this.intents.set(sessionId, (m = new Map()));
    m.set(rel, { at: Date.now(), tool });
    this.publish();
  }

  setBaseBranchMoved(): void {
    if (this.closed || !this.baseBranch) return;
    this.tipStale = true;
    this.requestEvaluate();
  }

  async rescanAll(): Promise<void> {
    if (this.closed) return;
    this.tipStale = true;
    this.bulk++;
    try {
      await Promise.all([...this.sessions.values()].map((s) => this.scanNow(s)));
    } finally {
      this.bulk--;
    }
    this.requestEvaluate();
    await this.settled();
  }

  settled(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  changes(sessionId: string): ChangedFile[] {
    return this.sessions.get(sessionId)?.changes ?? [];
  }

  warnings(): ConflictWarning[] {
    return this.current;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.sessions.values()) {
      s.removed = true;
      s.watcher?.close();
      if (s.timer) clearTimeout(s.timer);
      s.timer = null;
    }
    if (this.intentTimer) clearTimeout(this.intentTimer);
    this.intentTimer = null;
    this.sessions.clear();
    this.intents.clear();
    this.mergeCache.clear();
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  // -------------------------------------------------------------------------------------------------------------------
  // Git, bounded and serialized

  /** One git operation: at most one at a time per worktree (worktree !== null), at most maxConcurrentGit overall. */
  private gitOp<T>(worktree: string | null, fn: () => Promise<T>): Promise<T> {
    return this.queue.run(worktree, fn);
  }

  private merge(a: string, b: string): Promise<Set<string>> {
    const key = `${a} ${b}`;
    let p = this.mergeCache.get(key);
    if (!p) {
      p = this.gitOp(null, () => mergeTree(this.repo, a, b)).then((r) => new Set(r.conflicts));
      p.catch(() => this.mergeCache.delete(key));
      this.mergeCache.set(key, p);
      if (this.mergeCache.size > MERGE_CACHE_MAX) {
        for (const k of this.mergeCache.keys()) {
          this.mergeCache.delete(k);
          if (this.mergeCache.size <= MERGE_CACHE_MAX / 2) break;
        }
      }
    }
    return p;
  }

  private ensureSnapshot(s: Session): Promise<string> {
    if (s.snap && s.snapGen === s.gen) return Promise.resolve(s.snap);
    if (s.snapPromise && s.snapPromiseGen === s.gen) return s.snapPromise;
    const gen = s.gen;
    const p = this.gitOp(s.canon, () => snapshotCommit(s.worktree)).then((sha) => {
      if (gen >= s.snapGen) {
        s.snap = sha;
        s.snapGen = gen;
      }
      return sha;
    });
    s.snapPromise = p;
    s.snapPromiseGen = gen;
    const clear = (): void => {
      if (s.snapPromise === p) s.snapPromise = null;
    };
    p.then(clear, clear);
    return p;
  }

  private async readTip(): Promise<string | null> {
    if (!this.baseBranch) return null;
    try {
      const out = await this.gitOp(null, () => git(this.repo, ['rev-parse', '--verify', '--quiet', `${this.baseBranch}^{commit}`]));
      return out.stdout.trim() || null;
    } catch {
      return null; // branch deleted or renamed: nothing to drift from
    }
  }

  // -------------------------------------------------------------------------------------------------------------------
  // Scans

  private requestScan(s: Session, delay: number): void {
    if (this.closed || s.removed) return;
    if (s.running) {
      s.again = true; // exactly one follow-up, however many touches arrive meanwhile
      return;
    }
    const now = Date.now();
    if (s.timer) {
      // Debounce, but a session touched continuously is still scanned every few quiet periods.
      if (delay > 0 && now - s.timerSince >= Math.max(4 * delay, 1000)) return;
      clearTimeout(s.timer);
    } else {
      s.timerSince = now;
    }
    if (delay <= 0) {
      s.timer = null;
      void this.startScan(s);
      return;
    }
    s.timer = setTimeout(() => {
      s.timer = null;
      void this.startScan(s);
    }, delay);
  }

  private scanNow(s: Session): Promise<void> {
    if (s.running) {
      s.again = true;
      return s.running;
    }
    if (s.timer) clearTimeout(s.timer);
    s.timer = null;
    return this.startScan(s);
  }

  private startScan(s: Session): Promise<void> {
    if (s.running) return s.running;
    const loop = async (): Promise<void> => {
      try {
        do {
          s.again = false;
          await this.scanOnce(s);
        } while (s.again && !s.removed && !this.closed);
      } finally {
        s.running = null;
        if (!this.bulk && !s.removed) this.requestEvaluate();
        this.checkIdle();
      }
    };
    s.running = loop();
    return s.running;
  }

  private async scanOnce(s: Session): Promise<void> {
    let files: ChangedFile[];
    try {
      files = await this.gitOp(s.canon, () => sessionChanges(s.worktree, this.baseCommit));
    } catch (err) {
      if (!s.removed && !this.closed) this.safeEmit('scanError', s.id, err);
      return;
    }
    if (s.removed || this.closed) return;
    s.gen++;
    s.scanned = true;
    const changed = JSON.stringify(files) !== JSON.stringify(s.changes);
    s.changes = files;
    // A copied file (.worktreeinclude) never merges: two sessions editing their own copies do not collide.
    s.paths = new Set(files.flatMap((f) => (f.copied ? [] : f.oldPath ? [f.path, f.oldPath] : [f.path])));
    if (changed) this.safeEmit('changes', s.id, files);
    // Take the snapshot now, in the same turn on this worktree, when the evaluation is going to need it.
    if (s.paths.size && this.needsSnapshot(s)) await this.ensureSnapshot(s).catch(() => {});
  }

  private needsSnapshot(s: Session): boolean {
    if (this.baseBranch && this.tip && this.tip !== this.baseCommit) return true;
    for (const o of this.sessions.values()) {
      if (o === s || !o.scanned) continue;
      for (const p of s.paths) if (o.paths.has(p)) return true;
    }
    return false;
  }

  // -------------------------------------------------------------------------------------------------------------------
  // Evaluation: overlap, conflict and drift from the sessions' current changes

  private requestEvaluate(): void {
    if (this.closed) return;
    if (this.evaluating) {
      this.evalAgain = true;
      return;
    }
    const loop = async (): Promise<void> => {
      try {
        do {
          this.evalAgain = false;
          try {
            await this.evaluateOnce();
          } catch (err) {
            this.safeEmit('scanError', null, err);
          }
        } while (this.evalAgain && !this.closed);
      } finally {
        this.evaluating = null;
        this.checkIdle();
      }
    };
    this.evaluating = loop();
  }

  private async evaluateOnce(): Promise<void> {
    if (this.tipStale) {
      this.tipStale = false;
      this.tip = await this.readTip();
    }
    const live = [...this.sessions.values()].filter((s) => s.scanned).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const paths = new Map(live.map((s) => [s.id, s.paths] as const));

    const pairs = overlappingPairs(live);

    const pairConflicts = new Map<string, Set<string>>();
    const drift = new Map<string, Set<string>>();
    const tip = this.baseBranch && this.tip && this.tip !== this.baseCommit ? this.tip : null;
    const jobs: Promise<void>[] = [];
    for (const [k, { a, b }] of pairs) {
      jobs.push(
        (async () => {
          const [sa, sb] = await Promise.all([this.ensureSnapshot(a), this.ensureSnapshot(b)]);
          pairConflicts.set(k, await this.merge(sa, sb));
        })().catch((err) => this.safeEmit('scanError', null, err)), // unknown: stays an overlap
      );
    }
    if (tip) {
      for (const s of live) {
        if (!s.paths.size) continue;
        jobs.push(
          (async () => {
            drift.set(s.id, await this.merge(tip, await this.ensureSnapshot(s)));
          })().catch((err) => this.safeEmit('scanError', s.id, err)),
        );
      }
    }
    await Promise.all(jobs);
    if (this.closed) return;

    const out = gitWarnings(pairs, pairConflicts, drift, { branch: this.baseBranch, tip });
    this.gitWarnings = out;
    this.evalPaths = paths;
    this.publish();
  }

  // -------------------------------------------------------------------------------------------------------------------
  // Publishing

  private publish(): void {
    if (this.closed) return;
    const now = Date.now();
    const drafts: Draft[] = [
      ...this.gitWarnings.filter((w) => w.sessions.every((id) => this.sessions.has(id))),
      ...intentWarnings(this.intents, this.evalPaths, new Set(this.sessions.keys()), now, this.intentTtlMs),
    ];
    const list = stampWarnings(drafts, this.current, now);
    const changed = JSON.stringify(list) !== JSON.stringify(this.current);
    this.current = list;
    this.scheduleIntentExpiry(now);
    if (changed) this.safeEmit('warnings', list);
  }

  /** One timer, only while an intent is still fresh: its expiry may clear a warning with no other event. */
  private scheduleIntentExpiry(now: number): void {
    if (this.intentTimer) clearTimeout(this.intentTimer);
    this.intentTimer = null;
    const next = nextIntentExpiry(this.intents, now, this.intentTtlMs);
    if (next === null) return;
    this.intentTimer = setTimeout(
      () => {
        this.intentTimer = null;
        this.publish();
      },
      Math.max(0, next - now) + 5,
    );
    this.intentTimer.unref?.();
  }

  // -------------------------------------------------------------------------------------------------------------------
  // Helpers

  private isIdle(): boolean {
    if (this.closed) return true;
    if (this.evaluating || this.bulk > 0) return false;
    for (const s of this.sessions.values()) if (s.timer || s.running) return false;
    return true;
  }

  private checkIdle(): void {
    if (!this.idleWaiters.length || !this.isIdle()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private safeEmit(event: string, ...args: unknown[]): void {
    try {
      this.emit(event, ...args);
    } catch {
      // a throwing listener must not break scanning
    }
  }
}
