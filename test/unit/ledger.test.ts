import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import sqlite from 'node-sqlite3-wasm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LedgerRow, type RunInfo } from '../../electron/shared/contract.ts';
import { SCHEMA_VERSION, Store } from '../../electron/engine/store/index.ts';
import { SpendLedger, csvField, plainNumber, usdCell, type LedgerClose } from '../../electron/engine/meter/ledger.ts';
import { PriceTable, referenceCost } from '../../electron/engine/meter/prices.ts';

const PROJECT = resolve(import.meta.dirname, '../..');
const STORE_MODULE = pathToFileURL(join(PROJECT, 'electron/engine/store/index.ts')).href;
const LEDGER_MODULE = pathToFileURL(join(PROJECT, 'electron/engine/meter/ledger.ts')).href;

const T0 = '2026-01-01T10:00:00.000Z';
const prices = PriceTable.shipped();

function run(over: Partial<RunInfo> = {}): RunInfo {
  return {
    id: 'run-1',
    name: 'Fix the tests',
    slug: 'fix-the-tests-run1ab',
    repo: '/repo',
    base: 'main',
    baseCommit: null,
    workspace: 'worktree',
    state: 'running',
    templatePath: null,
    model: 'kimi-k2.6',
    agentPreset: 'claude-code',
    providerPreset: 'moonshot',
    budget: { perSessionUsd: null, runUsd: null },
    concurrency: 1,
    startedAt: T0,
    endedAt: null,
    error: null,
    ...over,
  };
}

const usage = (input: number, cacheRead: number, cacheWrite: number, output: number) => ({
  inputTokens: input,
  cacheReadTokens: cacheRead,
  cacheWriteTokens: cacheWrite,
  outputTokens: output,
});

function exactClose(model: string | null, u: ReturnType<typeof usage>, over: Partial<LedgerClose> = {}): LedgerClose {
  const c = prices.cost(model, u);
  return {
    state: 'exact',
    usage: u,
    usd: c.usd,
    priced: c.priced,
    ttftMs: 420,
    durationMs: 1800,
    httpStatus: 200,
    errorType: null,
    ...over,
  };
}

