// `flotilla demo` end to end: the simulated K2 provider, the demo agent through the real metering proxy, real edits in
// a scratch repository's worktrees, a question answered through the pty, a conflict between slots 1 and 2.
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Engine } from '../../electron/engine/engine.ts';
import { demoJob } from '../../electron/engine/demo/index.ts';
import type { SessionInfo } from '../../electron/shared/contract.ts';
import { tempDir } from '../fixtures/repo.ts';
import { waitFor } from '../fixtures/wait.ts';

const engines: Engine[] = [];
afterEach(async () => {
  for (const e of engines.splice(0)) await e.close();
});

describe('demo', () => {
  it('runs demo agents against the simulated K2 through the meter: edits, spend, a question, a conflict', async () => {
    const engine = await Engine.create({ dataDir: tempDir('flotilla-demo-'), env: { ...process.env, FLOTILLA_DEMO_FAST: '1' } });
    engines.push(engine);
    const { run, sessions } = await engine.call('demo', { count: 4 });
    expect(run.name).toBe('demo');
    expect(run.model).toBe('kimi-k2.6');
    expect(run.workspace).toBe('worktree');
    expect(run.repo.startsWith(join(engine.dataDir, 'demo'))).toBe(true);
    expect(sessions).toHaveLength(4);
    expect(sessions.map((s) => s.task)).toEqual([1, 2, 3, 4].map((slot) => demoJob(slot).task));

    const current = () => engine.registry.listSessions(run.id);
    const bySlot = (slot: number) => current().find((s) => s.slot === slot)!;

    // Live: files written in the worktrees and spend rising, while the agents still run.
    await waitFor(
      () => sessions.some((s) => existsSync(join(s.worktree, demoJob(s.slot).write.path))) && (engine.meter.runSpend(run.id)?.usd ?? 0) > 0,
      'a written file and spend > 0',
      30_000,
    );

    // Slot 2 asks before its refactor: the screen heuristic shows it as needs_you; any key answers.
    const asking = await waitFor(() => current().find((s) => s.status === 'needs_you'), 'a session that needs you', 30_000);
    expect(demoJob(asking.slot).ask).toBe(true);
    const screen = await engine.call('snapshot', { sessionId: asking.id });
    expect(screen.data).toContain('Proceed with the refactor? [y/n]');
    expect(screen.data).toContain('[simulated K2]');
    engine.scheduler.input(asking.id, 'y\r');

    await Promise.race([
      engine.waitForRun(run.id),
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error(`run did not end: ${JSON.stringify(current().map((s) => s.status))}`)), 40_000),
      ),
    ]);
    const final: SessionInfo[] = current();
    expect(final.map((s) => [s.slot, s.status, s.exitCode])).toEqual([1, 2, 3, 4].map((slot) => [slot, 'done', 0]));

    // Real edits: slots 1 and 2 changed the same line of src/config.ts differently.
    expect(readFileSync(join(bySlot(1).worktree, 'src/config.ts'), 'utf8')).toContain('maxRetries: 5,');
    expect(readFileSync(join(bySlot(2).worktree, 'src/config.ts'), 'utf8')).toContain('maxRetries: 10,');
    expect(readFileSync(join(bySlot(3).worktree, 'src/api.ts'), 'utf8')).toContain('validateOrder(body)');

    const report = await engine.call('report', { runId: run.id });
    for (const s of report.sessions) {
      const job = demoJob(s.slot);
      const expected = [job.edit?.path, job.write.path].filter((p): p is string => !!p).sort();
      expect([...s.changedFiles].sort()).toEqual(expected);
      expect(s.spend.usd).toBeGreaterThan(0);
    }
    const s1 = bySlot(1).id;
    const s2 = bySlot(2).id;
    const config = report.conflicts.filter((c) => c.path === 'src/config.ts');
    expect(config.some((c) => c.kind === 'conflict' && c.sessions.includes(s1) && c.sessions.includes(s2))).toBe(true);
    // Nobody else collides.
    for (const c of report.conflicts) expect(c.path).toBe('src/config.ts');

    const diff = await engine.call('diff', { sessionId: s2, path: 'src/config.ts' });
    expect(diff.diff).toContain('-  maxRetries: 3,');
    expect(diff.diff).toContain('+  maxRetries: 10,');

    // The ledger: one exact row per model request (read, edit, [question], write, summary), priced at K2.6's rates.
    const rows = engine.ledger.rows(run.id);
    for (const s of final) {
      const job = demoJob(s.slot);
      const mine = rows.filter((r) => r.sessionId === s.id);
      expect(mine).toHaveLength(3 + (job.edit ? 1 : 0) + (job.ask ? 1 : 0));
      mine.forEach((r, i) => {
        expect(r.state).toBe('exact');
        expect(r.httpStatus).toBe(200);
        expect(r.model).toBe('kimi-k2.6');
        expect(r.priced).toBe(true);
        expect(r.inputTokens).toBeGreaterThan(0);
        expect(r.outputTokens).toBeGreaterThan(0);
        if (i > 0) expect(r.cacheReadTokens).toBeGreaterThan(0);
        const usd = (r.inputTokens * 0.95 + r.cacheReadTokens * 0.16 + r.cacheWriteTokens * 0.95 + r.outputTokens * 4.0) / 1e6;
        expect(r.usd).toBeCloseTo(usd, 9);
      });
      const prompts = mine.map((r) => r.inputTokens + r.cacheReadTokens);
      for (let i = 1; i < prompts.length; i++) expect(prompts[i]).toBeGreaterThan(prompts[i - 1]!);
    }
    const total = rows.reduce((a, r) => a + r.usd, 0);
    expect(report.totals.requests).toBe(rows.length);
    expect(report.totals.usd).toBeCloseTo(total, 9);
    expect((await engine.call('spend', { runId: run.id })).run!.usd).toBeCloseTo(total, 9);
  }, 90_000);
});
