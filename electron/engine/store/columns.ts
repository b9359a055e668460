// Field ↔ column mapping for the store's tables: contract objects in, contract objects out (validated on the way out,
// so a database written by another version fails with a sentence rather than a wrong screen).
import { LedgerRow, RunInfo, SessionInfo } from '../../shared/contract.ts';
import type { Param, Row } from './db.ts';
import { StoreError } from './errors.ts';

export interface Column {
  col: string;
  /** JS value → SQLite value */
  put?: (v: unknown) => Param;
  /** SQLite row → JS value */
  get?: (row: Row) => unknown;
}

const plain = (col: string): Column => ({ col });
const json = (col: string): Column => ({
  col,
  put: (v) => JSON.stringify(v),
  get: (row) => JSON.parse(String(row[col])),
});

/** `host` and `sandbox(es)` are never stored: the relaying engine, or the live run's template, sets them. */
export const RUN_FIELDS: Record<Exclude<keyof RunInfo, 'budget' | 'host' | 'sandbox' | 'sandboxes'>, Column> = {
  id: plain('id'),
  name: plain('name'),
  slug: plain('slug'),
  repo: plain('repo'),
  base: plain('base'),
  baseCommit: plain('base_commit'),
  workspace: plain('workspace'),
  state: plain('state'),
  templatePath: plain('template_path'),
  model: plain('model'),
  agentPreset: plain('agent_preset'),
  providerPreset: plain('provider_preset'),
  concurrency: plain('concurrency'),
  startedAt: plain('started_at'),
  endedAt: plain('ended_at'),
  error: plain('error'),
};

export const SESSION_FIELDS: Record<Exclude<keyof SessionInfo, 'host'>, Column> = {
  id: plain('id'),
  runId: plain('run_id'),
  slot: plain('slot'),
  task: plain('task'),
  status: plain('status'),
  statusDetail: plain('status_detail'),
  branch: plain('branch'),
  worktree: plain('worktree'),
  command: plain('command'),
  args: json('args_json'),
  agentSessionId: plain('agent_session_id'),
  pid: plain('pid'),
  exitCode: plain('exit_code'),
  signal: plain('signal'),
  startedAt: plain('started_at'),
  endedAt: plain('ended_at'),
  cols: plain('cols'),
  rows: plain('rows'),
};

export const USAGE_FIELDS: Record<keyof LedgerRow, Column> = {
  id: plain('id'),
  sessionId: plain('session_id'),
  runId: plain('run_id'),
  model: plain('model'),
  inputTokens: plain('input_tokens'),
  cacheReadTokens: plain('cache_read_tokens'),
  cacheWriteTokens: plain('cache_write_tokens'),
  outputTokens: plain('output_tokens'),
  usd: plain('usd'),
  priced: { col: 'priced', put: (v) => (v ? 1 : 0), get: (row) => Number(row.priced) !== 0 },
  state: plain('state'),
  ttftMs: plain('ttft_ms'),
  durationMs: plain('duration_ms'),
  httpStatus: plain('http_status'),
  errorType: plain('error_type'),
  startedAt: plain('started_at'),
  endedAt: plain('ended_at'),
  provider: plain('provider'),
  failedOver: { col: 'failed_over', put: (v) => (v ? 1 : 0), get: (row) => Number(row.failed_over) !== 0 },
};

export function toParam(c: Column, v: unknown): Param {
  if (c.put) return c.put(v);
  if (v === undefined || v === null) return null;
  if (typeof v === 'string' || typeof v === 'number') return v;
  return JSON.stringify(v);
}

/** SET clause and values for the fields a patch names (undefined means "leave as is"). */
export function setClause(fields: Record<string, Column>, patch: Record<string, unknown>): { sql: string; values: Param[] } {
  const parts: string[] = [];
  const values: Param[] = [];
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined || key === 'id') continue;
    const c = fields[key];
    if (!c) continue;
    parts.push(`${c.col} = ?`);
    values.push(toParam(c, value));
  }
  return { sql: parts.join(', '), values };
}

export function rowToRun(row: Row): RunInfo {
  const obj: Record<string, unknown> = {};
  for (const [key, c] of Object.entries(RUN_FIELDS)) obj[key] = c.get ? c.get(row) : row[c.col];
  obj.budget = { perSessionUsd: row.budget_per_session_usd ?? null, runUsd: row.budget_run_usd ?? null };
  return parseRow(RunInfo, obj, `run ${String(row.id)}`);
}

export function rowToSession(row: Row): SessionInfo {
  const obj: Record<string, unknown> = {};
  for (const [key, c] of Object.entries(SESSION_FIELDS)) obj[key] = c.get ? c.get(row) : row[c.col];
  return parseRow(SessionInfo, obj, `session ${String(row.id)}`);
}

function parseRow<T>(
  schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: Error } },
  v: unknown,
  what: string,
): T {
  const r = schema.safeParse(v);
  if (!r.success) throw new StoreError(`stored ${what} does not match this version of Flotilla: ${r.error.message}`);
  return r.data;
}

export function rowToUsage(row: Row): LedgerRow {
  const obj: Record<string, unknown> = {};
  for (const [key, c] of Object.entries(USAGE_FIELDS)) obj[key] = c.get ? c.get(row) : row[c.col];
  return parseRow(LedgerRow, obj, `usage row ${String(row.id)}`);
}

export const NewUsage = LedgerRow.omit({ id: true });
export const NEW_USAGE_FIELDS = Object.entries(USAGE_FIELDS).filter(([k]) => k !== 'id') as [keyof Omit<LedgerRow, 'id'>, Column][];
export const INSERT_USAGE_SQL = `INSERT INTO usage (${NEW_USAGE_FIELDS.map(([, c]) => c.col).join(', ')}) VALUES (${NEW_USAGE_FIELDS.map(() => '?').join(', ')})`;
export const UsagePatch = LedgerRow.partial();

export const RunPatch = RunInfo.partial();
export const SessionPatch = SessionInfo.partial();