/** RFC 4180 parser (quoted fields, doubled quotes, CRLF). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (field += '"'), (i += 2);
      else if (ch === '"') (quoted = false), i++;
      else (field += ch), i++;
    } else if (ch === '"') (quoted = true), i++;
    else if (ch === ',') row.push(field), (field = ''), i++;
    else if (ch === '\r' && text[i + 1] === '\n') row.push(field), rows.push(row), (row = []), (field = ''), (i += 2);
    else (field += ch), i++;
  }
  expect(field).toBe('');
  expect(row).toEqual([]);
  return rows;
}

let dir: string;
let store: Store | null = null;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'flotilla-ledger-'));
});
afterEach(() => {
  store?.close();
  store = null;
  rmSync(dir, { recursive: true, force: true });
});

function openLedger(opts: { exclusive?: boolean } = {}): SpendLedger {
  store = Store.open(join(dir, 'data'), opts);
  return new SpendLedger(store);
}

describe('usage table migration', () => {
  it("adds the usage table with its indexes as migration 3 (the sessions' last screens as 4, who served each request as 5)", () => {
    openLedger();
    store!.close();
    store = null;
    const db = new sqlite.Database(join(dir, 'data', 'flotilla.db'));
    try {
      expect(SCHEMA_VERSION).toBe(5);
      expect(db.get('PRAGMA user_version')).toEqual({ user_version: 5 });
      expect((db.all('PRAGMA table_info(session_screens)') as { name: string }[]).map((c) => c.name)).toEqual([
        'session_id',
        'cols',
        'rows',
        'data',
        'at',
      ]);
      const cols = (db.all('PRAGMA table_info(usage)') as { name: string }[]).map((c) => c.name);
      expect(cols).toEqual([
        'id',
        'session_id',
        'run_id',
        'model',
        'input_tokens',
        'cache_read_tokens',
        'cache_write_tokens',
        'output_tokens',
        'usd',
        'priced',
        'state',
        'ttft_ms',
        'duration_ms',
        'http_status',
        'error_type',
        'started_at',
        'ended_at',
        'provider',
        'failed_over',
      ]);
      const idx = db.all("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'usage'") as {
        name: string;
        sql: string;
      }[];
      expect(idx.map((i) => i.sql)).toEqual(
        expect.arrayContaining([expect.stringMatching(/\(run_id\)/), expect.stringMatching(/\(session_id\)/)]),
      );
    } finally {
      db.close();
    }
  });

  it('migrates a database written by the previous schema, keeping its runs', () => {
    // A version-2 database: run the first two migrations by hand-rolled downgrade of a fresh one.
    let s = Store.open(join(dir, 'data'));
    s.insertRun(run(), '{}');
    s.close();
    const db = new sqlite.Database(join(dir, 'data', 'flotilla.db'));
    db.exec('DROP TABLE session_screens; DROP TABLE usage; PRAGMA user_version = 2');
    db.close();
    s = Store.open(join(dir, 'data'));
    store = s;
    expect(s.getRun('run-1')).toEqual(run());
    expect(s.listUsage('run-1')).toEqual([]);
  });
});

describe('SpendLedger rows', () => {
  it('opens a row with zeros, writes progress, closes it with the final figures', () => {
    const ledger = openLedger();
    const id = ledger.open({ sessionId: 's-1', runId: 'run-1', model: 'kimi-k2.6', startedAt: T0 });
    expect(id).toBeGreaterThan(0);
    expect(store!.getUsage(id)).toEqual({
      id,
      sessionId: 's-1',
      runId: 'run-1',
      model: 'kimi-k2.6',
      inputTokens: 0,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
      outputTokens: 0,
      usd: 0,
      priced: true,
      state: 'open',
      ttftMs: null,
      durationMs: null,
      httpStatus: null,
      errorType: null,
      startedAt: T0,
      endedAt: null,
      provider: null,
      failedOver: false,
    });

    expect(ledger.progress(id, { ...usage(1000, 20_000, 0, 50), usd: 0.0042, priced: true })).toBe(true);
    expect(store!.getUsage(id)).toMatchObject({ state: 'open', inputTokens: 1000, cacheReadTokens: 20_000, outputTokens: 50, usd: 0.0042 });

    const u = usage(1000, 20_000, 300, 700);
    ledger.close(id, exactClose('kimi-k2.6', u, { model: 'kimi-k2.6-0420' }));
    const row = store!.getUsage(id)!;
    expect(LedgerRow.parse(row)).toEqual(row);
    expect(row).toMatchObject({
      state: 'exact',
      model: 'kimi-k2.6-0420',
      ...u,
      usd: prices.cost('kimi-k2.6', u).usd,
      priced: true,
      ttftMs: 420,
      durationMs: 1800,
      httpStatus: 200,
      errorType: null,
    });
    expect(Date.parse(row.endedAt!)).toBeGreaterThan(Date.parse(T0));

    // A progress write that arrives after the close changes nothing.
    expect(ledger.progress(id, { ...usage(1, 1, 1, 1), usd: 1, priced: true })).toBe(false);
    expect(store!.getUsage(id)!.inputTokens).toBe(1000);
  });

  it('stores unpriced dollars as 0 with priced = false, and refuses nonsense figures', () => {
    const ledger = openLedger();
    const id = ledger.open({ sessionId: 's-1', runId: 'run-1', model: 'mystery', startedAt: T0 });
    ledger.close(id, { ...exactClose('mystery', usage(10, 0, 0, 5)), usd: 123 });
    expect(store!.getUsage(id)).toMatchObject({ usd: 0, priced: false, inputTokens: 10, outputTokens: 5 });
    expect(() => ledger.close(id, exactClose('kimi-k2.6', usage(-1, 0, 0, 0)))).toThrow(/inputTokens must be a count/);
    expect(() => ledger.close(id, { ...exactClose('kimi-k2.6', usage(1, 0, 0, 0)), usd: Number.NaN })).toThrow(/usd/);
    expect(() => ledger.close(id, { ...exactClose('kimi-k2.6', usage(1, 0, 0, 0)), state: 'open' })).toThrow(/not 'open'/);
    expect(() => ledger.close(9999, exactClose('kimi-k2.6', usage(1, 0, 0, 0)))).toThrow(/no usage row 9999/);
  });

  it('records refusals as free, non-billed rows', () => {
    const ledger = openLedger();
    const id = ledger.refuse({ sessionId: 's-1', runId: 'run-1', model: 'kimi-k2.6', startedAt: T0 });
    expect(store!.getUsage(id)).toMatchObject({ state: 'refused', usd: 0, httpStatus: 429, errorType: 'budget_exceeded', endedAt: T0 });
  });

  it('lists a run and a session in the order the requests were opened', () => {
    const ledger = openLedger();
    const a = ledger.open({ sessionId: 's-1', runId: 'run-1', model: 'kimi-k2.6', startedAt: T0 });
    const b = ledger.open({ sessionId: 's-2', runId: 'run-1', model: 'kimi-k2.6', startedAt: T0 });
    const c = ledger.open({ sessionId: 's-1', runId: 'run-1', model: 'kimi-k2.6', startedAt: T0 });
    ledger.open({ sessionId: 's-9', runId: 'run-2', model: null, startedAt: T0 });
    ledger.close(a, exactClose('kimi-k2.6', usage(1, 0, 0, 1)));
    expect(ledger.rows('run-1').map((r) => r.id)).toEqual([a, b, c]);
    expect(ledger.sessionRows('s-1').map((r) => r.id)).toEqual([a, c]);
    expect(store!.listSessionUsage('s-2').map((r) => r.id)).toEqual([b]);
    expect(ledger.rows('nope')).toEqual([]);
  });

  it('deleteRun removes the run’s ledger rows and no others', () => {
    const ledger = openLedger();
    store!.insertRun(run(), '{}');
    store!.insertRun(run({ id: 'run-2', slug: 'other' }), '{}');
    ledger.open({ sessionId: 's-1', runId: 'run-1', model: 'kimi-k2.6', startedAt: T0 });
    ledger.refuse({ sessionId: 's-1', runId: 'run-1', model: 'kimi-k2.6', startedAt: T0 });
    ledger.open({ sessionId: 's-2', runId: 'run-2', model: 'kimi-k2.6', startedAt: T0 });
    store!.deleteRun('run-1');
    expect(store!.getRun('run-1')).toBeNull();
    expect(ledger.rows('run-1')).toEqual([]);
    expect(ledger.rows('run-2')).toHaveLength(1);
  });
});

describe('SpendLedger totals', () => {
  it('is all zeros for a run without rows', () => {
    const ledger = openLedger();
    expect(ledger.totals({ runId: 'none' })).toEqual({
      usd: 0,
      inputTokens: 0,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
      outputTokens: 0,
      requests: 0,
      unpricedTokens: 0,
      openRequests: 0,
      openUsd: 0,
      refused: 0,
      pricedUsage: usage(0, 0, 0, 0),
    });
  });

  it('sums billed states, counts non-refused requests, separates unpriced tokens', () => {
    const ledger = openLedger();
    const base = { runId: 'run-1', startedAt: T0 };
    // exact, s-1
    const a = ledger.open({ ...base, sessionId: 's-1', model: 'kimi-k2.6' });
    ledger.close(a, exactClose('kimi-k2.6', usage(1000, 50_000, 2000, 800)));
    // partial, s-1
    const b = ledger.open({ ...base, sessionId: 's-1', model: 'kimi-k2.6' });
    ledger.close(b, { ...exactClose('kimi-k2.6', usage(500, 0, 0, 120)), state: 'partial', httpStatus: 200 });
    // error with no tokens, s-2
    const c = ledger.open({ ...base, sessionId: 's-2', model: 'kimi-k2.6' });
    ledger.close(c, {
      ...exactClose('kimi-k2.6', usage(0, 0, 0, 0)),
      state: 'error',
      httpStatus: 429,
      errorType: 'rate_limit_reached_error',
    });
    // unpriced model, s-2
    const d = ledger.open({ ...base, sessionId: 's-2', model: 'mystery' });
    ledger.close(d, exactClose('mystery', usage(300, 0, 0, 30)));
    // still open (estimate written), s-2
    const e = ledger.open({ ...base, sessionId: 's-2', model: 'kimi-k2.6' });
    ledger.progress(e, { ...usage(9999, 0, 0, 9), usd: 0.5, priced: true });
    // refused, s-1
    ledger.refuse({ ...base, sessionId: 's-1', model: 'kimi-k2.6' });
    // another run
    const f = ledger.open({ sessionId: 's-3', runId: 'run-2', model: 'kimi-k2.6', startedAt: T0 });
    ledger.close(f, exactClose('kimi-k2.6', usage(7, 7, 7, 7)));

    const usdA = prices.cost('kimi-k2.6', usage(1000, 50_000, 2000, 800)).usd;
    const usdB = prices.cost('kimi-k2.6', usage(500, 0, 0, 120)).usd;
    const t = ledger.totals({ runId: 'run-1' });
    expect(t).toMatchObject({
      inputTokens: 1000 + 500 + 300,
      cacheReadTokens: 50_000,
      cacheWriteTokens: 2000,
      outputTokens: 800 + 120 + 30,
      requests: 5,
      unpricedTokens: 330,
      openRequests: 1,
      openUsd: 0.5,
      refused: 1,
      pricedUsage: usage(1500, 50_000, 2000, 920),
    });
    expect(t.usd).toBeCloseTo(usdA + usdB, 12);

    expect(ledger.totals({ sessionId: 's-1' })).toMatchObject({ requests: 2, refused: 1, inputTokens: 1500, unpricedTokens: 0 });
    expect(ledger.totals({ sessionId: 's-1' }).usd).toBeCloseTo(usdA + usdB, 12);
    expect(ledger.totals({ sessionId: 's-2' })).toMatchObject({
      usd: 0,
      requests: 3,
      inputTokens: 300,
      unpricedTokens: 330,
      openRequests: 1,
    });

    // savings compare the priced tokens with the reference model
    const ref = referenceCost(prices, 'claude-sonnet-4-5', t.pricedUsage);
    expect(ref).toBeGreaterThan(t.usd);
  });
});

describe('SpendLedger csv', () => {
  it('writes a header and one RFC 4180 line per row', () => {
    const ledger = openLedger();
    const a = ledger.open({ sessionId: 's-1', runId: 'run-1', model: 'weird "model", v2', startedAt: T0 });
    ledger.close(a, {
      ...exactClose('kimi-k2.6', usage(10, 0, 0, 1)),
      priced: false,
      state: 'error',
      httpStatus: 400,
      errorType: 'invalid_request_error,\r\nsecond line',
      ttftMs: null,
    });
    const b = ledger.open({ sessionId: 's-1', runId: 'run-1', model: 'kimi-k2.6', startedAt: T0 });
    ledger.close(b, { ...exactClose('kimi-k2.6', usage(1, 0, 0, 0)), endedAt: '2026-01-01T10:00:01.000Z' });
    ledger.open({ sessionId: 's-1', runId: 'run-1', model: 'kimi-k2.6', startedAt: T0 });

    const text = ledger.csv('run-1');
    expect(text.endsWith('\r\n')).toBe(true);
    const rows = parseCsv(text);
    expect(rows[0]).toEqual([
      'id',
      'session_id',
      'run_id',
      'model',
      'state',
      'priced',
      'input_tokens',
      'cache_read_tokens',
      'cache_write_tokens',
      'output_tokens',
      'usd',
      'ttft_ms',
      'duration_ms',
      'http_status',
      'error_type',
      'started_at',
      'ended_at',
      'provider',
      'failed_over',
    ]);
    expect(rows).toHaveLength(4);
    expect(rows[1]!.slice(3, 6)).toEqual(['weird "model", v2', 'error', 'false']);
    expect(rows[1]![10]).toBe(''); // unpriced: dollars unknown, not $0
    expect(rows[1]![14]).toBe('invalid_request_error,\r\nsecond line');
    expect(rows[2]!.slice(0, 11)).toEqual([String(b), 's-1', 'run-1', 'kimi-k2.6', 'exact', 'true', '1', '0', '0', '0', '0.00000095']);
    expect(rows[2]!.slice(11)).toEqual(['420', '1800', '200', '', T0, '2026-01-01T10:00:01.000Z', '', 'false']);
    expect(rows[3]!.slice(4, 6)).toEqual(['open', 'true']);
    expect(rows[3]![10]).toBe('');
    expect(rows[3]![16]).toBe('');
    expect(text.split('\r\n')[1]).toContain('"weird ""model"", v2"');
  });

  it('has a usd column that adds up to totals().usd to the micro-dollar', () => {
    const ledger = openLedger({ exclusive: true });
    let seed = 7;
    const rnd = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    const models = ['kimi-k2.6', 'kimi-k2-turbo-preview', 'kimi-k3', 'claude-opus-4-1', 'mystery'];
    const states = ['exact', 'exact', 'exact', 'partial', 'error', 'interrupted'] as const;
    for (let i = 0; i < 1500; i++) {
      const model = models[rnd(models.length)]!;
      const id = ledger.open({ sessionId: `s-${rnd(10)}`, runId: 'run-1', model, startedAt: T0 });
      const kind = rnd(20);
      if (kind === 0) continue; // left open
      if (kind === 1) {
        ledger.refuse({ sessionId: 's-0', runId: 'run-1', model, startedAt: T0 });
        continue;
      }
      // tiny and large requests: 1.5e-7 $ must print as a plain decimal
      const u = kind === 2 ? usage(0, 1, 0, 0) : usage(rnd(30_000), rnd(250_000), rnd(9_000), rnd(9_000));
      ledger.close(id, { ...exactClose(model, u), state: states[rnd(states.length)]! });
    }
    const text = ledger.csv('run-1');
    expect(text).not.toMatch(/e-\d/);
    const rows = parseCsv(text);
    const col = rows[0]!.indexOf('usd');
    let sum = 0;
    for (const r of rows.slice(1)) sum += r[col] === '' ? 0 : Number(r[col]);
    const t = ledger.totals({ runId: 'run-1' });
    expect(t.usd).toBeGreaterThan(10);
    expect(Math.abs(sum - t.usd)).toBeLessThan(1e-9);
    expect(Math.round(sum * 1e6)).toBe(Math.round(t.usd * 1e6));
    // and every cell is the stored figure to the pico-dollar
    const stored = ledger.rows('run-1');
    rows.slice(1).forEach((r, i) => {
      if (r[col] !== '') expect(Math.abs(Number(r[col]) - stored[i]!.usd)).toBeLessThanOrEqual(5e-13);
    });
  });

  it('formats numbers without exponents and quotes only when needed', () => {
    expect(usdCell(1.5e-7)).toBe('0.00000015');
    expect(usdCell((1 * 0.95) / 1e6)).toBe('0.00000095');
    expect(usdCell(0)).toBe('0');
    expect(usdCell(12)).toBe('12');
    expect(usdCell(10.5)).toBe('10.5');
    expect(usdCell(1234.000000000001)).toBe('1234.000000000001');
    expect(plainNumber(1.5e-7)).toBe('0.00000015');
    expect(plainNumber(1.2345e-10)).toBe('0.00000000012345');
    expect(plainNumber(0.95)).toBe('0.95');
    expect(plainNumber(1e21)).toBe('1000000000000000000000');
    expect(plainNumber(1.5e22)).toBe('15000000000000000000000');
    expect(plainNumber(0)).toBe('0');
    expect(Number(plainNumber(3.0000000000000004e-7))).toBe(3.0000000000000004e-7);
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
  });
});

describe('interrupted requests', () => {
  it('marks open rows interrupted, keeping the figures last written', () => {
    const ledger = openLedger();
    const a = ledger.open({ sessionId: 's-1', runId: 'run-1', model: 'kimi-k2.6', startedAt: T0 });
    ledger.progress(a, { ...usage(4000, 10_000, 0, 250), usd: 0.0123, priced: true });
    const b = ledger.open({ sessionId: 's-1', runId: 'run-1', model: 'kimi-k2.6', startedAt: T0 });
    ledger.close(b, exactClose('kimi-k2.6', usage(1, 0, 0, 1)));
    expect(ledger.interruptOpen()).toBe(1);
    expect(store!.getUsage(a)).toMatchObject({
      state: 'interrupted',
      inputTokens: 4000,
      cacheReadTokens: 10_000,
      outputTokens: 250,
      usd: 0.0123,
    });
    expect(store!.getUsage(a)!.endedAt).not.toBeNull();
    expect(store!.getUsage(b)!.state).toBe('exact');
    expect(ledger.interruptOpen()).toBe(0);
    // interrupted rows count as spent
    expect(ledger.totals({ runId: 'run-1' }).inputTokens).toBe(4001);
  });

  it('leaves alone the open rows of a run another live engine owns', async () => {
    const ledger = openLedger();
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      store!.insertRun(run({ id: 'run-live' }), '{}', holder.pid!);
      store!.insertRun(run({ id: 'run-mine', slug: 'mine' }), '{}');
      const live = ledger.open({ sessionId: 's-1', runId: 'run-live', model: 'kimi-k2.6', startedAt: T0 });
      const mine = ledger.open({ sessionId: 's-2', runId: 'run-mine', model: 'kimi-k2.6', startedAt: T0 });
      const orphan = ledger.open({ sessionId: 's-3', runId: 'run-gone', model: 'kimi-k2.6', startedAt: T0 });
      expect(ledger.interruptOpen()).toBe(2);
      expect([live, mine, orphan].map((id) => store!.getUsage(id)!.state)).toEqual(['open', 'interrupted', 'interrupted']);
      const exited = new Promise((r) => holder.on('exit', r));
      holder.kill('SIGKILL');
      await exited;
      expect(ledger.interruptOpen()).toBe(1);
      expect(store!.getUsage(live)!.state).toBe('interrupted');
    } finally {
      holder.kill('SIGKILL');
    }
  });

  for (const exclusive of [false, true]) {
    it(`survives the engine being SIGKILLed mid-request (${exclusive ? 'exclusive' : 'default'} store)`, async () => {
      const script = join(dir, 'meter-child.mts');
      writeFileSync(
        script,
        `import { Store } from ${JSON.stringify(STORE_MODULE)};
import { SpendLedger } from ${JSON.stringify(LEDGER_MODULE)};
const [dataDir, mode] = process.argv.slice(2);
const store = Store.open(dataDir, { exclusive: mode === 'exclusive' });
const ledger = new SpendLedger(store);
const done = ledger.open({ sessionId: 's-1', runId: 'run-1', model: 'kimi-k2.6', startedAt: '${T0}' });
ledger.close(done, { state: 'exact', usage: { inputTokens: 10, cacheReadTokens: 0, cacheWriteTokens: 0, outputTokens: 5 }, usd: 0.0000295, priced: true, ttftMs: 1, durationMs: 2, httpStatus: 200, errorType: null });
const id = ledger.open({ sessionId: 's-1', runId: 'run-1', model: 'kimi-k2.6', startedAt: '${T0}' });
ledger.progress(id, { inputTokens: 1200, cacheReadTokens: 64000, cacheWriteTokens: 300, outputTokens: 321, usd: 0.0127, priced: true });
process.stdout.write('ready ' + id + '\\n');
setInterval(() => {}, 1000);
`,
      );
      const data = join(dir, 'data');
      const child = spawn(process.execPath, ['--import', 'tsx', script, data, exclusive ? 'exclusive' : 'default'], {
        cwd: PROJECT,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let err = '';
      child.stderr.on('data', (d) => (err += d));
      const rowId = await new Promise<number>((res, rej) => {
        child.stdout.on('data', (d) => {
          const m = /ready (\d+)/.exec(String(d));
          if (m) res(Number(m[1]));
        });
        child.on('exit', (code) => rej(new Error(`child exited (${code}) before it was ready: ${err}`)));
      });
      const exited = new Promise((r) => child.on('exit', r));
      child.kill('SIGKILL');
      await exited;

      const ledger = openLedger({ exclusive });
      expect(store!.getUsage(rowId)!.state).toBe('open');
      expect(ledger.interruptOpen()).toBe(1);
      expect(store!.getUsage(rowId)).toMatchObject({
        state: 'interrupted',
        model: 'kimi-k2.6',
        inputTokens: 1200,
        cacheReadTokens: 64_000,
        cacheWriteTokens: 300,
        outputTokens: 321,
        usd: 0.0127,
        priced: true,
      });
      expect(store!.getUsage(rowId)!.endedAt).not.toBeNull();
      const t = ledger.totals({ runId: 'run-1' });
      expect(t).toMatchObject({ requests: 2, inputTokens: 1210, outputTokens: 326, openRequests: 0 });
      expect(t.usd).toBeCloseTo(0.0127 + 0.0000295, 12);
    });
  }
});

describe('ledger write speed (measured, not asserted)', () => {
  for (const exclusive of [false, true]) {
    it(`1000 open+close pairs (${exclusive ? 'exclusive WAL' : 'default rollback journal, synchronous=FULL'})`, () => {
      const ledger = openLedger({ exclusive });
      const u = usage(1200, 48_000, 3000, 800);
      const c = exactClose('kimi-k2.6', u);
      const t0 = performance.now();
      for (let i = 0; i < 1000; i++) {
        const id = ledger.open({ sessionId: `s-${i % 10}`, runId: 'run-1', model: 'kimi-k2.6', startedAt: T0 });
        ledger.close(id, c);
      }
      const ms = performance.now() - t0;
      const t1 = performance.now();
      const totals = ledger.totals({ sessionId: 's-3' });
      const totalsMs = performance.now() - t1;
      const t2 = performance.now();
      const csv = ledger.csv('run-1');
      const csvMs = performance.now() - t2;
      console.log(
        `[ledger bench] ${exclusive ? 'exclusive' : 'default'}: 1000 open+close pairs in ${ms.toFixed(0)} ms ` +
          `(${(ms / 1000).toFixed(3)} ms per pair, ${((ms / 2000) * 1000).toFixed(0)} µs per write); ` +
          `totals(session of 100 rows) ${totalsMs.toFixed(2)} ms; csv(1000 rows, ${csv.length} bytes) ${csvMs.toFixed(1)} ms`,
      );
      expect(totals.requests).toBe(100);
    });
  }
});
