// The spend ledger: one row per model request, written through the store so that every figure is on disk when the call
// returns. A request's row is opened before it is forwarded, gets the usage seen so far now and then, and is closed
// with the final figures; a crash leaves it 'open', and the next engine start marks it 'interrupted' with what it had.
//
// Dollars are stored and summed unrounded (see prices.ts); round only to display.
import type { LedgerRow, SpendTotals, TokenCounts, UsageState } from '../../shared/contract.ts';
import type { Store } from '../store/index.ts';

export interface LedgerOpen {
  sessionId: string;
  runId: string;
  model: string | null;
  /** ISO time the request arrived at the proxy. */
  startedAt: string;
  /** The provider it went to (runs of several providers). */
  provider?: string | null;
}

/** The usage seen so far on an open request, and what it costs (the meter prices it). */
export interface LedgerProgress extends TokenCounts {
  usd: number;
  priced: boolean;
  /** The model, when the response names a different one than the request did. */
  model?: string | null;
}

export interface LedgerClose {
  /** One of exact, partial, error (or interrupted); never open or refused. */
  state: UsageState;
  usage: TokenCounts;
  usd: number;
  priced: boolean;
  ttftMs: number | null;
  durationMs: number | null;
  httpStatus: number | null;
  errorType: string | null;
  /** The model the response named, when it differs from the request's. */
  model?: string | null;
  /** Default: now. */
  endedAt?: string;
  /** It failed before the first byte and went on to another provider. */
  failedOver?: boolean;
}

export interface LedgerRefusal extends LedgerOpen {
  /** What the agent was answered; default 429 budget_exceeded. */
  httpStatus?: number;
  errorType?: string;
}

/**
 * Sums of a run's or a session's ledger. Dollars and tokens count rows whose state is exact, partial, interrupted or
 * error; `requests` counts every row that is not 'refused' (open ones included); `unpricedTokens` are the tokens of
 * billed rows whose model has no price.
 */
export type LedgerTotals = Omit<SpendTotals, 'referenceModel' | 'referenceUsd' | 'savingsUsd' | 'budgetUsd' | 'estimateUsd'> & {
  /** Rows still open, and the estimate last written to them (not part of `usd`). */
  openRequests: number;
  openUsd: number;
  /** Requests the meter refused for budget. */
  refused: number;
  /** Tokens of billed rows of priced models: compare these with the reference model, or savings include unpriced tokens. */
  pricedUsage: TokenCounts;
};

const CLOSED_STATES: readonly UsageState[] = ['exact', 'partial', 'interrupted', 'error'];

function nonNegInt(n: number, what: string): number {
  if (!Number.isFinite(n) || n < 0) throw new Error(`ledger: ${what} must be a count of 0 or more (got ${n})`);
  return Math.round(n);
}

function tokens(u: TokenCounts): TokenCounts {
  return {
    inputTokens: nonNegInt(u.inputTokens, 'inputTokens'),
    cacheReadTokens: nonNegInt(u.cacheReadTokens, 'cacheReadTokens'),
    cacheWriteTokens: nonNegInt(u.cacheWriteTokens, 'cacheWriteTokens'),
    outputTokens: nonNegInt(u.outputTokens, 'outputTokens'),
  };
}

/** Dollars of an unpriced row are unknown, stored as 0 (the row's `priced` says so); never NaN. */
function dollars(usd: number, priced: boolean): number {
  if (!priced) return 0;
  if (!Number.isFinite(usd) || usd < 0) throw new Error(`ledger: usd must be a number of 0 or more (got ${usd})`);
  return usd;
}

/** A duration or HTTP status as the contract allows it (what the store's schema check would have refused). */
function optFinite(v: number | null, what: string, int = false): number | null {
  if (v === null || (int ? Number.isInteger(v) : Number.isFinite(v))) return v;
  throw new Error(`ledger: ${what} must be ${int ? 'an integer' : 'a finite number'} or null (got ${v})`);
}

/** A row with no tokens and no dollars yet: what `open` and `refuse` write. */
function emptyRow(
  e: { sessionId: string; runId: string; model: string | null; startedAt: string; provider?: string | null },
  rest: Pick<LedgerRow, 'state' | 'durationMs' | 'httpStatus' | 'errorType' | 'endedAt'>,
): Omit<LedgerRow, 'id'> {
  return {
    sessionId: e.sessionId,
    runId: e.runId,
    model: e.model,
    inputTokens: 0,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    outputTokens: 0,
    usd: 0,
    priced: true,
    ttftMs: null,
    startedAt: e.startedAt,
    provider: e.provider ?? null,
    failedOver: false,
    ...rest,
  };
}

// Rows and patches here are typed (Omit<LedgerRow, 'id'> / Partial<LedgerRow>) and their figures checked above, so
// they go to the store's unchecked writes: a schema parse per request would cost more than the SQLite write itself.
export class SpendLedger {
  constructor(readonly store: Store) {}

  /** A new 'open' row with zero figures; returns its id. */
  open(e: LedgerOpen): number {
    return this.store.insertUsageUnchecked(
      emptyRow(e, { state: 'open', durationMs: null, httpStatus: null, errorType: null, endedAt: null }),
    );
  }

  /**
   * Writes the usage seen so far on an open row (each call is a durable write: call it rarely, e.g. once a second per
   * request). Ignored once the row is closed. Returns whether it wrote.
   */
  progress(id: number, f: LedgerProgress): boolean {
    return this.store.updateUsageUnchecked(
      id,
      {
        ...tokens(f),
        usd: dollars(f.usd, f.priced),
        priced: f.priced,
        ...(f.model !== undefined ? { model: f.model } : {}),
      },
      'open',
    );
  }

