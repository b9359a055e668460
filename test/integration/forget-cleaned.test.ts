// An ended run, once cleaned, leaves nothing of its own in the engine's memory (bench/soak found ~2 MB kept per run of
// ten): registry, meter, proxy routes, review watchers and the pty host no longer hold its ids, while everything about
// it is still answered from the store — its sessions, its ledger, its last screens.
import { describe, expect, it } from 'vitest';
import { useEngines } from '../fixtures/engine.ts';
import { makeRepo } from '../fixtures/repo.ts';

const KEY = 'sk-forget';
const env = useEngines({ key: KEY, keyEnv: 'FORGET_KEY' });

describe('a cleaned run', () => {
  it('leaves nothing of its own in the engine, and is still read from the store', async () => {
    const e = await env.engine();
    const { run } = await e.call('launch', {
      templateText: `
name: forget me
repo: ${makeRepo()}
agent: { preset: claude-code-batch }
provider: { preset: custom, baseUrl: "${env.upstream().anthropicBaseUrl}", apiKeyEnv: FORGET_KEY }
model: kimi-k2.6
tasks: ${JSON.stringify(['WRITE a.txt one\nSAY first-done', 'WRITE b.txt two\nSAY second-done'])}
`,
    });
    await e.waitForRun(run.id);
    const sessions = e.registry.listSessions(run.id);
    expect(sessions.map((s) => s.status)).toEqual(['done', 'done']);
    const ids = [run.id, ...sessions.map((s) => s.id)];
    // While it is live (ended, not cleaned), the parts hold it: the check below can fail.
    expect(ids.flatMap((id) => e.holding(id))).toEqual(expect.arrayContaining(['registry', 'meter', 'proxy', 'review']));
    const rows = e.ledger.rows(run.id).length;
    expect(rows).toBeGreaterThanOrEqual(2);

    await e.call('cleanRun', { runId: run.id });
    for (const id of ids) expect(e.holding(id), id).toEqual([]);

    // Still there, from the store.
    expect((await e.call('listRuns', {})).map((r) => r.id)).toContain(run.id);
    expect((await e.call('listSessions', { runId: run.id })).map((s) => s.status)).toEqual(['done', 'done']);
    expect(await e.call('ledger', { runId: run.id })).toHaveLength(rows);
    expect((await e.call('snapshot', { sessionId: sessions[0]!.id })).data.length).toBeGreaterThan(0);
    expect((await e.call('report', { runId: run.id })).sessions).toHaveLength(2);
    // A second clean finds nothing to do and nothing to forget.
    await e.call('cleanRun', { runId: run.id });
  }, 240_000);
});
