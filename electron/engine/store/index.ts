// Persistence: runs, sessions and their status history in <dataDir>/flotilla.db (SQLite compiled to WASM, so nothing to
// rebuild per platform or Electron version). Every write is its own transaction and is on disk when the call returns.
import { closeSync, mkdirSync, openSync, readSync, readdirSync, rmdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { mkdir, open as openAsync, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import sqlite from 'node-sqlite3-wasm';
import { LedgerRow, RunInfo, SessionInfo, SessionStatus, FINAL_STATUSES, UsageState } from '../../shared/contract.ts';

const { Database } = sqlite;
type Db = InstanceType<typeof Database>;
type Stmt = ReturnType<Db['prepare']>;
type Row = Record<string, unknown>;
type Param = string | number | null;

export class StoreError extends Error {
  constructor(message: string) {
    super(message);
    // engine/errors.ts maps errors to wire codes by name.
    this.name = 'StoreError';
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// Data dir

function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? join(homedir(), p.slice(1)) : p;
}

export function defaultDataDir(): string {
  const env = process.env.FLOTILLA_HOME;
  return env ? resolve(expandHome(env)) : join(homedir(), '.flotilla');
}

export async function ensureDataDir(dir: string): Promise<string> {
  const abs = resolve(expandHome(dir));
  const probe = join(abs, `.write-probe-${process.pid}-${Math.random().toString(36).slice(2)}`);
  try {
    await mkdir(abs, { recursive: true });
    await writeFile(probe, 'flotilla');
    await rm(probe, { force: true });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const reason = e.code ? `${e.code}: ${e.message.replace(/^\w+: /, '')}` : e.message;
    throw new StoreError(
      `data dir ${abs} is not writable (${reason}) — pass --data-dir or set FLOTILLA_HOME to a writable folder`,
    );
  }
  return abs;
}

// ---------------------------------------------------------------------------------------------------------------------
// Schema. Append migrations, never edit one that has shipped: user_version counts how many a database has applied.

const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    slug TEXT NOT NULL,
    repo TEXT NOT NULL,
    base TEXT NOT NULL,
    base_commit TEXT,
    workspace TEXT NOT NULL,
    state TEXT NOT NULL,
    template_path TEXT,
    model TEXT NOT NULL,
    agent_preset TEXT NOT NULL,
    provider_preset TEXT NOT NULL,
    budget_per_session_usd REAL,
    budget_run_usd REAL,
    concurrency INTEGER NOT NULL,
    started_at TEXT NOT NULL,
    ended_at TEXT,
    error TEXT,
    template_json TEXT NOT NULL
  );
  CREATE INDEX runs_started_at ON runs (started_at);
  CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    slot INTEGER NOT NULL,
    task TEXT,
    status TEXT NOT NULL,
    status_detail TEXT,
    branch TEXT,
    worktree TEXT NOT NULL,
    command TEXT NOT NULL,
    args_json TEXT NOT NULL,
    agent_session_id TEXT,
    pid INTEGER,
    exit_code INTEGER,
    signal TEXT,
    started_at TEXT,
    ended_at TEXT,
    cols INTEGER NOT NULL,
    rows INTEGER NOT NULL,
    launch_json TEXT NOT NULL,
    UNIQUE (run_id, slot)
  );
  CREATE INDEX sessions_status ON sessions (status);
  CREATE TABLE status_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    detail TEXT,
    at TEXT NOT NULL
  );
  CREATE INDEX status_history_session ON status_history (session_id, id);
  `,
  // The engine process that owns a run: another engine on the same data dir must not reconcile a run whose owner lives.
  `ALTER TABLE runs ADD COLUMN engine_pid INTEGER;`,
  // The spend ledger: one row per model request the meter saw. No foreign key: a row must never be refused because the
  // run or session it names is not (yet) in the store; deleteRun removes a run's rows itself.
  `
  CREATE TABLE usage (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id TEXT NOT NULL,
    run_id TEXT NOT NULL,
    model TEXT,
    input_tokens INTEGER NOT NULL DEFAULT 0,
    cache_read_tokens INTEGER NOT NULL DEFAULT 0,
    cache_write_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    usd REAL NOT NULL DEFAULT 0,
    priced INTEGER NOT NULL DEFAULT 1,
    state TEXT NOT NULL,
    ttft_ms REAL,
    duration_ms REAL,
    http_status INTEGER,
    error_type TEXT,
    started_at TEXT NOT NULL,
    ended_at TEXT
  );
  CREATE INDEX usage_run ON usage (run_id);
  CREATE INDEX usage_session ON usage (session_id);
  CREATE INDEX usage_open ON usage (state) WHERE state = 'open';
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

