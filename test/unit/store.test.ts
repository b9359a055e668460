import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import sqlite from 'node-sqlite3-wasm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunInfo, SessionInfo, SessionStatus } from '../../electron/shared/contract.ts';
import { SCHEMA_VERSION, Store, StoreError, defaultDataDir, ensureDataDir } from '../../electron/engine/store/index.ts';

const PROJECT = resolve(import.meta.dirname, '../..');
const STORE_MODULE = pathToFileURL(join(PROJECT, 'electron/engine/store/index.ts')).href;

function run(over: Partial<RunInfo> = {}): RunInfo {
  return {
    id: 'run-1',
    name: 'Fix the tests',
    slug: 'fix-the-tests-run1ab',
    repo: '/repo',
    base: 'main',
    baseCommit: 'a'.repeat(40),
    workspace: 'worktree',
    state: 'launching',
    templatePath: '/t/fix.yaml',
    model: 'kimi-k2',
    agentPreset: 'claude-code',
    providerPreset: 'moonshot',
    budget: { perSessionUsd: 1.5, runUsd: null },
    concurrency: 4,
    startedAt: '2025-01-01T10:00:00.000Z',
    endedAt: null,
    error: null,
    ...over,
  };
}

function session(over: Partial<SessionInfo> = {}): SessionInfo {
  return {
    id: 's-1',
    runId: 'run-1',
    slot: 1,
    task: 'fix test 1',
    status: 'queued',
    statusDetail: null,
    branch: 'flotilla/fix-the-tests-run1ab/1',
    worktree: '/data/worktrees/run-1/1',
    command: 'claude',
    args: ['--session-id', 'x', '--model', 'kimi "k2"'],
    agentSessionId: 'x',
    pid: null,
    exitCode: null,
    signal: null,
    startedAt: null,
    endedAt: null,
    cols: 120,
    rows: 32,
    ...over,
  };
}

let dir: string;
let store: Store | null = null;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'flotilla-store-'));
});
afterEach(() => {
  store?.close();
  store = null;
  rmSync(dir, { recursive: true, force: true });
});

const MODES = [
  { mode: 'default (rollback journal)', exclusive: false },
  { mode: 'exclusive (WAL)', exclusive: true },
];

