// The store: runs, sessions, their status history and the spend ledger in <dataDir>/flotilla.db. One object per open
// database; each method is one transaction, on disk when it returns (see db.ts for locking and WAL, runs.ts and
// usage.ts for the SQL).
import type { LedgerRow, RunInfo, SessionInfo, SessionStatus, UsageState } from '../../shared/contract.ts';
import { StoreDb, type StoreOptions } from './db.ts';
import * as runs from './runs.ts';
import * as usage from './usage.ts';

export class Store {
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

  // Runs and sessions (runs.ts)
  /** `enginePid`: the process that runs the run's sessions (default: this one). */
  insertRun(run: RunInfo, templateJson: string, enginePid?: number): void {
    runs.insertRun(this.db, run, templateJson, enginePid);
  }
  updateRun(id: string, patch: Partial<RunInfo>): void {
    runs.updateRun(this.db, id, patch);
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
    runs.deleteRun(this.db, id);
  }
  /** A run resumed by this engine becomes this engine's. */
  claimRun(id: string): void {
    runs.claimRun(this.db, id);
  }
  /** Runs of dead engines end; their sessions that were not final become 'interrupted'. */
  reconcileAfterRestart(): { runs: number; sessions: number } {
    return runs.reconcileAfterRestart(this.db);
  }
  insertSession(s: SessionInfo, launchJson: string): void {
    runs.insertSession(this.db, s, launchJson);
  }
  updateSession(id: string, patch: Partial<SessionInfo>): void {
    runs.updateSession(this.db, id, patch);
  }
  getSession(id: string): SessionInfo | null {
    return runs.getSession(this.db, id);
  }
  listSessions(runId?: string): SessionInfo[] {
    return runs.listSessions(this.db, runId);
  }
  /** Replaces the stored launch spec (command/args without secrets) after a (re)start; the session's budget stays. */
  saveScreen(sessionId: string, screen: { cols: number; rows: number; data: string }): void {
    runs.saveScreen(this.db, sessionId, screen);
  }
  getScreen(sessionId: string): { cols: number; rows: number; data: string } | null {
    return runs.getScreen(this.db, sessionId);
  }
  setSessionLaunch(id: string, launchJson: string): void {
    runs.setSessionLaunch(this.db, id, launchJson);
  }
  getSessionLaunch(id: string): string | null {
    return runs.getSessionLaunch(this.db, id);
  }
  setSessionBudget(id: string, usd: number | null): void {
    runs.setSessionBudget(this.db, id, usd);
  }
  getSessionBudget(id: string): number | null {
    return runs.getSessionBudget(this.db, id);
  }
  addStatus(sessionId: string, status: SessionStatus, detail: string | null, at?: string): void {
    runs.addStatus(this.db, sessionId, status, detail, at);
  }
  statusHistory(sessionId: string): { status: SessionStatus; detail: string | null; at: string }[] {
    return runs.statusHistory(this.db, sessionId);
  }

  // The spend ledger (usage.ts)
  /** Appends a ledger row; returns its id. */
  insertUsage(row: Omit<LedgerRow, 'id'>): number {
    return usage.insertUsage(this.db, row);
  }
  /** insertUsage without the schema check: for the spend ledger's typed, pre-checked rows on the request path only. */
  insertUsageUnchecked(row: Omit<LedgerRow, 'id'>): number {
    return usage.insertUsageUnchecked(this.db, row);
  }
  /** With `onlyIfState`, only while the row is in that state (a late progress write must not undo a close). */
  updateUsage(id: number, patch: Partial<LedgerRow>, onlyIfState?: UsageState): boolean {
    return usage.updateUsage(this.db, id, patch, onlyIfState);
  }
  updateUsageUnchecked(id: number, patch: Partial<LedgerRow>, onlyIfState?: UsageState): boolean {
    return usage.updateUsageUnchecked(this.db, id, patch, onlyIfState);
  }
  getUsage(id: number): LedgerRow | null {
    return usage.getUsage(this.db, id);
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