  /** The final figures of a request. */
  close(id: number, f: LedgerClose): void {
    if (!CLOSED_STATES.includes(f.state)) {
      throw new Error(`ledger: a row closes as ${CLOSED_STATES.join(', ')}, not '${f.state}'`);
    }
    const changed = this.store.updateUsageUnchecked(id, {
      ...tokens(f.usage),
      usd: dollars(f.usd, f.priced),
      priced: f.priced,
      state: f.state,
      ttftMs: optFinite(f.ttftMs, 'ttftMs'),
      durationMs: optFinite(f.durationMs, 'durationMs'),
      httpStatus: optFinite(f.httpStatus, 'httpStatus', true),
      errorType: f.errorType,
      endedAt: f.endedAt ?? new Date().toISOString(),
      ...(f.model !== undefined ? { model: f.model } : {}),
      ...(f.failedOver ? { failedOver: true } : {}),
    });
    if (!changed) throw new Error(`ledger: no usage row ${id}`);
  }

  /** A request the meter turned away (budget): it never reached the provider, costs nothing, is no billed request. */
  refuse(e: LedgerRefusal): number {
    return this.store.insertUsageUnchecked(
      emptyRow(e, {
        state: 'refused',
        durationMs: 0,
        httpStatus: optFinite(e.httpStatus ?? 429, 'httpStatus', true),
        errorType: e.errorType ?? 'budget_exceeded',
        endedAt: e.startedAt,
      }),
    );
  }

  /** Open rows of a dead engine → 'interrupted' (see Store.interruptOpenUsage). Call once at engine start. */
  interruptOpen(): number {
    return this.store.interruptOpenUsage();
  }

  totals(filter: { runId: string } | { sessionId: string }): LedgerTotals {
    const t = this.store.usageTotals(filter);
    return {
      usd: t.usd,
      inputTokens: t.inputTokens,
      cacheReadTokens: t.cacheReadTokens,
      cacheWriteTokens: t.cacheWriteTokens,
      outputTokens: t.outputTokens,
      requests: t.requests,
      unpricedTokens: t.unpricedTokens,
      openRequests: t.openRequests,
      openUsd: t.openUsd,
      refused: t.refused,
      pricedUsage: {
        inputTokens: t.pricedInputTokens,
        cacheReadTokens: t.pricedCacheReadTokens,
        cacheWriteTokens: t.pricedCacheWriteTokens,
        outputTokens: t.pricedOutputTokens,
      },
    };
  }

  /** A run's rows in the order they were opened. */
  rows(runId: string): LedgerRow[] {
    return this.store.listUsage(runId);
  }

  sessionRows(sessionId: string): LedgerRow[] {
    return this.store.listSessionUsage(sessionId);
  }

  /**
   * A run's ledger as CSV (RFC 4180: CRLF line ends, fields with a comma, quote or line break quoted, quotes doubled).
   * The usd cell is empty for an unpriced row (dollars unknown) and for an open one (only an estimate so far). Dollars
   * are written to the pico-dollar (12 decimals, trailing zeros dropped, never an exponent): 1 token at $0.95/M reads
   * 0.00000095, not the double's 0.0000009499999999999999, and the column still adds up to totals({runId}).usd within
   * a micro-dollar for up to two million rows.
   */
  csv(runId: string): string {
    const lines = [CSV_COLUMNS.map(([name]) => name)];
    for (const row of this.rows(runId)) lines.push(CSV_COLUMNS.map(([, cell]) => cell(row)));
    return lines.map((cells) => cells.map(csvField).join(',')).join('\r\n') + '\r\n';
  }
}

const num = (v: number | null): string => (v === null ? '' : plainNumber(v));

const CSV_COLUMNS: readonly [string, (r: LedgerRow) => string][] = [
  ['id', (r) => String(r.id)],
  ['session_id', (r) => r.sessionId],
  ['run_id', (r) => r.runId],
  ['model', (r) => r.model ?? ''],
  ['state', (r) => r.state],
  ['priced', (r) => (r.priced ? 'true' : 'false')],
  ['input_tokens', (r) => String(r.inputTokens)],
  ['cache_read_tokens', (r) => String(r.cacheReadTokens)],
  ['cache_write_tokens', (r) => String(r.cacheWriteTokens)],
  ['output_tokens', (r) => String(r.outputTokens)],
  ['usd', (r) => (!r.priced || r.state === 'open' ? '' : usdCell(r.usd))],
  ['ttft_ms', (r) => num(r.ttftMs)],
  ['duration_ms', (r) => num(r.durationMs)],
  ['http_status', (r) => num(r.httpStatus)],
  ['error_type', (r) => r.errorType ?? ''],
  ['started_at', (r) => r.startedAt],
  ['ended_at', (r) => r.endedAt ?? ''],
  ['provider', (r) => r.provider ?? ''],
  ['failed_over', (r) => (r.failedOver ? 'true' : 'false')],
];

/** Dollars to 12 decimals without trailing zeros: 9.499999999999999e-7 → 0.00000095. */
export function usdCell(usd: number): string {
  return usd
    .toFixed(12)
    .replace(/(\.\d*?)0+$/, '$1')
    .replace(/\.$/, '');
}

export function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The shortest decimal that reads back as the same double, without exponent notation (1.5e-7 → 0.00000015). */
export function plainNumber(n: number): string {
  const s = String(n);
  const m = /^(-?)(\d+)(?:\.(\d+))?e([+-]\d+)$/.exec(s);
  if (!m) return s;
  const [, sign, int, frac = '', expText] = m;
  const exp = Number(expText);
  const digits = int! + frac;
  const point = int!.length + exp;
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}
