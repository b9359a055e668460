// The SQLite connection under the store: the WASM database (nothing to rebuild per platform or Electron version), its
// file lock and WAL handling, cached statements, transactions and migrations. Every write is its own transaction and is
// on disk when the call returns. The repositories (runs.ts, usage.ts) only speak SQL through this.
import {
  constants as fsConstants,
  closeSync,
  copyFileSync,
  mkdirSync,
  openSync,
  readSync,
  readdirSync,
  rmdirSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { open as openAsync } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import sqlite from 'node-sqlite3-wasm';
import { pidAlive } from '../pid.ts';
import { expandHome } from './data-dir.ts';
import { StoreError } from './errors.ts';
import { MIGRATIONS } from './migrations.ts';

const { Database } = sqlite;
type Db = InstanceType<typeof Database>;
type Stmt = ReturnType<Db['prepare']>;
export type Row = Record<string, unknown>;
export type Param = string | number | null;

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

export { pidAlive };

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

/** A copy of an unreadable database beside it (flotilla.db.unreadable-<time>), before anyone moves it; null if none. */
function backupBeside(path: string): string | null {
  const copy = `${path}.unreadable-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  try {
    copyFileSync(path, copy, fsConstants.COPYFILE_EXCL);
    return copy;
  } catch {
    return null;
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

export class StoreDb {
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

  static open(dataDir: string, opts: StoreOptions = {}): StoreDb {
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
      StoreDb.release(path, usersDir);
      throw new StoreError(`cannot open ${path}: ${(err as Error).message}`);
    }
    const exclusive = opts.exclusive === true || isWalFile(path);
    const store = new StoreDb(db, path, usersDir, exclusive);
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
      if (/not a database|malformed|file is encrypted/i.test(msg)) {
        const copy = backupBeside(path);
        throw new StoreError(
          `${path} is not a readable Flotilla database (${msg})${copy ? `; a copy of it is at ${copy}` : ''} — move flotilla.db away to start a new one (the copy keeps the old), or pass --data-dir`,
        );
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
      StoreDb.release(this.path, this.usersDir);
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

  withLockRetry<T>(fn: () => T): T {
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
  runNow(sql: string, values: Param[] = []): { changes: number; lastInsertRowid: number | bigint } {
    return this.use(sql, (s) => s.run(values));
  }

  allNow(sql: string, values: Param[] = []): Row[] {
    return this.use(sql, (s) => s.all(values) as Row[]);
  }

  /** First row; the statement still runs to its end (Statement.get would leave it active, holding the lock). */
  getNow(sql: string, values: Param[] = []): Row | null {
    return this.allNow(sql, values)[0] ?? null;
  }

  run(sql: string, values: Param[] = []): number {
    const changes = this.withLockRetry(() => this.runNow(sql, values).changes);
    this.wrote();
    return changes;
  }

  get(sql: string, values: Param[] = []): Row | null {
    return this.withLockRetry(() => this.getNow(sql, values));
  }

  all(sql: string, values: Param[] = []): Row[] {
    return this.withLockRetry(() => this.allNow(sql, values));
  }

  /** Several statements as one transaction; BEGIN IMMEDIATE takes the lock up front so nothing inside can be refused. */
  transaction<T>(fn: () => T): T {
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
  /** A write happened (WAL mode: arms the idle checkpoint). */
  wrote(): void {
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

  /** Applies the migrations this database lacks (user_version counts those applied). */
  migrate(): void {
    const version = Number(this.get('PRAGMA user_version')?.user_version ?? 0);
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
}
