// Runs, sessions and their status history: the store's run registry. A session's launch record (launch_json) says
// what ran and, once raised, the session's own budget (so a restart or a later engine's resume applies it).
import { FINAL_STATUSES, RunInfo, SessionInfo, SessionStatus } from '../../shared/contract.ts';
import { RUN_FIELDS, RunPatch, SESSION_FIELDS, SessionPatch, rowToRun, rowToSession, setClause, toParam } from './columns.ts';
import { pidAlive, type StoreDb } from './db.ts';
import { StoreError } from './errors.ts';

const NOT_FINAL = SessionStatus.options.filter((s) => !FINAL_STATUSES.includes(s));
const ENGINE_EXITED = 'engine exited while the session ran';
const now = (): string => new Date().toISOString();

/** `enginePid`: the process that runs the run's sessions (default: this one). */
export function insertRun(db: StoreDb, run: RunInfo, templateJson: string, enginePid: number = process.pid): void {
  const r = RunInfo.parse(run);
  const cols = Object.values(RUN_FIELDS).map((c) => c.col);
  const values = Object.entries(RUN_FIELDS).map(([k, c]) => toParam(c, r[k as keyof typeof RUN_FIELDS]));
  cols.push('budget_per_session_usd', 'budget_run_usd', 'template_json', 'engine_pid');
  values.push(r.budget.perSessionUsd, r.budget.runUsd, templateJson, enginePid);
  db.run(`INSERT INTO runs (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`, values);
}

export function updateRun(db: StoreDb, id: string, patch: Partial<RunInfo>): void {
  const p = RunPatch.parse(patch);
  const { sql, values } = setClause(RUN_FIELDS, p);
  const sets = sql ? [sql] : [];
  if (p.budget) {
    sets.push('budget_per_session_usd = ?', 'budget_run_usd = ?');
    values.push(p.budget.perSessionUsd, p.budget.runUsd);
  }
  if (sets.length === 0) return;
  db.run(`UPDATE runs SET ${sets.join(', ')} WHERE id = ?`, [...values, id]);
}

export function getRun(db: StoreDb, id: string): RunInfo | null {
  const row = db.get('SELECT * FROM runs WHERE id = ?', [id]);
  return row ? rowToRun(row) : null;
}

/** The resolved template the run was launched with (JSON), for restarting its sessions later. */
export function getRunTemplate(db: StoreDb, id: string): string | null {
  const row = db.get('SELECT template_json FROM runs WHERE id = ?', [id]);
  return row ? String(row.template_json) : null;
}

export function listRuns(db: StoreDb): RunInfo[] {
  return db.all('SELECT * FROM runs ORDER BY started_at DESC, rowid DESC').map(rowToRun);
}

export function deleteRun(db: StoreDb, id: string): void {
  // Sessions and their history go with it (ON DELETE CASCADE); its ledger rows have no foreign key.
  db.transaction(() => {
    db.runNow('DELETE FROM usage WHERE run_id = ?', [id]);
    db.runNow('DELETE FROM runs WHERE id = ?', [id]);
  });
}

/** A session's last screen; replaced each time (a restarted session ends again). */
export function saveScreen(db: StoreDb, sessionId: string, screen: { cols: number; rows: number; data: string }): void {
  db.run('INSERT OR REPLACE INTO session_screens (session_id, cols, rows, data, at) VALUES (?, ?, ?, ?, ?)', [
    sessionId,
    screen.cols,
    screen.rows,
    screen.data,
    new Date().toISOString(),
  ]);
}

export function getScreen(db: StoreDb, sessionId: string): { cols: number; rows: number; data: string } | null {
  const row = db.get('SELECT cols, rows, data FROM session_screens WHERE session_id = ?', [sessionId]);
  return row ? { cols: Number(row.cols), rows: Number(row.rows), data: String(row.data) } : null;
}

export function insertSession(db: StoreDb, s: SessionInfo, launchJson: string): void {
  const v = SessionInfo.parse(s);
  const cols = Object.values(SESSION_FIELDS).map((c) => c.col);
  const values = Object.entries(SESSION_FIELDS).map(([k, c]) => toParam(c, v[k as keyof SessionInfo]));
  cols.push('launch_json');
  values.push(launchJson);
  try {
    db.run(`INSERT INTO sessions (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`, values);
  } catch (err) {
    if (/FOREIGN KEY/i.test((err as Error).message)) throw new StoreError(`session ${v.id}: no run with id ${v.runId} in the store`);
    throw err;
  }
}

export function updateSession(db: StoreDb, id: string, patch: Partial<SessionInfo>): void {
  const { sql, values } = setClause(SESSION_FIELDS, SessionPatch.parse(patch));
  if (!sql) return;
  db.run(`UPDATE sessions SET ${sql} WHERE id = ?`, [...values, id]);
}

