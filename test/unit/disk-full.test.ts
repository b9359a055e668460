// A full disk under the store: writes the disk refuses are kept in memory in order and written when space returns
// (real SQLite on a real, full tmpfs), and the engine's disk watch holds and resumes on the free space it sees.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { LedgerRow } from '../../electron/shared/contract.ts';
import { DiskWatch } from '../../electron/engine/health/index.ts';
import { Store } from '../../electron/engine/store/index.ts';
import { isDiskFull } from '../../electron/engine/store/disk.ts';
import { PendingWrites } from '../../electron/engine/store/pending.ts';
import { writePrivateFile } from '../../electron/engine/settings/private-file.ts';
import { tempDir } from '../fixtures/repo.ts';
import { cannotMount, smallDisk, type SmallDisk } from '../fixtures/small-disk.ts';

const row = (i: number): Omit<LedgerRow, 'id'> => ({
  sessionId: 's1',
  runId: 'r1',
  model: `m-${i}-${'x'.repeat(3000)}`,
  inputTokens: i,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
  outputTokens: 0,
  usd: 0,
  priced: true,
  ttftMs: null,
  startedAt: new Date(1_700_000_000_000 + i).toISOString(),
  provider: null,
  failedOver: false,
  state: 'open',
  durationMs: null,
  httpStatus: null,
  errorType: null,
  endedAt: null,
});

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

describe('isDiskFull', () => {
  it("tells a full disk from other errors (Node's codes and SQLite's words)", () => {
    expect(isDiskFull(Object.assign(new Error('no space'), { code: 'ENOSPC' }))).toBe(true);
    expect(isDiskFull(Object.assign(new Error('quota'), { code: 'EDQUOT' }))).toBe(true);
    expect(isDiskFull(new Error('disk I/O error'))).toBe(true);
    expect(isDiskFull(new Error('database or disk is full'))).toBe(true);
    expect(isDiskFull(new Error('UNIQUE constraint failed: runs.id'))).toBe(false);
    expect(isDiskFull(Object.assign(new Error('denied'), { code: 'EACCES' }))).toBe(false);
    expect(isDiskFull('ENOSPC')).toBe(false);
  });
});

describe('PendingWrites', () => {
  it('keeps order, gives provisional ids, merges progress of one row, and stops at the first refused write', () => {
    const p = new PendingWrites();
    const a = p.insertUsage(row(1));
    p.updateUsage(a, { inputTokens: 5 }, 'open');
    p.updateUsage(a, { inputTokens: 9, outputTokens: 2 }, 'open');
    p.updateUsage(a, { state: 'exact' });
    p.screen('s1', { cols: 80, rows: 24, data: 'one' });
    p.screen('s1', { cols: 80, rows: 24, data: 'two' });
    expect(a).toBeLessThan(0);
    expect(p.size).toBe(4);
    expect(p.ledgerWrites).toBe(3);
    const applied: string[] = [];
    let refuse = true;
    const apply = (op: Parameters<Parameters<PendingWrites['flush']>[0]>[0]) => {
      if (op.kind === 'usage-update' && refuse) throw new Error('disk I/O error');
      applied.push(
        JSON.stringify(
          op.kind === 'usage-update' ? [op.kind, p.realId(op.id), op.patch] : op.kind === 'screen' ? [op.kind, op.screen.data] : [op.kind],
        ),
      );
      return op.kind === 'usage-insert' ? 42 : undefined;
    };
    expect(p.flush(apply, isDiskFull, () => {})?.message).toBe('disk I/O error');
    expect(p.size).toBe(3);
    expect(p.realId(a)).toBe(42);
    refuse = false;
    expect(p.flush(apply, isDiskFull, () => {})).toBeNull();
    expect(applied).toEqual([
      '["usage-insert"]',
      '["usage-update",42,{"inputTokens":9,"outputTokens":2}]',
      '["usage-update",42,{"state":"exact"}]',
      '["screen","two"]',
    ]);
  });

  it('an error that is not a full disk drops that write (said to `failed`) and goes on', () => {
    const p = new PendingWrites();
    p.write('status', () => {
      throw new Error('FOREIGN KEY constraint failed');
    });
    let ran = false;
    p.write('session', () => {
      ran = true;
    });
    const failed: string[] = [];
    expect(
      p.flush(
        (op) => (op.kind === 'write' ? op.run() : undefined),
        isDiskFull,
        (_op, err) => failed.push(err.message),
      ),
    ).toBeNull();
    expect(failed).toEqual(['FOREIGN KEY constraint failed']);
    expect(ran).toBe(true);
  });
});

