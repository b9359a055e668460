// Raising a budget: it works on a session that has not started yet, it is kept in the store, and it applies whenever
// the session (re)starts — a restart in this engine or a resume by a later one — never the template's old figure.
import { describe, expect, it } from 'vitest';
import { useEngines } from '../fixtures/engine.ts';
import { makeRepo, tempDir } from '../fixtures/repo.ts';
import { waitFor } from '../fixtures/wait.ts';

const env = useEngines({ key: 'sk-budgets', keyEnv: 'BUDGETS_KEY', upstream: false });

/** Two shell sessions, one at a time; each waits until it is stopped. Budget $1 per session. */
const template = (repo: string) => `
name: budgets
repo: ${repo}
count: 2
concurrency: 1
agent: { preset: shell, command: node, args: ["-e", "console.log('up'); setInterval(() => {}, 1000)"] }
provider: { preset: custom, baseUrl: "http://127.0.0.1:9" }
budget: { perSessionUsd: 1 }
`;

describe('raising a budget', () => {
  it('works on a queued session, and the raise applies when it starts', async () => {
    const e = await env.engine();
    const { run, sessions } = await e.call('launch', { templateText: template(makeRepo()) });
    const [first, queued] = sessions.map((s) => s.id) as [string, string];
    expect(e.registry.listSessions(run.id).find((s) => s.id === queued)?.status).toBe('queued');
    await e.call('raiseBudget', { sessionId: queued, usd: 5 });
    await e.call('stop', { sessionId: first });
    await waitFor(() => e.meter.sessionSpend(queued), 'the queued session to start and be metered');
    expect(e.meter.sessionSpend(queued)!.budgetUsd).toBe(5);
    expect(e.meter.sessionSpend(first)!.budgetUsd).toBe(1);
    await e.call('stopRun', { runId: run.id });
  });

  it('is kept: a restart and a resume by a later engine use the raised budget', async () => {
    const dataDir = tempDir('flotilla-budgets-');
    const e = await env.engine(dataDir);
    const { run, sessions } = await e.call('launch', { templateText: template(makeRepo()) });
    const id = sessions[0]!.id;
    await waitFor(() => e.meter.sessionSpend(id), 'the first session to be metered');
    await e.call('raiseBudget', { sessionId: id, usd: 7 });
    await e.call('restart', { sessionId: id });
    expect(e.meter.sessionSpend(id)!.budgetUsd).toBe(7);
    await e.call('stopRun', { runId: run.id });
    await e.close();
    env.forget(e);

    const later = await env.engine(dataDir);
    expect(later.meter.sessionSpend(id)).toBeNull();
    await later.call('resume', { sessionId: id });
    expect(later.meter.sessionSpend(id)!.budgetUsd).toBe(7);
    expect((await later.call('spend', { runId: run.id })).sessions.find((s) => s.sessionId === id)?.budgetUsd).toBe(7);
    await later.call('stop', { sessionId: id });
  });

  it("a run's raise is kept too, for a run of an earlier engine", async () => {
    const dataDir = tempDir('flotilla-budgets-');
    const e = await env.engine(dataDir);
    const { run, sessions } = await e.call('launch', { templateText: template(makeRepo()) });
    await e.call('stopRun', { runId: run.id });
    await e.close();
    env.forget(e);

    const later = await env.engine(dataDir);
    await later.call('raiseBudget', { runId: run.id, usd: 40 });
    await later.call('resume', { sessionId: sessions[0]!.id });
    expect(later.meter.runSpend(run.id)!.budgetUsd).toBe(40);
    expect(later.registry.runInfo(run.id).budget).toEqual({ perSessionUsd: 1, runUsd: 40 });
    await later.call('stop', { sessionId: sessions[0]!.id });
  });
});
