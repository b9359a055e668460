// Disk full is a state, not a crash: a real Claude Code session works through Flotilla with the engine's data dir on a
// small tmpfs; the disk is filled under the running engine; the session's next model request is held (nothing goes
// upstream unmetered) while the dashboard's health says so; space is freed, the held request goes by itself, the
// ledger has a row for every request the stand-in answered, and the session was never interrupted.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { EngineEvent } from '../../electron/shared/contract.ts';
import { useEngines } from '../fixtures/engine.ts';
import { makeRepo } from '../fixtures/repo.ts';
import { cannotMount, smallDisk, type SmallDisk } from '../fixtures/small-disk.ts';
import { waitFor } from '../fixtures/wait.ts';

const KEY = 'sk-disk-full';
const env = useEngines({ key: KEY, keyEnv: 'DISK_KEY' });
let disk: SmallDisk | null = null;
afterAll(() => disk?.unmount());

/** The raw screen draws runs of spaces as cursor moves: read it with the spaces back. */
const plain = (s: string) => s.replace(/\x1b\[(\d*)C/g, (_, n: string) => ' '.repeat(Number(n || 1)));

describe.skipIf(cannotMount !== null)(`a full disk under a running engine${cannotMount ? ` (skipped: ${cannotMount})` : ''}`, () => {
  it('holds the next model request while full, lets it go when space returns, and loses no ledger row', async () => {
    disk = smallDisk('48m');
    const e = await env.engine(join(disk.dir, 'data'));
    const events: EngineEvent[] = [];
    e.on('event', (ev) => events.push(ev));
    const up = env.upstream();
    const templateText = `
name: full-disk
repo: ${makeRepo()}
agent: { preset: claude-code }
provider: { preset: custom, baseUrl: "${up.anthropicBaseUrl}", apiKeyEnv: DISK_KEY }
model: kimi-k2.6
tasks: ${JSON.stringify(['WRITE one.txt first\nSAY first-turn-done'])}
`;
    const { run } = await e.call('launch', { templateText });
    const s = await waitFor(
      () => {
        const x = e.registry.listSessions(run.id)[0];
        return x && x.status === 'idle' && existsSync(join(x.worktree, 'one.txt')) ? x : null;
      },
      'the first turn to finish',
      120_000,
    );

    // The disk fills under the engine: the watch sees it, the clients are told, spend is held.
    disk.fill();
    e.disk.check();
    const health = e.health().disk;
    expect(health.full).toBe(true);
    expect(health.message).toMatch(/^disk full at .*data — \d+ MB needed; spend is held until space returns$/);
    expect(events.some((ev) => ev.event === 'health' && ev.health.disk.full)).toBe(true);

    // The next turn: typed, seen, then Enter. Its request reaches the meter and is held there.
    const before = up.modelRequests().length;
    await e.call('input', { sessionId: s.id, data: 'WRITE two.txt second' });
    await waitFor(
      async () => plain((await e.call('snapshot', { sessionId: s.id })).data).includes('WRITE two.txt second'),
      'the typed prompt',
    );
    await e.call('input', { sessionId: s.id, data: '\r' });
    const held = await waitFor(
      () => {
        const x = e.registry.sessionInfo(s.id);
        return x.status === 'held' ? x : null;
      },
      'the session to be held',
      60_000,
    );
    expect(held.statusDetail).toMatch(/disk full at/);
    expect(e.health().disk.heldRequests).toBeGreaterThanOrEqual(1);
    // Nothing of the new turn went upstream unmetered.
    expect(
      up
        .modelRequests()
        .slice(before)
        .filter((r) => JSON.stringify(r.body?.messages ?? []).includes('two.txt')),
    ).toEqual([]);

    // Space returns: the watch writes what was kept, the held request goes by itself, the turn completes.
    disk.free();
    e.disk.check();
    expect(e.health().disk).toMatchObject({ full: false, pendingWrites: 0, message: null });
    await waitFor(() => existsSync(join(s.worktree, 'two.txt')), 'the held turn to write its file', 120_000);
    expect(readFileSync(join(s.worktree, 'two.txt'), 'utf8')).toBe('second');
    await waitFor(() => e.registry.sessionInfo(s.id).status === 'idle', 'the session back at its prompt', 60_000);

    // Every request the stand-in answered has its ledger row, closed; the session was never interrupted.
    await waitFor(() => e.ledger.sessionRows(s.id).every((r) => r.state !== 'open'), 'every ledger row closed');
    const rows = e.ledger.sessionRows(s.id);
    expect(rows.length).toBe(up.modelRequests().length);
    expect(rows.every((r) => r.state === 'exact')).toBe(true);
    const history = e.store.statusHistory(s.id).map((h) => h.status);
    expect(history).toContain('held');
    expect(history).not.toContain('interrupted');
    expect(events.some((ev) => ev.event === 'health' && !ev.health.disk.full)).toBe(true);
    await e.call('stopRun', { runId: run.id });
  }, 300_000);
});