describe.skipIf(cannotMount !== null)(`a store on a full tmpfs${cannotMount ? ` (skipped: ${cannotMount})` : ''}`, () => {
  let disk: SmallDisk;
  const open = () => {
    disk = smallDisk('4m');
    cleanups.push(() => disk.unmount());
    const store = Store.open(`${disk.dir}/data`, { exclusive: true });
    cleanups.push(() => store.close());
    return store;
  };

  it('refused writes wait in memory and go to disk, in order, with their real ids, once space returns', () => {
    const store = open();
    const full: Error[] = [];
    store.setFaults({ diskFull: (e) => full.push(e), dropped: () => {} });
    const ids: number[] = [];
    ids.push(store.insertUsageUnchecked(row(0)));
    disk.fill();
    // The WAL may still have room: write until the disk really refuses, then a few more.
    for (let i = 1; full.length === 0 && i < 5_000; i++) ids.push(store.insertUsageUnchecked(row(i)));
    expect(full.length).toBe(1);
    for (let i = 0; i < 3; i++) ids.push(store.insertUsageUnchecked(row(ids.length)));
    const kept = ids.filter((id) => id < 0);
    expect(kept.length).toBeGreaterThanOrEqual(4);
    // A kept row progresses and closes like a written one; a session write waits behind it.
    const last = ids[ids.length - 1]!;
    expect(store.updateUsageUnchecked(last, { inputTokens: 7 }, 'open')).toBe(true);
    expect(store.updateUsageUnchecked(last, { state: 'exact', endedAt: new Date().toISOString() })).toBe(true);
    store.saveScreen('nobody', { cols: 80, rows: 24, data: 'x' });
    expect(store.getUsage(last)).toBeNull();
    expect(store.pendingWrites()).toMatchObject({ ledgerWrites: kept.length + 2 });
    // Still full: nothing goes, nothing is lost.
    expect(isDiskFull(store.flushPending())).toBe(true);
    expect(store.pendingWrites().ledgerWrites).toBe(kept.length + 2);

    disk.free();
    expect(store.flushPending()).toBeNull();
    expect(store.pendingWrites().writes).toBe(0);
    const rows = store.listUsage('r1');
    expect(rows.map((r) => r.inputTokens)).toEqual(ids.map((_, i) => (i === ids.length - 1 ? 7 : i)));
    expect(rows.at(-1)!.state).toBe('exact');
    expect(store.getUsage(last)).toMatchObject({ state: 'exact', inputTokens: 7 });
    // Later writes go straight to disk again.
    expect(store.insertUsageUnchecked(row(99))).toBeGreaterThan(0);
  });

  it('a settings file is not half-written: the save is refused with words and the previous version kept', async () => {
    disk = smallDisk('1m');
    cleanups.push(() => disk.unmount());
    const file = join(disk.dir, 'settings.json');
    await writePrivateFile(file, '{"v":1}\n');
    disk.fill();
    await expect(writePrivateFile(file, JSON.stringify({ v: 2, pad: 'x'.repeat(200_000) }))).rejects.toMatchObject({
      code: 'disk_full',
      message: expect.stringMatching(
        /settings\.json was not saved: the disk is full .* — free some space and save again; the previous version is kept/,
      ),
    });
    expect(readFileSync(file, 'utf8')).toBe('{"v":1}\n');
    expect(readdirSync(disk.dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('a new run is refused with what to do, not a stack', () => {
    const store = open();
    store.setFaults({ diskFull: () => {}, dropped: () => {} });
    disk.fill();
    const template = JSON.stringify({ big: 'y'.repeat(400_000) });
    let err: Error | null = null;
    for (let i = 0; i < 50 && !err; i++) {
      try {
        store.insertRun(
          {
            id: `run-${i}`,
            name: 'r',
            slug: `r-${i}`,
            repo: '/repo',
            base: 'main',
            baseCommit: null,
            workspace: 'worktree',
            state: 'launching',
            templatePath: null,
            model: 'kimi-k2',
            agentPreset: 'claude-code',
            providerPreset: 'moonshot',
            budget: { perSessionUsd: null, runUsd: null },
            concurrency: 1,
            startedAt: new Date().toISOString(),
            endedAt: null,
            error: null,
          },
          template,
        );
      } catch (e) {
        err = e as Error;
      }
    }
    expect(err?.message).toMatch(/disk under .* is full .*the run was not started — free some space and try again/);
  });
});

describe('DiskWatch', () => {
  it('holds below the low mark, resumes above the high one once kept writes are written, and says how much is needed', () => {
    const store = Store.open(tempDir('flotilla-watch-'));
    cleanups.push(() => store.close());
    let free = 100 * 1024 * 1024;
    const states: boolean[] = [];
    const logs: string[] = [];
    const watch = new DiskWatch({ dataDir: '/data', store, log: (l) => logs.push(l), freeBytes: () => free });
    cleanups.push(() => watch.close());
    watch.on('changed', (s) => states.push(s.full));
    watch.start();
    expect(watch.state().full).toBe(false);
    free = 3 * 1024 * 1024;
    watch.check();
    expect(watch.state()).toMatchObject({ full: true, freeBytes: free, neededBytes: 13 * 1024 * 1024 });
    expect(watch.state().message).toBe('disk full at /data — 13 MB needed; spend is held until space returns');
    // Above the low mark but below the resume mark: still held (no flapping at the edge).
    free = 12 * 1024 * 1024;
    watch.check();
    expect(watch.state().full).toBe(true);
    free = 40 * 1024 * 1024;
    watch.check();
    expect(watch.state()).toMatchObject({ full: false, neededBytes: 0, message: null, since: null });
    expect(states).toEqual([true, true, false]);
    expect(logs.join('\n')).toMatch(/has room again/);
  });

  it('a refused store write makes it full at once, even when the free space looks fine (a quota)', () => {
    const store = Store.open(tempDir('flotilla-watch-'));
    cleanups.push(() => store.close());
    const watch = new DiskWatch({ dataDir: '/data', store, log: () => {}, freeBytes: () => 500 * 1024 * 1024 });
    cleanups.push(() => watch.close());
    watch.diskFull(Object.assign(new Error('EDQUOT: quota exceeded'), { code: 'EDQUOT' }));
    expect(watch.state()).toMatchObject({ full: true, neededBytes: 0 });
    expect(watch.state().message).toMatch(/a write failed \(EDQUOT: quota exceeded\)/);
    // Nothing kept: the next look writes nothing and finds room.
    watch.check();
    expect(watch.state().full).toBe(false);
  });
});

describe('a store that cannot be opened', () => {
  it('corrupt or truncated: a message saying what to do and a copy beside it, never a stack', () => {
    for (const damage of ['corrupt', 'truncated'] as const) {
      const dir = tempDir('flotilla-bad-store-');
      const s = Store.open(dir);
      for (let i = 0; i < 20; i++) s.insertUsage(row(i));
      s.close();
      const file = join(dir, 'flotilla.db');
      const bytes = readFileSync(file);
      if (damage === 'corrupt') writeFileSync(file, Buffer.concat([Buffer.from('this is not sqlite at all'), bytes.subarray(25)]));
      else writeFileSync(file, bytes.subarray(0, Math.floor(bytes.length / 3)));
      let err: Error | null = null;
      try {
        Store.open(dir).close();
      } catch (e) {
        err = e as Error;
      }
      expect(err?.name, damage).toBe('StoreError');
      expect(err!.message).toMatch(
        /is not a readable Flotilla database .*; a copy of it is at .*flotilla\.db\.unreadable-.* — move flotilla\.db away/,
      );
      const copy = readdirSync(dir).find((f) => f.startsWith('flotilla.db.unreadable-'))!;
      expect(readFileSync(join(dir, copy)).equals(readFileSync(file))).toBe(true);
    }
  });
});
