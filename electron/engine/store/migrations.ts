// The schema, as migrations applied in order (see StoreDb.migrate).
// ---------------------------------------------------------------------------------------------------------------------
// Schema. Append migrations, never edit one that has shipped: user_version counts how many a database has applied.

export const MIGRATIONS: readonly string[] = [
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
  // A session's last screen (the mirror serialized when it ended or its engine stopped): an ended run's tiles show it.
  `
  CREATE TABLE session_screens (
    session_id TEXT PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
    cols INTEGER NOT NULL,
    rows INTEGER NOT NULL,
    data TEXT NOT NULL,
    at TEXT NOT NULL
  );
  `,
  // Runs of several providers: who served each request, and the attempts that gave way to another provider.
  `
  ALTER TABLE usage ADD COLUMN provider TEXT;
  ALTER TABLE usage ADD COLUMN failed_over INTEGER NOT NULL DEFAULT 0;
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;
