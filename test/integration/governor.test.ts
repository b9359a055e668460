// The rate governor with real Claude Code: six sessions against a stand-in account that answers 429 to anything beyond
// two requests in flight. With `provider.limits: { concurrency: 2 }` the meter keeps them to two — no 429 reaches
// anyone — and every session finishes; without it, the same run draws the provider's 429s (Claude Code retries them).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineEvent } from '../../electron/shared/contract.ts';
import { useEngines } from '../fixtures/engine.ts';
import { makeRepo } from '../fixtures/repo.ts';
import { startUpstream, type Upstream } from '../upstream/index.ts';

const KEY = 'sk-governor';
const env = useEngines({ key: KEY, keyEnv: 'GOV_KEY', upstream: false });
let up: Upstream;
beforeAll(async () => {
  up = await startUpstream({ apiKey: KEY, rateLimits: { concurrency: 2 } });
});
afterAll(() => up?.close());

// Each answer takes waitMs, so six sessions' requests overlap (1.5 s when the test needs them to: six Claude Code
// processes start staggered on a loaded 2-core machine, and 300 ms answers were once all served two at a time).
const template = (limits: string, waitMs = 300) => `
name: governed
repo: ${makeRepo()}
agent: { preset: claude-code-batch }
provider: { preset: custom, baseUrl: "${up.url}", style: anthropic, apiKeyEnv: GOV_KEY${limits} }
model: kimi-k2.6
tasks: ${JSON.stringify(Array.from({ length: 6 }, (_, i) => `WAIT ${waitMs}\nWRITE f${i + 1}.txt slot ${i + 1}`))}
`;

describe('rate governor', () => {
  it('six Claude Code sessions, concurrency 2: zero upstream 429s, all done; the tiles said they waited', async () => {
    const e = await env.engine();
    const waited = new Set<string>();
    e.on('event', (ev: EngineEvent) => {
      if (
        ev.event === 'session' &&
        ev.session.status === 'rate_limited' &&
        /waiting for rate limit on GOV_KEY/.test(ev.session.statusDetail ?? '')
      )
        waited.add(ev.session.id);
    });
    const before = up.rateRefused().concurrency;
    const { run } = await e.call('launch', { templateText: template(', limits: { concurrency: 2 }', 1500) });
    await e.waitForRun(run.id);
    const sessions = e.registry.listSessions(run.id);
    expect(sessions.map((s) => s.status)).toEqual(Array(6).fill('done'));
    expect(up.rateRefused().concurrency - before).toBe(0);
    expect(waited.size).toBeGreaterThan(0);
    const [key] = await e.call('governor', {});
    expect(key).toMatchObject({ key: 'GOV_KEY', limits: { concurrency: 2, rpm: null, tpm: null }, inFlight: 0, queued: 0 });
    expect(e.ledger.rows(run.id).every((r) => r.state === 'exact')).toBe(true);
  });

  it('without the limit the same run draws the provider’s 429s', async () => {
    const e = await env.engine();
    const notes: string[] = [];
    e.on('event', (ev: EngineEvent) => {
      if (ev.event === 'upstreamError' && ev.error.status === 429) notes.push(ev.error.note ?? '');
    });
    const before = up.rateRefused().concurrency;
    const { run } = await e.call('launch', { templateText: template('') });
    await e.waitForRun(run.id);
    const refused = up.rateRefused().concurrency - before;
    console.log(`[governor] without limits: ${refused} upstream 429s for 6 sessions`);
    expect(refused).toBeGreaterThan(0);
    expect(e.registry.listSessions(run.id).map((s) => s.status)).toEqual(Array(6).fill('done'));
    expect(e.ledger.rows(run.id).filter((r) => r.httpStatus === 429)).toHaveLength(refused);
    // Each 429 (retry-after: 1) pauses the key, even with no limits configured, and the session's error line says so.
    expect(notes).toHaveLength(refused);
    expect(notes.every((n) => /^Flotilla holds new requests on GOV_KEY for 1\.0 s/.test(n))).toBe(true);
  });
});