/** Replaces the stored launch spec (command/args/env without secrets) after a (re)start. */
export function setSessionLaunch(db: StoreDb, id: string, launchJson: string): void {
  // A new launch spec keeps the session's own budget (a raise outlives restarts).
  db.run(
    `UPDATE sessions SET launch_json = CASE
       WHEN json_valid(launch_json) AND json_valid(?1) AND json_type(launch_json, '$.budgetUsd') IS NOT NULL
       THEN json_set(?1, '$.budgetUsd', json_extract(launch_json, '$.budgetUsd')) ELSE ?1 END
     WHERE id = ?2`,
    [launchJson, id],
  );
}

export function getSession(db: StoreDb, id: string): SessionInfo | null {
  const row = db.get('SELECT * FROM sessions WHERE id = ?', [id]);
  return row ? rowToSession(row) : null;
}

export function getSessionLaunch(db: StoreDb, id: string): string | null {
  const row = db.get('SELECT launch_json FROM sessions WHERE id = ?', [id]);
  return row ? String(row.launch_json) : null;
}

export function listSessions(db: StoreDb, runId?: string): SessionInfo[] {
  const rows =
    runId === undefined
      ? db.all('SELECT s.* FROM sessions s JOIN runs r ON r.id = s.run_id ORDER BY r.started_at DESC, r.rowid DESC, s.slot')
      : db.all('SELECT * FROM sessions WHERE run_id = ? ORDER BY slot', [runId]);
  return rows.map(rowToSession);
}

export function addStatus(db: StoreDb, sessionId: string, status: SessionStatus, detail: string | null, at?: string): void {
  SessionStatus.parse(status);
  try {
    db.run('INSERT INTO status_history (session_id, status, detail, at) VALUES (?, ?, ?, ?)', [sessionId, status, detail, at ?? now()]);
  } catch (err) {
    if (/FOREIGN KEY/i.test((err as Error).message)) throw new StoreError(`no session with id ${sessionId} in the store`);
    throw err;
  }
}

export function statusHistory(db: StoreDb, sessionId: string): { status: SessionStatus; detail: string | null; at: string }[] {
  return db.all('SELECT status, detail, at FROM status_history WHERE session_id = ? ORDER BY id', [sessionId]).map((r) => ({
    status: SessionStatus.parse(r.status),
    detail: r.detail === null || r.detail === undefined ? null : String(r.detail),
    at: String(r.at),
  }));
}

/**
 * After an engine died: the runs it owned that are still launching/running become 'ended', and their sessions that
 * were not final become 'interrupted' (Resume or Restart brings them back). Runs owned by a live engine (another process on this data dir) are left alone.
 */
export function reconcileAfterRestart(db: StoreDb): { runs: number; sessions: number } {
  const at = now();
  const marks = NOT_FINAL.map(() => '?').join(', ');
  return db.transaction(() => {
    const open = db.allNow("SELECT id, engine_pid FROM runs WHERE state IN ('launching', 'running')");
    const orphaned = open
      .filter((r) => r.engine_pid === null || (Number(r.engine_pid) !== process.pid && !pidAlive(Number(r.engine_pid))))
      .map((r) => String(r.id));
    // Sessions can outlive their run's state (a restarted session of an ended run): any non-final session of a run
    // whose owner is gone is stale too.
    const owners = db.allNow('SELECT id, engine_pid FROM runs');
    const dead = new Set(
      owners
        .filter((r) => r.engine_pid === null || (Number(r.engine_pid) !== process.pid && !pidAlive(Number(r.engine_pid))))
        .map((r) => String(r.id)),
    );
    const stale = db
      .allNow(`SELECT id, run_id FROM sessions WHERE status IN (${marks})`, NOT_FINAL)
      .filter((row) => dead.has(String(row.run_id)));
    for (const row of stale) {
      db.runNow("UPDATE sessions SET status = 'interrupted', status_detail = ?, ended_at = COALESCE(ended_at, ?) WHERE id = ?", [
        ENGINE_EXITED,
        at,
        String(row.id),
      ]);
      db.runNow("INSERT INTO status_history (session_id, status, detail, at) VALUES (?, 'interrupted', ?, ?)", [
        String(row.id),
        ENGINE_EXITED,
        at,
      ]);
    }
    for (const id of orphaned) db.runNow("UPDATE runs SET state = 'ended', ended_at = COALESCE(ended_at, ?) WHERE id = ?", [at, id]);
    return { runs: orphaned.length, sessions: stale.length };
  });
}

/** A run resumed by this engine becomes this engine's. */
export function claimRun(db: StoreDb, id: string): void {
  db.run('UPDATE runs SET engine_pid = ? WHERE id = ?', [process.pid, id]);
}

/** The session's own budget (raiseBudget), kept in its launch record; null when it has none. */
export function setSessionBudget(db: StoreDb, id: string, usd: number | null): void {
  db.run("UPDATE sessions SET launch_json = json_set(launch_json, '$.budgetUsd', ?) WHERE id = ? AND json_valid(launch_json)", [usd, id]);
}

export function getSessionBudget(db: StoreDb, id: string): number | null {
  const row = db.get("SELECT json_extract(launch_json, '$.budgetUsd') AS usd FROM sessions WHERE id = ? AND json_valid(launch_json)", [id]);
  return typeof row?.usd === 'number' ? row.usd : null;
}
