// What the dashboard keeps across a reload and a change of run: the spend chart is built from the run's ledger (one
// step per request, at the time it ended — not only what streamed since the page loaded), and the terminals of a run
// that is no longer shown are disposed.
import { beforeAll, describe, expect, it } from 'vitest';
import { makeRepo } from '../fixtures/repo.ts';
import type { Upstream } from '../upstream/index.ts';
import { KEY_VAR, useE2E } from './fixtures.ts';

const e2e = useE2E('history', { upstream: true });
let upstream: Upstream;
beforeAll(() => {
  upstream = e2e.upstream();
});

/** An agent that makes `n` model requests one after the other, then waits (a tile stays on screen). */
const agent = (n: number) =>
  [
    'const base = process.env.ANTHROPIC_BASE_URL, key = process.env.ANTHROPIC_AUTH_TOKEN;',
    '(async () => {',
    `  for (let i = 1; i <= ${n}; i++) {`,
    "    const r = await fetch(base + '/v1/messages', { method: 'POST', headers: { authorization: 'Bearer ' + key, 'content-type': 'application/json' },",
    "      body: JSON.stringify({ model: 'kimi-k2.6', max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'USAGE 2000 0 0 10\\nSAY hi' }] }) });",
    '    await r.text();',
    "    console.log('request ' + i + ' ' + r.status);",
    '  }',
    "  console.log('all requests done');",
    '  setInterval(() => {}, 1000);',
    '})();',
  ].join('\n');

const template = (name: string, n: number) => `
name: ${name}
repo: ${makeRepo()}
agent: { preset: shell, command: node, args: ["-e", ${JSON.stringify(agent(n))}] }
provider: { preset: custom, baseUrl: "${upstream.url}", style: anthropic, apiKeyEnv: ${KEY_VAR} }
model: kimi-k2.6
`;

describe('history and disposal', () => {
  it('the spend chart comes from the ledger, also after a reload; a run that leaves the view frees its terminals', async () => {
    const engine = await e2e.engine();
    // Three requests before any page is open: the chart can only know them from the ledger.
    const first = await engine.call('launch', { templateText: template('first', 3) });
    const s1 = first.sessions[0]!.id;
    await expect.poll(() => engine.ledger.rows(first.run.id).filter((r) => r.state === 'exact').length, { timeout: 30_000 }).toBe(3);

    const dash = await e2e.dashboard(engine);
    const { page } = dash;
    await page.getByTestId('tile-1').waitFor({ state: 'visible', timeout: 30_000 });
    await page.getByTestId('panel-button-spend').click();
    const line = page.getByTestId('spend-line-1');
    await expect.poll(() => line.getAttribute('data-points'), { timeout: 15_000, message: 'one chart step per request' }).toBe('3');
    await page.reload();
    await page.getByTestId('tile-1').waitFor({ state: 'visible', timeout: 30_000 });
    // The open panel is remembered across reloads.
    await page.getByTestId('panel-spend').waitFor({ state: 'visible', timeout: 15_000 });
    await expect.poll(() => page.getByTestId('spend-line-1').getAttribute('data-points'), { timeout: 15_000 }).toBe('3');

    // A second run becomes the one shown: the first run's terminal goes away with its tile.
    const terminals = () => page.evaluate(() => window.__flotilla?.terminals() ?? -1);
    expect(await terminals()).toBe(1);
    const second = await engine.call('launch', { templateText: template('second', 1) });
    await expect
      .poll(async () => page.locator(`[data-session-id="${second.sessions[0]!.id}"]`).count(), {
        timeout: 30_000,
        message: 'the second run is shown',
      })
      .toBe(1);
    expect(await page.locator(`[data-session-id="${s1}"]`).count()).toBe(0);
    await expect.poll(terminals, { timeout: 10_000, message: 'only the shown run keeps a terminal' }).toBe(1);
    await engine.call('stopRun', { runId: first.run.id });
    await engine.call('stopRun', { runId: second.run.id });
  });
});
