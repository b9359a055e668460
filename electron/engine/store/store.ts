// The store: runs, sessions, their status history and the spend ledger in <dataDir>/flotilla.db. One object per open
// database; each method is one transaction, on disk when it returns (see db.ts for locking and WAL, runs.ts and
// usage.ts for the SQL).
import type { LedgerRow, RunInfo, SessionInfo, SessionStatus, UsageState } from '../../shared/contract.ts';
import { StoreDb, type StoreOptions } from './db.ts';
import { isDiskFull } from './disk.ts';
import { StoreError } from './errors.ts';
import { type PendingOp, PendingWrites } from './pending.ts';
import * as runs from './runs.ts';
import * as usage from './usage.ts';

/** What the store tells its owner about writes the disk refused. */
export interface StoreFaults {
  /** A write failed because the disk is full (it is kept and retried by flushPending). */
  diskFull(err: Error): void;
  /** A kept write failed for another reason when retried, and was dropped. */
  dropped(what: string, err: Error): void;
}

export class Store {
  /** Writes the disk refused, in order (see pending.ts); while any wait, later writes queue behind them. */
  private readonly pending = new PendingWrites();
  private faults: StoreFaults | null = null;

  private constructor(private readonly db: StoreDb) {}

  static open(dataDir: string, opts: StoreOptions = {}): Store {
    return new Store(StoreDb.open(dataDir, opts));
  }

  get path(): string {
    return this.db.path;
  }
  /** WAL + exclusive locking (see StoreOptions.exclusive). */
  get exclusive(): boolean {
    return this.db.exclusive;
  }

  close(): void {
    this.db.close();
  }

  // -------------------------------------------------------------------------------------------------------------------
  // A full disk: record writes are kept in memory and written when space returns; a new run or session is refused.

  /** Who hears about refused writes (the engine's disk watch). Without one, a full disk throws as any error does. */
  setFaults(faults: StoreFaults | null): void {
    this.faults = faults;
  }

  /** Writes kept for later, and of those the ledger's; writes dropped past the bound (never the ledger's). */
  pendingWrites(): { writes: number; ledgerWrites: number; dropped: number } {
    return { writes: this.pending.size, ledgerWrites: this.pending.ledgerWrites, dropped: this.pending.dropped };
  }

  /** Writes what was kept, in order. Returns the error that stopped it (the disk is still full), or null when all went. */
  flushPending(): Error | null {
    return this.pending.flush(
      (op) => this.apply(op),
      isDiskFull,
      (op, err) => this.faults?.dropped(op.kind === 'write' ? op.what : op.kind, err),
    );
  }

  private apply(op: PendingOp): number | void {
    switch (op.kind) {
      case 'usage-insert':
        return usage.insertUsageUnchecked(this.db, op.row);
      case 'usage-update': {
        const id = this.pending.realId(op.id);
        if (id !== null) usage.updateUsageUnchecked(this.db, id, op.patch, op.onlyIfState);
        return;
      }
      case 'screen':
        return runs.saveScreen(this.db, op.sessionId, op.screen);
      case 'write':
        return op.run();
    }
  }

  /** Whether a write must wait: writes are kept in order, so once one waits every later one does. */
  private refused(err: unknown): boolean {
    if (!this.faults || !isDiskFull(err)) return false;
    this.faults.diskFull(err as Error);
    return true;
  }

  /** A record write: now, or kept for later when the disk is full (or earlier writes still wait). */
  private write(what: string, run: () => void): void {
    if (this.pending.size === 0) {
      try {
        return run();
      } catch (err) {
        if (!this.refused(err)) throw err;
      }
    }
    this.pending.write(what, run);
  }

  /** A write that starts something new (a run, a session): refused with what to do when the disk is full. */
  private create(what: string, run: () => void): void {
    try {
      run();
    } catch (err) {
      if (!isDiskFull(err)) throw err;
      this.faults?.diskFull(err as Error);
      throw new StoreError(
        `the disk under ${this.db.path} is full (${(err as Error).message}): the ${what} was not started — free some space and try again`,
      );
    }
  }