// ---------------------------------------------------------------------------------------------------------------------
// Field ↔ column mapping

interface Column {
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

const RUN_FIELDS: Record<Exclude<keyof RunInfo, 'budget'>, Column> = {
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

const SESSION_FIELDS: Record<keyof SessionInfo, Column> = {
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

const USAGE_FIELDS: Record<keyof LedgerRow, Column> = {
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
};

/** Ledger states whose dollars and tokens count as spent ('open' is an estimate, 'refused' never reached the provider). */
export const BILLED_USAGE_STATES: readonly UsageState[] = ['exact', 'partial', 'interrupted', 'error'];

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
        ${sumIf("state <> 'refused'", '1')} AS requests,
        ${sumIf("state = 'open'", '1')} AS open_requests,
        TOTAL(CASE WHEN state = 'open' THEN usd END) AS open_usd,
        ${sumIf("state = 'refused'", '1')} AS refused
      FROM usage WHERE ${col} = ?`;
}

const USAGE_TOTALS_SQL = { run_id: usageTotalsSql('run_id'), session_id: usageTotalsSql('session_id') };

function toParam(c: Column, v: unknown): Param {
  if (c.put) return c.put(v);
  if (v === undefined || v === null) return null;
  if (typeof v === 'string' || typeof v === 'number') return v;
  return JSON.stringify(v);
}

/** SET clause and values for the fields a patch names (undefined means "leave as is"). */
function setClause(fields: Record<string, Column>, patch: Record<string, unknown>): { sql: string; values: Param[] } {
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

function rowToRun(row: Row): RunInfo {
  const obj: Record<string, unknown> = {};
  for (const [key, c] of Object.entries(RUN_FIELDS)) obj[key] = c.get ? c.get(row) : row[c.col];
  obj.budget = { perSessionUsd: row.budget_per_session_usd ?? null, runUsd: row.budget_run_usd ?? null };
  return parseRow(RunInfo, obj, `run ${String(row.id)}`);
}

function rowToSession(row: Row): SessionInfo {
  const obj: Record<string, unknown> = {};
  for (const [key, c] of Object.entries(SESSION_FIELDS)) obj[key] = c.get ? c.get(row) : row[c.col];
  return parseRow(SessionInfo, obj, `session ${String(row.id)}`);
}

function parseRow<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: Error } }, v: unknown, what: string): T {
  const r = schema.safeParse(v);
  if (!r.success) throw new StoreError(`stored ${what} does not match this version of Flotilla: ${r.error.message}`);
  return r.data;
}

function rowToUsage(row: Row): LedgerRow {
  const obj: Record<string, unknown> = {};
  for (const [key, c] of Object.entries(USAGE_FIELDS)) obj[key] = c.get ? c.get(row) : row[c.col];
  return parseRow(LedgerRow, obj, `usage row ${String(row.id)}`);
}

const NewUsage = LedgerRow.omit({ id: true });
const NEW_USAGE_FIELDS = Object.entries(USAGE_FIELDS).filter(([k]) => k !== 'id') as [keyof Omit<LedgerRow, 'id'>, Column][];
const INSERT_USAGE_SQL = `INSERT INTO usage (${NEW_USAGE_FIELDS.map(([, c]) => c.col).join(', ')}) VALUES (${NEW_USAGE_FIELDS.map(() => '?').join(', ')})`;
const UsagePatch = LedgerRow.partial();

const RunPatch = RunInfo.partial();
const SessionPatch = SessionInfo.partial();

const NOT_FINAL = SessionStatus.options.filter((s) => !FINAL_STATUSES.includes(s));
const ENGINE_EXITED = 'engine exited while the session ran';

const now = (): string => new Date().toISOString();

// ---------------------------------------------------------------------------------------------------------------------
// Locking. The WASM VFS locks a database by creating the directory <db>.lock and removing it when the statement (or
// transaction) ends. A process killed mid-statement leaves that directory behind and every later access would answer
// "database is locked" forever. To tell a stale lock from a live one, each process that has the store open keeps a file
// named after its pid in <db>.users/: a lock with no other live user behind it is stale and can be removed.

/** SQLite's own wait for a lock; short, so a stale lock is noticed quickly. */
const BUSY_TIMEOUT_MS = 100;
/** How long a call keeps trying while another live process holds the lock. */
const LOCK_WAIT_MS = 5_000;
/** A lock older than this is stale even if its holder seems alive (pid reuse, a frozen process). */
const STALE_LOCK_MS = 30_000;

/**
 * WAL mode (exclusive stores): SQLite's own checkpoint runs inside whichever write crosses this many WAL pages and
 * stalls it (and the event loop) for tens of ms; raised from SQLite's 1000 so that it rarely happens, because the
 * store checkpoints itself once it has been idle for CHECKPOINT_IDLE_MS, and on close. Ten streaming sessions may
 * never leave it idle: then the size sets the pause, measured at 210–330 ms for 10 000 pages (an fsync of the whole
 * WAL) against ~35 ms for 1 000 — 3 000 keeps those rare pauses near 100 ms.
 */
const WAL_AUTOCHECKPOINT_PAGES = 3_000;
/** After a checkpoint the WAL is reused from its start; this caps what the file keeps on disk meanwhile. */
const WAL_SIZE_LIMIT_BYTES = 8 * 1024 * 1024;
const CHECKPOINT_IDLE_MS = 1_000;
/** Prepared statements kept per SQL text (bounded: patch-shaped UPDATEs make a handful of texts each). */
const STATEMENT_CACHE_MAX = 64;

const openCounts = new Map<string, number>();
const SLEEP_CELL = new Int32Array(new SharedArrayBuffer(4));

function finalizeQuietly(s: Stmt): void {
  try {
    if (!s.isFinalized) s.finalize();
  } catch {
    // sqlite3_finalize repeats the error of the statement's last run; the statement is freed all the same
  }
}

/** fdatasync on a libuv thread (another descriptor flushes the same file); never rejects. */
async function flushFile(path: string): Promise<void> {
  try {
    const fh = await openAsync(path, 'r+');
    try {
      await fh.datasync();
    } finally {
      await fh.close();
    }
  } catch {
    // no WAL yet, or it went away: nothing to flush
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, it just is not ours to signal.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function otherLiveUsers(usersDir: string): number[] {
  let names: string[];
  try {
    names = readdirSync(usersDir);
  } catch {
    return [];
  }
  const live: number[] = [];
  for (const name of names) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    if (pid === process.pid) continue;
    if (pidAlive(pid)) live.push(pid);
    else {
      try {
        unlinkSync(join(usersDir, name));
      } catch {
        // another process cleaned it first
      }
    }
  }
  return live;
}

/** Whether the database file is in WAL mode (header bytes 18/19 are 2), which this VFS can only open exclusively. */
function isWalFile(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return false;
  }
  try {
    const header = Buffer.alloc(20);
    return readSync(fd, header, 0, 20, 0) === 20 && header[18] === 2 && header[19] === 2;
  } finally {
    closeSync(fd);
  }
}

// ---------------------------------------------------------------------------------------------------------------------

export interface StoreOptions {
  /**
   * Hold the database for as long as the store is open (SQLite locking_mode=EXCLUSIVE), which allows WAL with
   * synchronous=NORMAL: writes still survive a killed process, and on a busy disk they are ~50× faster than the default
   * rollback journal (no fsync per write; a power cut can lose the last writes, never corrupt). The price: while it is
   * open no other process or Store can open the data dir. Once a database has been opened this way it stays in WAL
   * mode, and every later open is exclusive too.
   */
  exclusive?: boolean;
}

export class Store {
  private db: Db | null;
  /**
   * Prepared statements by SQL text, oldest first. Each is always stepped to its end (`run` on a statement without
   * rows, `all` otherwise), so none is left active: an active one would hold the read transaction and the file lock.
   */
  private readonly stmts = new Map<string, Stmt>();
  /** WAL mode: when the last write ended, and the idle-checkpoint timer (armed by a write, never while at rest). */
  private lastWriteAt = 0;
  private checkpointTimer: NodeJS.Timeout | null = null;
  private flushing = false;

  private constructor(
    db: Db,
    readonly path: string,
    private readonly usersDir: string,
    /** WAL + exclusive locking (see StoreOptions.exclusive). */
    readonly exclusive: boolean,
  ) {
    this.db = db;
  }

  static open(dataDir: string, opts: StoreOptions = {}): Store {
    const dir = resolve(expandHome(dataDir));
    const path = join(dir, 'flotilla.db');
    const usersDir = `${path}.users`;
    try {
      mkdirSync(dir, { recursive: true });
      mkdirSync(usersDir, { recursive: true });
      writeFileSync(join(usersDir, String(process.pid)), `${JSON.stringify({ pid: process.pid, argv: process.argv.slice(0, 3) })}\n`);
    } catch (err) {
      throw new StoreError(
        `data dir ${dir} is not writable (${(err as Error).message}) — pass --data-dir or set FLOTILLA_HOME to a writable folder`,
      );
    }
    openCounts.set(path, (openCounts.get(path) ?? 0) + 1);

    let db: Db;
    try {
      db = new Database(path);
    } catch (err) {
      Store.release(path, usersDir);
      throw new StoreError(`cannot open ${path}: ${(err as Error).message}`);
    }
    const exclusive = opts.exclusive === true || isWalFile(path);
    const store = new Store(db, path, usersDir, exclusive);
    try {
      if (exclusive && (openCounts.get(path) ?? 0) > 1) {
        throw new StoreError(`${path} is already open in this process, and an exclusive store cannot be opened twice`);
      }
      store.breakStaleLock();
      store.withLockRetry(() => {
        db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
        db.exec('PRAGMA foreign_keys = ON');
        if (exclusive) {
          // Must precede the first access: without shared memory (this VFS has none) WAL works only exclusively.
          db.exec('PRAGMA locking_mode = EXCLUSIVE');
          db.get('PRAGMA journal_mode = WAL');
          db.exec('PRAGMA synchronous = NORMAL');
          db.exec(`PRAGMA wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
          db.get(`PRAGMA journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`);
        } else {
          // Rollback journal + FULL: each write fsyncs, and other processes (`flotilla runs` next to a running app)
          // can read between writes.
          db.get('PRAGMA journal_mode = DELETE');
          db.exec('PRAGMA synchronous = FULL');
        }
      });
      store.migrate();
    } catch (err) {
      store.close();
      if (err instanceof StoreError) throw err;
      const msg = (err as Error).message;
      if (/not a database|malformed/i.test(msg)) {
        throw new StoreError(`${path} is not a readable Flotilla database (${msg}) — move it away, or pass --data-dir`);
      }
      throw new StoreError(`cannot open ${path}: ${msg}`);
    }
    return store;
  }

  private static release(path: string, usersDir: string): void {
    const n = (openCounts.get(path) ?? 1) - 1;
    if (n > 0) return void openCounts.set(path, n);
    openCounts.delete(path);
    try {
      unlinkSync(join(usersDir, String(process.pid)));
    } catch {
      // already gone
    }
  }

  close(): void {
    if (!this.db) return;
    if (this.checkpointTimer) clearTimeout(this.checkpointTimer);
    this.checkpointTimer = null;
    try {
      // close() does not finalize statements, and a connection with live ones is never really closed.
      for (const s of this.stmts.values()) finalizeQuietly(s);
      this.stmts.clear();
      if (this.exclusive) {
        try {
          this.db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
        } catch {
          // not fatal: SQLite checkpoints on close itself, and the next open recovers from the WAL anyway
        }
      }
      this.db.close();
    } finally {
      this.db = null;
      Store.release(this.path, this.usersDir);
    }
  }

  // -------------------------------------------------------------------------------------------------------------------
  // Plumbing

  private get conn(): Db {
    if (!this.db) throw new StoreError(`the store ${this.path} is closed`);
    return this.db;
  }

  /** Removes <db>.lock if no live process can be holding it. Returns whether it did. */
  private breakStaleLock(): boolean {
    const lock = `${this.path}.lock`;
    let age: number;
    try {
      age = Date.now() - statSync(lock).mtimeMs;
    } catch {
      return false;
    }
    // Our own process is never inside a statement here (the API is synchronous), so only other processes count.
    // An exclusive holder keeps the lock for as long as it runs, so there age says nothing.
    const others = otherLiveUsers(this.usersDir);
    if (others.length > 0 && (this.exclusive || isWalFile(this.path) || age < STALE_LOCK_MS)) return false;
    try {
      rmdirSync(lock);
    } catch {
      return false;
    }
    return true;
  }

  private withLockRetry<T>(fn: () => T): T {
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      try {
        return fn();
      } catch (err) {
        if (!/database is locked/i.test((err as Error).message)) throw err;
        if (this.db?.inTransaction) this.db.exec('ROLLBACK');
        if (this.breakStaleLock()) continue;
        if (this.exclusive) {
          const others = otherLiveUsers(this.usersDir);
          throw new StoreError(
            `${this.path} is in use${others.length ? ` by process ${others.join(', ')}` : ''} — is another Flotilla engine running on this data dir? Stop it, or pass --data-dir`,
          );
        }
        if (Date.now() >= deadline) {
          const others = otherLiveUsers(this.usersDir);
          throw new StoreError(
            `${this.path} stayed locked for ${LOCK_WAIT_MS / 1000} s${others.length ? ` (it is open in process ${others.join(', ')})` : ''} — is another program holding it? Stop it, or pass --data-dir`,
          );
        }
        // The API is synchronous by contract; contention only comes from another process and lasts milliseconds.
        Atomics.wait(SLEEP_CELL, 0, 0, 20);
      }
    }
  }

  /** The cached prepared statement for `sql` (prepared on first use; the oldest is finalized past the cap). */
  private prepared(sql: string): Stmt {
    const cached = this.stmts.get(sql);
    if (cached) return cached;
    const s = this.conn.prepare(sql);
    if (this.stmts.size >= STATEMENT_CACHE_MAX) {
      const [oldSql, old] = this.stmts.entries().next().value!;
      this.stmts.delete(oldSql);
      finalizeQuietly(old);
    }
    this.stmts.set(sql, s);
    return s;
  }

  /**
   * Uses a cached statement. One that failed is dropped: sqlite3_reset repeats its error, so the wrapper would refuse
   * to bind it again (and a "database is locked" retry would fail with that instead).
   */
  private use<T>(sql: string, fn: (s: Stmt) => T): T {
    const s = this.prepared(sql);
    try {
      return fn(s);
    } catch (err) {
      if (this.stmts.get(sql) === s) this.stmts.delete(sql);
      finalizeQuietly(s);
      throw err;
    }
  }

  // Without lock retry: inside a transaction (which retries as a whole), or wrapped by run/get/all below.
  private runNow(sql: string, values: Param[] = []): { changes: number; lastInsertRowid: number | bigint } {
    return this.use(sql, (s) => s.run(values));
  }

  private allNow(sql: string, values: Param[] = []): Row[] {
    return this.use(sql, (s) => s.all(values) as Row[]);
  }

  /** First row; the statement still runs to its end (Statement.get would leave it active, holding the lock). */
  private getNow(sql: string, values: Param[] = []): Row | null {
    return this.allNow(sql, values)[0] ?? null;
  }

  private run(sql: string, values: Param[] = []): number {
    const changes = this.withLockRetry(() => this.runNow(sql, values).changes);
    this.wrote();
    return changes;
  }

  private get(sql: string, values: Param[] = []): Row | null {
    return this.withLockRetry(() => this.getNow(sql, values));
  }

  private all(sql: string, values: Param[] = []): Row[] {
    return this.withLockRetry(() => this.allNow(sql, values));
  }

  /** Several statements as one transaction; BEGIN IMMEDIATE takes the lock up front so nothing inside can be refused. */
  private transaction<T>(fn: () => T): T {
    const result = this.withLockRetry(() => {
      this.runNow('BEGIN IMMEDIATE');
      try {
        const r = fn();
        this.runNow('COMMIT');
        return r;
      } catch (err) {
        if (this.db?.inTransaction) this.db.exec('ROLLBACK');
        throw err;
      }
    });
    this.wrote();
    return result;
  }

  /**
   * WAL mode: a write happened, so checkpoint once the store has been idle for CHECKPOINT_IDLE_MS. One unref'd timer,
   * armed by the first write after a checkpoint and re-armed (not reset) while writes keep coming; none at rest.
   * Checkpoints never affect durability: a committed write is in the WAL file, which survives a killed process.
   */
  private wrote(): void {
    if (!this.exclusive) return;
    this.lastWriteAt = Date.now();
    if (!this.checkpointTimer && !this.flushing) this.armCheckpoint(CHECKPOINT_IDLE_MS);
  }

  private armCheckpoint(ms: number): void {
    this.checkpointTimer = setTimeout(() => this.checkpointTick(), ms);
    this.checkpointTimer.unref();
  }

  /**
   * With synchronous=NORMAL the WAL is only fsynced by a checkpoint, which then flushes everything written since the
   * last one on this thread (that is most of a checkpoint's stall). So each tick first fdatasyncs the WAL on a libuv
   * thread; then, if the store stayed idle, the checkpoint itself has little left to wait for. While writes keep
   * coming the tick only flushes, which keeps SQLite's own auto-checkpoint short too.
   */
  private checkpointTick(): void {
    this.checkpointTimer = null;
    if (!this.db) return;
    const seen = this.lastWriteAt;
    this.flushing = true;
    void flushFile(`${this.path}-wal`).then(() => {
      this.flushing = false;
      if (!this.db) return;
      const idle = Date.now() - this.lastWriteAt;
      if (this.lastWriteAt !== seen || idle < CHECKPOINT_IDLE_MS) return this.armCheckpoint(Math.max(0, CHECKPOINT_IDLE_MS - idle));
      try {
        this.allNow('PRAGMA wal_checkpoint(PASSIVE)');
      } catch {
        // the next write arms another attempt; SQLite's own auto-checkpoint remains the backstop
      }
    });
  }

  private migrate(): void {
    const version = Number((this.get('PRAGMA user_version') ?? {}).user_version ?? 0);
    if (version > MIGRATIONS.length) {
      throw new StoreError(
        `${this.path} was written by a newer Flotilla (schema ${version}, this build knows ${MIGRATIONS.length}) — upgrade Flotilla, or pass --data-dir`,
      );
    }
    for (let v = version; v < MIGRATIONS.length; v++) {
      this.transaction(() => {
        // exec: several statements, run once; cached statements re-prepare themselves after a schema change.
        this.conn.exec(MIGRATIONS[v]!);
        // PRAGMA takes no bound parameters; v is our own integer.
        this.conn.exec(`PRAGMA user_version = ${v + 1}`);
      });
    }
  }

  // -------------------------------------------------------------------------------------------------------------------
  // Runs

  /** `enginePid`: the process that runs the run's sessions (default: this one). */
  insertRun(run: RunInfo, templateJson: string, enginePid: number = process.pid): void {
    const r = RunInfo.parse(run);
    const cols = Object.values(RUN_FIELDS).map((c) => c.col);
    const values = Object.entries(RUN_FIELDS).map(([k, c]) => toParam(c, r[k as keyof typeof RUN_FIELDS]));
    cols.push('budget_per_session_usd', 'budget_run_usd', 'template_json', 'engine_pid');
    values.push(r.budget.perSessionUsd, r.budget.runUsd, templateJson, enginePid);
    this.run(`INSERT INTO runs (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`, values);
  }

  updateRun(id: string, patch: Partial<RunInfo>): void {
    const p = RunPatch.parse(patch);
    const { sql, values } = setClause(RUN_FIELDS, p);
    const sets = sql ? [sql] : [];
    if (p.budget) {
      sets.push('budget_per_session_usd = ?', 'budget_run_usd = ?');
      values.push(p.budget.perSessionUsd, p.budget.runUsd);
    }
    if (sets.length === 0) return;
    this.run(`UPDATE runs SET ${sets.join(', ')} WHERE id = ?`, [...values, id]);
  }

  getRun(id: string): RunInfo | null {
    const row = this.get('SELECT * FROM runs WHERE id = ?', [id]);
    return row ? rowToRun(row) : null;
  }

  /** The resolved template the run was launched with (JSON), for restarting its sessions later. */
  getRunTemplate(id: string): string | null {
    const row = this.get('SELECT template_json FROM runs WHERE id = ?', [id]);
    return row ? String(row.template_json) : null;
  }

  listRuns(): RunInfo[] {
    return this.all('SELECT * FROM runs ORDER BY started_at DESC, rowid DESC').map(rowToRun);
  }

  deleteRun(id: string): void {
    // Sessions and their history go with it (ON DELETE CASCADE); its ledger rows have no foreign key.
    this.transaction(() => {
      this.runNow('DELETE FROM usage WHERE run_id = ?', [id]);
      this.runNow('DELETE FROM runs WHERE id = ?', [id]);
    });
  }

  // -------------------------------------------------------------------------------------------------------------------
  // Sessions

  insertSession(s: SessionInfo, launchJson: string): void {
    const v = SessionInfo.parse(s);
    const cols = Object.values(SESSION_FIELDS).map((c) => c.col);
    const values = Object.entries(SESSION_FIELDS).map(([k, c]) => toParam(c, v[k as keyof SessionInfo]));
    cols.push('launch_json');
    values.push(launchJson);
    try {
      this.run(`INSERT INTO sessions (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`, values);
    } catch (err) {
      if (/FOREIGN KEY/i.test((err as Error).message)) throw new StoreError(`session ${v.id}: no run with id ${v.runId} in the store`);
      throw err;
    }
  }

  updateSession(id: string, patch: Partial<SessionInfo>): void {
    const { sql, values } = setClause(SESSION_FIELDS, SessionPatch.parse(patch));
    if (!sql) return;
    this.run(`UPDATE sessions SET ${sql} WHERE id = ?`, [...values, id]);
  }

  /** Replaces the stored launch spec (command/args/env without secrets) after a (re)start. */
  setSessionLaunch(id: string, launchJson: string): void {
    this.run('UPDATE sessions SET launch_json = ? WHERE id = ?', [launchJson, id]);
  }

  getSession(id: string): SessionInfo | null {
    const row = this.get('SELECT * FROM sessions WHERE id = ?', [id]);
    return row ? rowToSession(row) : null;
  }

  getSessionLaunch(id: string): string | null {
    const row = this.get('SELECT launch_json FROM sessions WHERE id = ?', [id]);
    return row ? String(row.launch_json) : null;
  }

  listSessions(runId?: string): SessionInfo[] {
    const rows =
      runId === undefined
        ? this.all('SELECT s.* FROM sessions s JOIN runs r ON r.id = s.run_id ORDER BY r.started_at DESC, r.rowid DESC, s.slot')
        : this.all('SELECT * FROM sessions WHERE run_id = ? ORDER BY slot', [runId]);
    return rows.map(rowToSession);
  }

  addStatus(sessionId: string, status: SessionStatus, detail: string | null, at?: string): void {
    SessionStatus.parse(status);
    try {
      this.run('INSERT INTO status_history (session_id, status, detail, at) VALUES (?, ?, ?, ?)', [sessionId, status, detail, at ?? now()]);
    } catch (err) {
      if (/FOREIGN KEY/i.test((err as Error).message)) throw new StoreError(`no session with id ${sessionId} in the store`);
      throw err;
    }
  }

  statusHistory(sessionId: string): { status: SessionStatus; detail: string | null; at: string }[] {
    return this.all('SELECT status, detail, at FROM status_history WHERE session_id = ? ORDER BY id', [sessionId]).map((r) => ({
      status: SessionStatus.parse(r.status),
      detail: r.detail === null || r.detail === undefined ? null : String(r.detail),
      at: String(r.at),
    }));
  }

  // -------------------------------------------------------------------------------------------------------------------

  /**
   * After an engine died: the runs it owned that are still launching/running become 'ended', and their sessions that
   * were not final become 'stopped'. Runs owned by a live engine (another process on this data dir) are left alone.
   */
  reconcileAfterRestart(): { runs: number; sessions: number } {
    const at = now();
    const marks = NOT_FINAL.map(() => '?').join(', ');
    return this.transaction(() => {
      const open = this.allNow("SELECT id, engine_pid FROM runs WHERE state IN ('launching', 'running')");
      const orphaned = open
        .filter((r) => r.engine_pid === null || (Number(r.engine_pid) !== process.pid && !pidAlive(Number(r.engine_pid))))
        .map((r) => String(r.id));
      // Sessions can outlive their run's state (a restarted session of an ended run): any non-final session of a run
      // whose owner is gone is stale too.
      const owners = this.allNow('SELECT id, engine_pid FROM runs');
      const dead = new Set(
        owners
          .filter((r) => r.engine_pid === null || (Number(r.engine_pid) !== process.pid && !pidAlive(Number(r.engine_pid))))
          .map((r) => String(r.id)),
      );
      const stale = this.allNow(`SELECT id, run_id FROM sessions WHERE status IN (${marks})`, NOT_FINAL).filter((row) =>
        dead.has(String(row.run_id)),
      );
      for (const row of stale) {
        this.runNow("UPDATE sessions SET status = 'stopped', status_detail = ?, ended_at = COALESCE(ended_at, ?) WHERE id = ?", [
          ENGINE_EXITED,
          at,
          String(row.id),
        ]);
        this.runNow("INSERT INTO status_history (session_id, status, detail, at) VALUES (?, 'stopped', ?, ?)", [String(row.id), ENGINE_EXITED, at]);
      }
      for (const id of orphaned) this.runNow("UPDATE runs SET state = 'ended', ended_at = COALESCE(ended_at, ?) WHERE id = ?", [at, id]);
      return { runs: orphaned.length, sessions: stale.length };
    });
  }

  // -------------------------------------------------------------------------------------------------------------------
  // Usage (the spend ledger). Figures are stored as given: no rounding.

  /** Appends a ledger row; returns its id. */
  insertUsage(row: Omit<LedgerRow, 'id'>): number {
    return this.insertUsageUnchecked(NewUsage.parse(row));
  }

  /**
   * insertUsage without validating the row against the contract schema: for the spend ledger (meter/ledger.ts), whose
   * rows are typed and built from figures it checked itself, on the hot path of every model request. Data from
   * anywhere else goes through insertUsage.
   */
  insertUsageUnchecked(row: Omit<LedgerRow, 'id'>): number {
    const values = NEW_USAGE_FIELDS.map(([k, c]) => toParam(c, row[k]));
    const id = this.withLockRetry(() => Number(this.runNow(INSERT_USAGE_SQL, values).lastInsertRowid));
    this.wrote();
    return id;
  }

  /**
   * Changes the fields a patch names. With `onlyIfState`, only while the row is in that state (a late progress write
   * must not undo a close). Returns whether a row changed.
   */
  updateUsage(id: number, patch: Partial<LedgerRow>, onlyIfState?: UsageState): boolean {
    return this.updateUsageUnchecked(id, UsagePatch.parse(patch), onlyIfState === undefined ? undefined : UsageState.parse(onlyIfState));
  }

  /** updateUsage without validating the patch: for the spend ledger only (see insertUsageUnchecked). */
  updateUsageUnchecked(id: number, patch: Partial<LedgerRow>, onlyIfState?: UsageState): boolean {
    const { sql, values } = setClause(USAGE_FIELDS, patch);
    if (!sql) return false;
    if (onlyIfState === undefined) return this.run(`UPDATE usage SET ${sql} WHERE id = ?`, [...values, id]) > 0;
    return this.run(`UPDATE usage SET ${sql} WHERE id = ? AND state = ?`, [...values, id, onlyIfState]) > 0;
  }

  getUsage(id: number): LedgerRow | null {
    const row = this.get('SELECT * FROM usage WHERE id = ?', [id]);
    return row ? rowToUsage(row) : null;
  }

  /** A run's ledger rows in the order they were opened. */
  listUsage(runId: string): LedgerRow[] {
    return this.all('SELECT * FROM usage WHERE run_id = ? ORDER BY id', [runId]).map(rowToUsage);
  }

  listSessionUsage(sessionId: string): LedgerRow[] {
    return this.all('SELECT * FROM usage WHERE session_id = ? ORDER BY id', [sessionId]).map(rowToUsage);
  }

  /**
   * After an engine died: its 'open' rows become 'interrupted' (ended now), keeping the figures last written to them.
   * Rows of runs owned by another live engine on this data dir are left alone. Call before this engine serves any
   * request: rows this process opened count as a dead engine's (a restarted engine may get the same pid in a container).
   */
  interruptOpenUsage(): number {
    const at = now();
    return this.transaction(() => {
      const open = this.allNow("SELECT u.id, r.engine_pid FROM usage u LEFT JOIN runs r ON r.id = u.run_id WHERE u.state = 'open'");
      const ids = open
        .filter((r) => r.engine_pid === null || r.engine_pid === undefined || Number(r.engine_pid) === process.pid || !pidAlive(Number(r.engine_pid)))
        .map((r) => Number(r.id));
      for (const id of ids) this.runNow("UPDATE usage SET state = 'interrupted', ended_at = ? WHERE id = ? AND state = 'open'", [at, id]);
      return ids.length;
    });
  }

  /** Sums of a run's or a session's ledger, computed by SQL (unrounded). */
  usageTotals(filter: { runId: string } | { sessionId: string }): UsageSums {
    const [sql, key] = 'runId' in filter ? [USAGE_TOTALS_SQL.run_id, filter.runId] : [USAGE_TOTALS_SQL.session_id, filter.sessionId];
    const row = this.get(sql, [key])!;
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

  /** A run resumed by this engine becomes this engine's. */
  claimRun(id: string): void {
    this.run('UPDATE runs SET engine_pid = ? WHERE id = ?', [process.pid, id]);
  }
}
