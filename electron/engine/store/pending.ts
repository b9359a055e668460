// Writes the disk refused, kept in memory in order until space returns (store.ts flushes them). Ledger rows get a
// provisional id (negative) so the request that opened one can still progress and close it; the real id replaces it
// when the row is written. Progress figures of a row and a session's stored screen are superseded by later ones, so
// they are merged instead of queued again. The queue is bounded: past PENDING_LIMIT only ledger writes are still kept
// (new model requests are held while the disk is full, so those stay few); other writes are dropped and counted.
import type { LedgerRow, UsageState } from '../../shared/contract.ts';

/** Writes kept at most, ledger writes aside (~100 bytes to a few KB each; a stored screen is at most 256 KB). */
export const PENDING_LIMIT = 10_000;
/** Provisional ids remembered after their row was written (requests still in flight close them later). */
const REAL_IDS_KEPT = 10_000;

export type PendingOp =
  | { kind: 'usage-insert'; tempId: number; row: Omit<LedgerRow, 'id'> }
  | { kind: 'usage-update'; id: number; patch: Partial<LedgerRow>; onlyIfState?: UsageState }
  | { kind: 'screen'; sessionId: string; screen: { cols: number; rows: number; data: string } }
  | { kind: 'write'; what: string; run: () => void };

export class PendingWrites {
  private ops: PendingOp[] = [];
  private nextTempId = -1;
  private readonly realIds = new Map<number, number>();
  /** The queued progress write of a row, and the queued screen of a session (merged into while queued). */
  private readonly progressOf = new Map<number, Extract<PendingOp, { kind: 'usage-update' }>>();
  private readonly screenOf = new Map<string, Extract<PendingOp, { kind: 'screen' }>>();
  /** Writes dropped past the limit (never ledger writes). */
  dropped = 0;

  get size(): number {
    return this.ops.length;
  }

  /** Ledger writes waiting (rows opened, progressed or closed). */
  get ledgerWrites(): number {
    return this.ops.filter((o) => o.kind === 'usage-insert' || o.kind === 'usage-update').length;
  }

  /** A provisional id for a ledger row kept here. */
  insertUsage(row: Omit<LedgerRow, 'id'>): number {
    const tempId = this.nextTempId--;
    this.ops.push({ kind: 'usage-insert', tempId, row });
    return tempId;
  }

  updateUsage(id: number, patch: Partial<LedgerRow>, onlyIfState?: UsageState): void {
    const progress = onlyIfState === 'open';
    const queued = progress ? this.progressOf.get(id) : undefined;
    if (queued) {
      queued.patch = { ...queued.patch, ...patch };
      return;
    }
    const op: PendingOp = { kind: 'usage-update', id, patch, ...(onlyIfState !== undefined ? { onlyIfState } : {}) };
    this.ops.push(op);
    if (progress) this.progressOf.set(id, op);
  }

  screen(sessionId: string, screen: { cols: number; rows: number; data: string }): void {
    const queued = this.screenOf.get(sessionId);
    if (queued) {
      queued.screen = screen;
      return;
    }
    if (!this.room()) return;
    const op: PendingOp = { kind: 'screen', sessionId, screen };
    this.ops.push(op);
    this.screenOf.set(sessionId, op);
  }

  write(what: string, run: () => void): void {
    if (this.room()) this.ops.push({ kind: 'write', what, run });
  }

  /** The written row's id for a provisional one (null: not written yet); real ids pass through. */
  realId(id: number): number | null {
    return id >= 0 ? id : (this.realIds.get(id) ?? null);
  }

  /**
   * Applies the queued writes in order through `apply` until one fails with an error `stop` accepts (it stays first);
   * any other error drops that write and is handed to `failed`. Returns the error that stopped it, or null when empty.
   */
  flush(
    apply: (op: PendingOp) => number | void,
    stop: (err: unknown) => boolean,
    failed: (op: PendingOp, err: Error) => void,
  ): Error | null {
    while (this.ops.length > 0) {
      const op = this.ops[0]!;
      try {
        const id = apply(op);
        if (op.kind === 'usage-insert' && typeof id === 'number') this.remember(op.tempId, id);
      } catch (err) {
        if (stop(err)) return err as Error;
        failed(op, err as Error);
      }
      this.ops.shift();
      if (op.kind === 'usage-update' && this.progressOf.get(op.id) === op) this.progressOf.delete(op.id);
      if (op.kind === 'screen' && this.screenOf.get(op.sessionId) === op) this.screenOf.delete(op.sessionId);
    }
    return null;
  }

  private room(): boolean {
    if (this.ops.length < PENDING_LIMIT) return true;
    this.dropped++;
    return false;
  }

  private remember(tempId: number, id: number): void {
    this.realIds.set(tempId, id);
    if (this.realIds.size > REAL_IDS_KEPT) this.realIds.delete(this.realIds.keys().next().value!);
  }
}