  // Runs and sessions (runs.ts)
  /** `enginePid`: the process that runs the run's sessions (default: this one). */
  insertRun(run: RunInfo, templateJson: string, enginePid?: number): void {
    this.create('run', () => runs.insertRun(this.db, run, templateJson, enginePid));
  }
  updateRun(id: string, patch: Partial<RunInfo>): void {
    this.write('run', () => runs.updateRun(this.db, id, patch));
  }
  getRun(id: string): RunInfo | null {
    return runs.getRun(this.db, id);
  }
  /** The resolved template the run was launched with (JSON), for restarting its sessions later. */
  getRunTemplate(id: string): string | null {
    return runs.getRunTemplate(this.db, id);
  }
  listRuns(): RunInfo[] {
    return runs.listRuns(this.db);
  }
  deleteRun(id: string): void {
    this.write('run deletion', () => runs.deleteRun(this.db, id));
  }
  /** A run resumed by this engine becomes this engine's. */
  claimRun(id: string): void {
    this.write('run', () => runs.claimRun(this.db, id));
  }
  /** Runs of dead engines end; their sessions that were not final become 'interrupted'. */
  reconcileAfterRestart(): { runs: number; sessions: number } {
    return runs.reconcileAfterRestart(this.db);
  }
  insertSession(s: SessionInfo, launchJson: string): void {
    this.create('session', () => runs.insertSession(this.db, s, launchJson));
  }
  updateSession(id: string, patch: Partial<SessionInfo>): void {
    this.write('session', () => runs.updateSession(this.db, id, patch));
  }
  getSession(id: string): SessionInfo | null {
    return runs.getSession(this.db, id);
  }
  listSessions(runId?: string): SessionInfo[] {
    return runs.listSessions(this.db, runId);
  }
  /** Replaces the stored launch spec (command/args without secrets) after a (re)start; the session's budget stays. */
  saveScreen(sessionId: string, screen: { cols: number; rows: number; data: string }): void {
    if (this.pending.size === 0) {
      try {
        return runs.saveScreen(this.db, sessionId, screen);
      } catch (err) {
        if (!this.refused(err)) throw err;
      }
    }
    this.pending.screen(sessionId, screen);
  }
  getScreen(sessionId: string): { cols: number; rows: number; data: string } | null {
    return runs.getScreen(this.db, sessionId);
  }
  setSessionLaunch(id: string, launchJson: string): void {
    this.write('session launch', () => runs.setSessionLaunch(this.db, id, launchJson));
  }
  getSessionLaunch(id: string): string | null {
    return runs.getSessionLaunch(this.db, id);
  }
  setSessionBudget(id: string, usd: number | null): void {
    this.write('session budget', () => runs.setSessionBudget(this.db, id, usd));
  }
  getSessionBudget(id: string): number | null {
    return runs.getSessionBudget(this.db, id);
  }
  addStatus(sessionId: string, status: SessionStatus, detail: string | null, at?: string): void {
    this.write('status', () => runs.addStatus(this.db, sessionId, status, detail, at ?? new Date().toISOString()));
  }
  statusHistory(sessionId: string): { status: SessionStatus; detail: string | null; at: string }[] {
    return runs.statusHistory(this.db, sessionId);
  }

  // The spend ledger (usage.ts)
  /** Appends a ledger row; returns its id. */
  insertUsage(row: Omit<LedgerRow, 'id'>): number {
    return this.insertUsageUnchecked(usage.NewUsage.parse(row));
  }
  /**
   * insertUsage without the schema check: for the spend ledger's typed, pre-checked rows on the request path only.
   * While the disk is full the row is kept in memory and a provisional (negative) id returned; updates to it are kept
   * too, and applied to the real row once it is written.
   */
  insertUsageUnchecked(row: Omit<LedgerRow, 'id'>): number {
    if (this.pending.size === 0) {
      try {
        return usage.insertUsageUnchecked(this.db, row);
      } catch (err) {
        if (!this.refused(err)) throw err;
      }
    }
    return this.pending.insertUsage(row);
  }
  /** With `onlyIfState`, only while the row is in that state (a late progress write must not undo a close). */
  updateUsage(id: number, patch: Partial<LedgerRow>, onlyIfState?: UsageState): boolean {
    return this.updateUsageUnchecked(
      id,
      usage.UsagePatch.parse(patch),
      onlyIfState === undefined ? undefined : usage.UsageState.parse(onlyIfState),
    );
  }
  /** A kept update answers true: whether it changes a row is only known when it is written. */
  updateUsageUnchecked(id: number, patch: Partial<LedgerRow>, onlyIfState?: UsageState): boolean {
    const real = this.pending.realId(id);
    if (this.pending.size === 0 && real !== null) {
      try {
        return usage.updateUsageUnchecked(this.db, real, patch, onlyIfState);
      } catch (err) {
        if (!this.refused(err)) throw err;
      }
    }
    this.pending.updateUsage(id, patch, onlyIfState);
    return true;
  }
  /** Null for a row still kept in memory. */
  getUsage(id: number): LedgerRow | null {
    const real = this.pending.realId(id);
    return real === null ? null : usage.getUsage(this.db, real);
  }
  /** A run's ledger rows in the order they were opened. */
  listUsage(runId: string): LedgerRow[] {
    return usage.listUsage(this.db, runId);
  }
  listSessionUsage(sessionId: string): LedgerRow[] {
    return usage.listSessionUsage(this.db, sessionId);
  }
  /** Open rows of dead engines become 'interrupted', keeping the figures last written to them. */
  interruptOpenUsage(): number {
    return usage.interruptOpenUsage(this.db);
  }
  usageTotals(filter: { runId: string } | { sessionId: string }): usage.UsageSums {
    return usage.usageTotals(this.db, filter);
  }
}