describe.each(MODES)('Store, $mode', ({ exclusive }) => {
  function open(at = dir): Store {
    store?.close();
    store = Store.open(at, { exclusive });
    return store;
  }

  it('round-trips runs and sessions through the contract schemas', () => {
    const s = open();
    s.insertRun(run(), '{"name":"Fix the tests"}');
    expect(s.getRun('run-1')).toEqual(run());
    expect(s.getRunTemplate('run-1')).toBe('{"name":"Fix the tests"}');
    expect(s.getRun('nope')).toBeNull();

    s.insertSession(session(), '{"command":"claude","args":[],"env":{"A":"1"}}');
    expect(s.getSession('s-1')).toEqual(session());
    expect(s.getSessionLaunch('s-1')).toBe('{"command":"claude","args":[],"env":{"A":"1"}}');
    expect(s.getSession('nope')).toBeNull();
    expect(s.getSessionLaunch('nope')).toBeNull();

    s.updateRun('run-1', { state: 'running', budget: { perSessionUsd: null, runUsd: 20 } });
    expect(s.getRun('run-1')).toEqual(run({ state: 'running', budget: { perSessionUsd: null, runUsd: 20 } }));

    s.updateSession('s-1', { status: 'working', pid: 4242, args: ['a b', 'ü'], startedAt: '2025-01-01T10:00:01.000Z' });
    expect(s.getSession('s-1')).toEqual(
      session({ status: 'working', pid: 4242, args: ['a b', 'ü'], startedAt: '2025-01-01T10:00:01.000Z' }),
    );
    s.updateSession('s-1', { pid: null, exitCode: 0, status: 'done', endedAt: '2025-01-01T10:05:00.000Z' });
    expect(s.getSession('s-1')).toMatchObject({ pid: null, exitCode: 0, status: 'done' });
    // an empty patch or an unknown id is a no-op, not an error
    s.updateSession('s-1', {});
    s.updateSession('nope', { status: 'done' });
    s.updateRun('nope', { state: 'ended' });

    s.setSessionLaunch('s-1', '{"v":2}');
    expect(s.getSessionLaunch('s-1')).toBe('{"v":2}');
  });

  it('rejects values the contract does not allow, and sessions of unknown runs', () => {
    const s = open();
    s.insertRun(run(), '{}');
    expect(() => s.updateSession('s-1', { status: 'bogus' as SessionStatus })).toThrow();
    expect(() => s.insertSession(session({ runId: 'missing' }), '{}')).toThrow(StoreError);
    expect(() => s.addStatus('missing', 'working', null)).toThrow(/no session with id missing/);
  });

  it('lists runs newest first and sessions by run, then slot', () => {
    const s = open();
    s.insertRun(run({ id: 'old', startedAt: '2025-01-01T00:00:00.000Z' }), '{}');
    s.insertRun(run({ id: 'new', startedAt: '2025-03-01T00:00:00.000Z' }), '{}');
    s.insertRun(run({ id: 'mid', startedAt: '2025-02-01T00:00:00.000Z' }), '{}');
    expect(s.listRuns().map((r) => r.id)).toEqual(['new', 'mid', 'old']);

    for (const slot of [3, 1, 2]) s.insertSession(session({ id: `old-${slot}`, runId: 'old', slot }), '{}');
    for (const slot of [2, 1]) s.insertSession(session({ id: `new-${slot}`, runId: 'new', slot }), '{}');
    expect(s.listSessions('old').map((x) => x.id)).toEqual(['old-1', 'old-2', 'old-3']);
    expect(s.listSessions().map((x) => x.id)).toEqual(['new-1', 'new-2', 'old-1', 'old-2', 'old-3']);
    expect(s.listSessions('mid')).toEqual([]);
  });

  it('keeps status history in order and deletes a run with its sessions and history', () => {
    const s = open();
    s.insertRun(run(), '{}');
    s.insertSession(session(), '{}');
    s.addStatus('s-1', 'queued', null, '2025-01-01T10:00:00.000Z');
    s.addStatus('s-1', 'working', null, '2025-01-01T10:00:00.000Z');
    s.addStatus('s-1', 'needs_you', 'permission prompt');
    const h = s.statusHistory('s-1');
    expect(h.map((x) => [x.status, x.detail])).toEqual([
      ['queued', null],
      ['working', null],
      ['needs_you', 'permission prompt'],
    ]);
    expect(h[0]!.at).toBe('2025-01-01T10:00:00.000Z');
    expect(Date.parse(h[2]!.at)).toBeGreaterThan(Date.now() - 60_000);

    s.deleteRun('run-1');
    expect(s.getRun('run-1')).toBeNull();
    expect(s.getSession('s-1')).toBeNull();
    expect(s.statusHistory('s-1')).toEqual([]);
  });

  it('reconciles after a restart: live sessions become interrupted, open runs ended', () => {
    const s = open();
    // Owned by an engine that has died.
    const deadPid = spawnSync(process.execPath, ['-e', '0']).pid!;
    s.insertRun(run({ id: 'r-live', state: 'running' }), '{}', deadPid);
    s.insertRun(run({ id: 'r-launch', state: 'launching', startedAt: '2025-01-02T00:00:00.000Z' }), '{}', deadPid);
    s.insertRun(run({ id: 'r-done', state: 'ended', endedAt: '2025-01-01T11:00:00.000Z' }), '{}');
    s.insertRun(run({ id: 'r-failed', state: 'failed', endedAt: '2025-01-01T11:00:00.000Z', error: 'boom' }), '{}');
    const statuses: SessionStatus[] = [
      'queued',
      'starting',
      'working',
      'needs_you',
      'idle',
      'over_budget',
      'rate_limited',
      'done',
      'failed',
      'stopped',
      'interrupted',
    ];
    statuses.forEach((status, i) =>
      s.insertSession(
        session({
          id: `s-${status}`,
          runId: 'r-live',
          slot: i + 1,
          status,
          endedAt: status === 'done' ? '2025-01-01T10:30:00.000Z' : null,
        }),
        '{}',
      ),
    );

    expect(s.reconcileAfterRestart()).toEqual({ runs: 2, sessions: 7 });
    for (const status of statuses) {
      const got = s.getSession(`s-${status}`)!;
      if (['done', 'failed', 'stopped', 'interrupted'].includes(status)) {
        expect(got.status).toBe(status);
        expect(s.statusHistory(got.id)).toEqual([]);
      } else {
        expect(got.status).toBe('interrupted');
        expect(got.statusDetail).toBe('engine exited while the session ran');
        expect(got.endedAt).not.toBeNull();
        expect(s.statusHistory(got.id)).toEqual([
          { status: 'interrupted', detail: 'engine exited while the session ran', at: got.endedAt },
        ]);
      }
    }
    expect(s.getSession('s-done')!.endedAt).toBe('2025-01-01T10:30:00.000Z');
    expect(s.getRun('r-live')).toMatchObject({ state: 'ended' });
    expect(s.getRun('r-live')!.endedAt).not.toBeNull();
    expect(s.getRun('r-launch')!.state).toBe('ended');
    expect(s.getRun('r-done')).toEqual(run({ id: 'r-done', state: 'ended', endedAt: '2025-01-01T11:00:00.000Z' }));
    expect(s.getRun('r-failed')!.state).toBe('failed');
    expect(s.reconcileAfterRestart()).toEqual({ runs: 0, sessions: 0 });
  });

  it('leaves alone the runs of an engine that is still alive (two engines on one data dir)', () => {
    const s = open();
    // process.ppid: a live process other than this one, standing in for another engine.
    s.insertRun(run({ id: 'r-other', state: 'running' }), '{}', process.ppid);
    s.insertSession(session({ id: 's-other', runId: 'r-other', status: 'working' }), '{}');
    s.insertRun(run({ id: 'r-mine', state: 'running' }), '{}');
    s.insertSession(session({ id: 's-mine', runId: 'r-mine', slot: 1, status: 'working' }), '{}');
    expect(s.reconcileAfterRestart()).toEqual({ runs: 0, sessions: 0 });
    expect(s.getSession('s-other')!.status).toBe('working');
    expect(s.getRun('r-other')!.state).toBe('running');
  });

  it('sees everything after close and reopen, and records the schema version', () => {
    let s = open();
    s.insertRun(run(), '{"t":1}');
    s.insertSession(session(), '{"l":1}');
    s.addStatus('s-1', 'working', null);
    s.close();
    expect(() => s.getRun('run-1')).toThrow(/closed/);
    s.close(); // idempotent
    s = open();
    expect(s.exclusive).toBe(exclusive);
    expect(s.getRun('run-1')).toEqual(run());
    expect(s.getSession('s-1')).toEqual(session());
    expect(s.statusHistory('s-1')).toHaveLength(1);
    s.close();
    store = null;

    const db = new sqlite.Database(join(dir, 'flotilla.db'));
    try {
      // without shared memory, a WAL database opens only in exclusive locking mode
      if (exclusive) db.exec('PRAGMA locking_mode = EXCLUSIVE');
      expect(db.get('PRAGMA user_version')).toEqual({ user_version: SCHEMA_VERSION });
    } finally {
      db.close();
    }
    // the lock directory, the WAL and the per-process marker are gone after close
    expect(existsSync(join(dir, 'flotilla.db.lock'))).toBe(false);
    expect(existsSync(join(dir, 'flotilla.db-wal'))).toBe(false);
    expect(readdirSync(join(dir, 'flotilla.db.users'))).toEqual([]);
  });

  it('refuses a database from a newer Flotilla, and a file that is not a database', () => {
    const db = new sqlite.Database(join(dir, 'flotilla.db'));
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 5}`);
    db.close();
    expect(() => Store.open(dir, { exclusive })).toThrow(/written by a newer Flotilla .* upgrade Flotilla, or pass --data-dir/);

    const other = join(dir, 'junk');
    mkdirSync(other);
    writeFileSync(join(other, 'flotilla.db'), 'this is not sqlite '.repeat(100));
    expect(() => Store.open(other, { exclusive })).toThrow(StoreError);
  });

  it('opens over a lock left behind by a killed process', () => {
    let s = open();
    s.insertRun(run(), '{}');
    s.close();
    store = null;
    // what a process killed inside a statement leaves behind
    mkdirSync(join(dir, 'flotilla.db.lock'));
    s = open();
    expect(s.getRun('run-1')).toEqual(run());
    s.updateRun('run-1', { state: 'ended' });
    expect(s.getRun('run-1')!.state).toBe('ended');
  });

  it('does not break a lock that a live process holds', () => {
    const s = open();
    s.insertRun(run(), '{}');
    s.close();
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      // what another process inside a statement (or an exclusive engine) looks like on disk
      writeFileSync(join(dir, 'flotilla.db.users', String(holder.pid)), '{}');
      mkdirSync(join(dir, 'flotilla.db.lock'));
      const t = Date.now();
      if (exclusive) {
        expect(() => open()).toThrow(new RegExp(`is in use by process ${holder.pid} — is another Flotilla engine running`));
      } else {
        expect(() => open()).toThrow(new RegExp(`stayed locked for 5 s \\(it is open in process ${holder.pid}\\)`));
        expect(Date.now() - t).toBeGreaterThanOrEqual(4_000);
      }
      expect(existsSync(join(dir, 'flotilla.db.lock'))).toBe(true);
      rmSync(join(dir, 'flotilla.db.lock'), { recursive: true });
      expect(open().getRun('run-1')).toEqual(run());
    } finally {
      holder.kill('SIGKILL');
    }
  });

  it('loses nothing when the process is killed (SIGKILL) after writing', async () => {
    const script = join(dir, 'writer.mts');
    writeFileSync(
      script,
      `import { Store } from ${JSON.stringify(STORE_MODULE)};
const [dataDir, runJson, sessionJson, mode] = process.argv.slice(2);
const s = Store.open(dataDir, { exclusive: mode === 'exclusive' });
s.insertRun(JSON.parse(runJson), '{"from":"child"}');
s.insertSession(JSON.parse(sessionJson), '{"command":"claude"}');
s.addStatus('s-1', 'working', 'from child');
s.updateSession('s-1', { status: 'working', pid: process.pid });
process.stdout.write('ready\\n');
setInterval(() => {}, 1000);
`,
    );
    const data = join(dir, 'data');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', script, data, JSON.stringify(run()), JSON.stringify(session()), exclusive ? 'exclusive' : 'default'],
      {
        cwd: PROJECT,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    await new Promise<void>((res, rej) => {
      child.stdout.on('data', (d) => String(d).includes('ready') && res());
      child.on('exit', (code) => rej(new Error(`writer exited (${code}) before it was ready: ${err}`)));
    });
    const exited = new Promise((r) => child.on('exit', r));
    child.kill('SIGKILL');
    await exited;

    store = Store.open(data, { exclusive });
    expect(store.getRun('run-1')).toEqual(run());
    expect(store.getRunTemplate('run-1')).toBe('{"from":"child"}');
    expect(store.getSession('s-1')).toMatchObject({ status: 'working', pid: child.pid });
    expect(store.getSessionLaunch('s-1')).toBe('{"command":"claude"}');
    expect(store.statusHistory('s-1')).toMatchObject([{ status: 'working', detail: 'from child' }]);
    expect(store.reconcileAfterRestart()).toEqual({ runs: 1, sessions: 1 });
  });

  it('keeps every acknowledged write and stays consistent when killed in the middle of writing', async () => {
    const script = join(dir, 'hammer.mts');
    writeFileSync(
      script,
      `import { Store } from ${JSON.stringify(STORE_MODULE)};
const [dataDir, runJson, sessionJson, mode] = process.argv.slice(2);
const s = Store.open(dataDir, { exclusive: mode === 'exclusive' });
s.insertRun(JSON.parse(runJson), '{}');
s.insertSession(JSON.parse(sessionJson), '{}');
for (let i = 1; ; i++) {
  s.addStatus('s-1', 'working', String(i));
  s.updateSession('s-1', { pid: i });
  process.stdout.write(i + '\\n');
}
`,
    );
    const data = join(dir, 'data');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', script, data, JSON.stringify(run()), JSON.stringify(session()), exclusive ? 'exclusive' : 'default'],
      {
        cwd: PROJECT,
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let acked = 0;
    let buf = '';
    child.stdout.on('data', (d) => {
      buf += String(d);
      const lines = buf.split('\n');
      buf = lines.pop()!;
      if (lines.length) acked = Number(lines[lines.length - 1]);
    });
    await new Promise<void>((res) => {
      const t = setInterval(() => {
        if (acked >= 200) {
          clearInterval(t);
          res();
        }
      }, 5);
    });
    const exited = new Promise((r) => child.on('exit', r));
    child.kill('SIGKILL');
    await exited;
    const lockLeft = existsSync(join(data, 'flotilla.db.lock'));

    store = Store.open(data, { exclusive });
    const history = store.statusHistory('s-1');
    const pid = store.getSession('s-1')!.pid!;
    console.log(
      `[${exclusive ? 'exclusive' : 'default'}] killed mid-write after ${acked} acknowledged writes: ${history.length} history rows, pid=${pid}, stale lock left: ${lockLeft}`,
    );
    expect(history.length).toBeGreaterThanOrEqual(acked);
    // each history row and its update are separate transactions: the update lags by at most one
    expect(pid === history.length || pid === history.length - 1).toBe(true);
    history.forEach((h, i) => expect(h.detail).toBe(String(i + 1)));
    store.addStatus('s-1', 'stopped', 'after crash');
    expect(store.statusHistory('s-1').at(-1)).toMatchObject({ status: 'stopped' });
  });

  it('measures 1000 updateSession calls', () => {
    const s = open();
    s.insertRun(run(), '{}');
    for (let slot = 1; slot <= 64; slot++) s.insertSession(session({ id: `s-${slot}`, slot }), '{}');
    const statuses: SessionStatus[] = ['working', 'idle', 'needs_you'];
    const t = performance.now();
    for (let i = 0; i < 1000; i++) s.updateSession(`s-${(i % 64) + 1}`, { status: statuses[i % 3]!, statusDetail: `tick ${i}` });
    const ms = performance.now() - t;
    const how = exclusive ? 'locking_mode=EXCLUSIVE journal=WAL synchronous=NORMAL' : 'journal=DELETE synchronous=FULL';
    console.log(`1000 updateSession calls: ${ms.toFixed(0)} ms (${(ms / 1000).toFixed(3)} ms each, ${how})`);
    expect(s.getSession('s-64')!.statusDetail).toBe('tick 959');
  });
});

describe('Store, exclusive mode', () => {
  it('refuses a second open, in this process and in another, while it is open', async () => {
    store = Store.open(dir, { exclusive: true });
    store.insertRun(run(), '{}');
    expect(() => Store.open(dir)).toThrow(/already open in this process/);
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '-e',
        `import(${JSON.stringify(STORE_MODULE)}).then((m) => m.Store.open(${JSON.stringify(dir)})).catch((e) => { console.log(e.message); process.exit(3); })`,
      ],
      { cwd: PROJECT, encoding: 'utf8' },
    );
    expect(r.status).toBe(3);
    expect(r.stdout).toMatch(new RegExp(`is in use by process ${process.pid} — is another Flotilla engine running on this data dir`));
    // still fine for its owner
    expect(store.getRun('run-1')).toEqual(run());
  });

  it('stays in WAL mode: a later default open is exclusive too', () => {
    Store.open(dir, { exclusive: true }).close();
    store = Store.open(dir);
    expect(store.exclusive).toBe(true);
  });
});

describe('data dir', () => {
  it('creates the folder and proves it writable', async () => {
    const target = join(dir, 'a', 'b', 'c');
    expect(await ensureDataDir(target)).toBe(target);
    expect(readdirSync(target)).toEqual([]);
  });

  it('explains an unwritable data dir (a path under a regular file)', async () => {
    const file = join(dir, 'file');
    writeFileSync(file, 'x');
    const target = join(file, 'data');
    await expect(ensureDataDir(target)).rejects.toThrow(StoreError);
    await expect(ensureDataDir(target)).rejects.toThrow(
      new RegExp(
        `^data dir ${target.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not writable \\(.+\\) — pass --data-dir or set FLOTILLA_HOME to a writable folder$`,
      ),
    );
    expect(() => Store.open(target)).toThrow(/is not writable/);
  });

  it('defaults to $FLOTILLA_HOME, else ~/.flotilla', () => {
    const saved = process.env.FLOTILLA_HOME;
    try {
      process.env.FLOTILLA_HOME = join(dir, 'home');
      expect(defaultDataDir()).toBe(join(dir, 'home'));
      delete process.env.FLOTILLA_HOME;
      expect(defaultDataDir()).toBe(join(homedir(), '.flotilla'));
    } finally {
      if (saved === undefined) delete process.env.FLOTILLA_HOME;
      else process.env.FLOTILLA_HOME = saved;
    }
  });
});
