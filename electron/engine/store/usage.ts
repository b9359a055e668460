// The spend ledger's table: one row per model request, figures stored as given (no rounding), totals summed by SQL.
import { BILLED_USAGE_STATES, type LedgerRow, UsageState } from '../../shared/contract.ts';
import { INSERT_USAGE_SQL, NEW_USAGE_FIELDS, NewUsage, USAGE_FIELDS, UsagePatch, rowToUsage, setClause, toParam } from './columns.ts';
import { pidAlive, type StoreDb } from './db.ts';

const now = (): string => new Date().toISOString();

/** Sums over a run's or a session's ledger rows (see Store.usageTotals). */
export interface UsageSums {
  /** Over billed rows (BILLED_USAGE_STATES). */
  usd: number;
  inputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  outputTokens: number;
  /** Billed rows of models without a price: all their tokens. */
  unpricedTokens: number;
  /** Billed rows of priced models only: their tokens (what a savings comparison may use). */
  pricedInputTokens: number;
  pricedCacheReadTokens: number;
  pricedCacheWriteTokens: number;
  pricedOutputTokens: number;
  /** Rows that are not 'refused' (open ones included). */
  requests: number;
  /** Rows still 'open', and the estimate last written to them. */
  openRequests: number;
  openUsd: number;
  /** Rows 'refused' by the meter. */
  refused: number;
}

function usageTotalsSql(col: 'run_id' | 'session_id'): string {
  const billed = `state IN (${BILLED_USAGE_STATES.map((s) => `'${s}'`).join(', ')})`;
  const tokens = 'input_tokens + cache_read_tokens + cache_write_tokens + output_tokens';
  const sumIf = (cond: string, expr: string) => `COALESCE(SUM(CASE WHEN ${cond} THEN ${expr} END), 0)`;
  return `SELECT
        TOTAL(CASE WHEN ${billed} THEN usd END) AS usd,
        ${sumIf(billed, 'input_tokens')} AS input_tokens,
        ${sumIf(billed, 'cache_read_tokens')} AS cache_read_tokens,
        ${sumIf(billed, 'cache_write_tokens')} AS cache_write_tokens,
        ${sumIf(billed, 'output_tokens')} AS output_tokens,
        ${sumIf(`${billed} AND priced = 0`, tokens)} AS unpriced_tokens,
        ${sumIf(`${billed} AND priced <> 0`, 'input_tokens')} AS priced_input_tokens,
        ${sumIf(`${billed} AND priced <> 0`, 'cache_read_tokens')} AS priced_cache_read_tokens,
        ${sumIf(`${billed} AND priced <> 0`, 'cache_write_tokens')} AS priced_cache_write_tokens,
        ${sumIf(`${billed} AND priced <> 0`, 'output_tokens')} AS priced_output_tokens,
        ${sumIf("state <> 'refused' AND failed_over = 0", '1')} AS requests,
        ${sumIf("state = 'open'", '1')} AS open_requests,
        TOTAL(CASE WHEN state = 'open' THEN usd END) AS open_usd,
        ${sumIf("state = 'refused'", '1')} AS refused
      FROM usage WHERE ${col} = ?`;
}

const USAGE_TOTALS_SQL = { run_id: usageTotalsSql('run_id'), session_id: usageTotalsSql('session_id') };

export { NewUsage, UsagePatch, UsageState };

/**
 * insertUsage without validating the row against the contract schema: for the spend ledger (meter/ledger.ts), whose
 * rows are typed and built from figures it checked itself, on the hot path of every model request. Data from
 * anywhere else goes through insertUsage.
 */
export function insertUsageUnchecked(db: StoreDb, row: Omit<LedgerRow, 'id'>): number {
  const values = NEW_USAGE_FIELDS.map(([k, c]) => toParam(c, row[k]));
  const id = db.withLockRetry(() => Number(db.runNow(INSERT_USAGE_SQL, values).lastInsertRowid));
  db.wrote();
  return id;
}

/**
 * Changes the fields a patch names (unchecked: callers parse with UsagePatch first, or are the spend ledger). With
 * `onlyIfState`, only while the row is in that state (a late progress write must not undo a close). Returns whether a
 * row changed.
 */
export function updateUsageUnchecked(db: StoreDb, id: number, patch: Partial<LedgerRow>, onlyIfState?: UsageState): boolean {
  const { sql, values } = setClause(USAGE_FIELDS, patch);
  if (!sql) return false;
  if (onlyIfState === undefined) return db.run(`UPDATE usage SET ${sql} WHERE id = ?`, [...values, id]) > 0;
  return db.run(`UPDATE usage SET ${sql} WHERE id = ? AND state = ?`, [...values, id, onlyIfState]) > 0;
}

export function getUsage(db: StoreDb, id: number): LedgerRow | null {
  const row = db.get('SELECT * FROM usage WHERE id = ?', [id]);
  return row ? rowToUsage(row) : null;
}

/** A run's ledger rows in the order they were opened. */
export function listUsage(db: StoreDb, runId: string): LedgerRow[] {
  return db.all('SELECT * FROM usage WHERE run_id = ? ORDER BY id', [runId]).map(rowToUsage);
}

export function listSessionUsage(db: StoreDb, sessionId: string): LedgerRow[] {
  return db.all('SELECT * FROM usage WHERE session_id = ? ORDER BY id', [sessionId]).map(rowToUsage);
}

/**
 * After an engine died: its 'open' rows become 'interrupted' (ended now), keeping the figures last written to them.
 * Rows of runs owned by another live engine on this data dir are left alone. Call before this engine serves any
 * request: rows this process opened count as a dead engine's (a restarted engine may get the same pid in a container).
 */
export function interruptOpenUsage(db: StoreDb): number {
  const at = now();
  return db.transaction(() => {
    const open = db.allNow("SELECT u.id, r.engine_pid FROM usage u LEFT JOIN runs r ON r.id = u.run_id WHERE u.state = 'open'");
    const ids = open
      .filter(
        (r) =>
          r.engine_pid === null || r.engine_pid === undefined || Number(r.engine_pid) === process.pid || !pidAlive(Number(r.engine_pid)),
      )
      .map((r) => Number(r.id));
    for (const id of ids) db.runNow("UPDATE usage SET state = 'interrupted', ended_at = ? WHERE id = ? AND state = 'open'", [at, id]);
    return ids.length;
  });
}

/** Sums of a run's or a session's ledger, computed by SQL (unrounded). */
export function usageTotals(db: StoreDb, filter: { runId: string } | { sessionId: string }): UsageSums {
  const [sql, key] = 'runId' in filter ? [USAGE_TOTALS_SQL.run_id, filter.runId] : [USAGE_TOTALS_SQL.session_id, filter.sessionId];
  const row = db.get(sql, [key])!;
  const n = (k: string) => Number(row[k] ?? 0);
  return {
    usd: n('usd'),
    inputTokens: n('input_tokens'),
    cacheReadTokens: n('cache_read_tokens'),
    cacheWriteTokens: n('cache_write_tokens'),
    outputTokens: n('output_tokens'),
    unpricedTokens: n('unpriced_tokens'),
    pricedInputTokens: n('priced_input_tokens'),
    pricedCacheReadTokens: n('priced_cache_read_tokens'),
    pricedCacheWriteTokens: n('priced_cache_write_tokens'),
    pricedOutputTokens: n('priced_output_tokens'),
    requests: n('requests'),
    openRequests: n('open_requests'),
    openUsd: n('open_usd'),
    refused: n('refused'),
  };
}
