// The Spend panel in a real (headless) Chromium against the real engine: a session runs out of budget and its next
// request is held (the tile and the panel say so, with Raise and Decline), Raise budget lets that very request go on
// and the session finish, Decline gives the agent the budget error; the ledger CSV sums to the header's total.
import { beforeAll, describe, expect, it } from 'vitest';
import { makeRepo } from '../fixtures/repo.ts';
import type { Upstream } from '../upstream/index.ts';
import { KEY_VAR, dollars, launchFromUi, screenshot, useE2E } from './fixtures.ts';

const e2e = useE2E('spend', { upstream: true });
let upstream: Upstream;
beforeAll(() => {
  upstream = e2e.upstream();
});

// An Anthropic-style agent: 3 streaming main requests (they declare a tool); a 429 is retried after `retry-after`
// seconds, a 402 ends it, like a real agent. Exits 0 only if all three succeeded.
const AGENT = [
  'const base = process.env.ANTHROPIC_BASE_URL, key = process.env.ANTHROPIC_AUTH_TOKEN;',
  "const tools = [{ name: 'Write', description: 'write a file', input_schema: { type: 'object', properties: { file_path: { type: 'string' }, content: { type: 'string' } } } }];",
  'const sleep = (ms) => new Promise((r) => setTimeout(r, ms));',
  '(async () => {',
  '  let ok = 0;',
  '  for (let i = 1; i <= 3; i++) {',
  '    for (let attempt = 1; attempt <= 60; attempt++) {',
  "      const r = await fetch(base + '/v1/messages', { method: 'POST', headers: { authorization: 'Bearer ' + key, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },",
  "        body: JSON.stringify({ model: 'kimi-k2.6', max_tokens: 1024, stream: true, tools, messages: [{ role: 'user', content: 'USAGE 10000 0 0 10\\nSAY hi' }] }) });",
  '      const text = await r.text();',
  "      console.log('request ' + i + ' attempt ' + attempt + ' ' + r.status + (r.ok && text.includes('message_stop') ? ' complete' : ''));",
  "      if (r.status === 429) { await sleep(Number(r.headers.get('retry-after') || '1') * 1000); continue; }",
  // A budget error ends the agent, as Claude Code -p does.
  "      if (r.status === 402) { console.log('budget: ' + text); process.exit(1); }",
  "      if (r.ok && text.includes('message_stop')) ok++;",
  '      break;',
  '    }',
  '  }',
  "  console.log(ok + ' of 3 succeeded');",
  '  process.exit(ok === 3 ? 0 : 1);',
  '})().catch((e) => { console.log(String(e)); process.exit(1); });',
].join('\n');

/** One session of AGENT with a $0.01 budget: its first request fits, its second is held. */
const overBudgetRun = (name: string) => `
name: ${name}
repo: ${makeRepo()}
agent: { preset: shell, command: node, args: ["-e", ${JSON.stringify(AGENT)}] }
provider: { preset: custom, baseUrl: "${upstream.url}", style: anthropic, apiKeyEnv: ${KEY_VAR} }
model: kimi-k2.6
budget: { perSessionUsd: 0.01 }
`;

/** Sum of the usd column of a CSV (no quoted commas in this ledger's numeric columns). */
function sumUsd(csv: string): { sum: number; rows: number } {
  const lines = csv.split(/\r?\n/).filter((l) => l.length > 0);
  const head = lines[0]!.split(',');
  const col = head.indexOf('usd');
  expect(col, 'CSV has a usd column').toBeGreaterThanOrEqual(0);
  let sum = 0;
  for (const line of lines.slice(1)) {
    const cell = line.split(',')[col] ?? '';
    if (cell) sum += Number(cell);
  }
  return { sum, rows: lines.length - 1 };
}

describe('spend panel', () => {
  it('holds the request over budget; Raise budget lets the session finish; the CSV sums to the header total', async () => {
    const engine = await e2e.engine();
    const dash = await e2e.dashboard(engine);
    const { page } = dash;

    await launchFromUi(page, overBudgetRun('e2e spend panel'));
    await page.getByTestId('tile-1').waitFor({ state: 'visible', timeout: 30_000 });
    await page.getByTestId('panel-button-spend').click();
    const panel = page.getByTestId('panel-spend');
    await panel.waitFor({ state: 'visible', timeout: 10_000 });

    // The first request (~$0.0095, reserving ~$0.0041) goes through; the second cannot be covered and is held.
    await expect
      .poll(async () => (await page.getByTestId('tile-status-1').textContent()) ?? '', {
        timeout: 30_000,
        message: 'tile-status-1 says over budget',
      })
      .toMatch(/over[\s_-]*budget/i);
    await expect.poll(() => page.getByTestId('tile-held-1-raise').count(), { timeout: 10_000, message: 'the tile offers Raise' }).toBe(1);
    await expect
      .poll(
        async () =>
          (await panel.getByTestId('panel-held-1').count()) > 0 ? ((await panel.getByTestId('panel-held-1').textContent()) ?? '') : '',
        { timeout: 15_000 },
      )
      .toMatch(/Held since .*session budget of \$0\.0100 .*cannot cover the next request.*Nothing was sent/);
    await expect.poll(async () => (await panel.getByTestId('spend-row-1').textContent()) ?? '', { timeout: 10_000 }).toMatch(/over budget/);
    expect(await panel.getByTestId('spend-error-1').count()).toBe(0);
    await expect.poll(() => dollars(page, 'spend-total'), { timeout: 10_000 }).toBe(await dollars(page, 'header-spend'));
    await expect.poll(() => panel.getByTestId('spend-chart').count(), { timeout: 10_000 }).toBe(1);
    // The run picker shows the live run's spend as the header does (it showed the ledger's $0 until the run ended).
    const pickerUsd = async () => {
      const m = /\$\s*([\d,]*\.?\d+)/.exec((await page.getByTestId('run-picker').locator('option:checked').textContent()) ?? '');
      return m ? Number(m[1]!.replace(/,/g, '')) : Number.NaN;
    };
    await expect.poll(pickerUsd, { timeout: 10_000 }).toBe(await dollars(page, 'header-spend'));
    expect(await pickerUsd()).toBeGreaterThan(0);
    await screenshot(page, 'spend-1-over-budget');

    // Raise the session's budget to $1 inline: the held request goes on by itself and the agent exits 0.
    await panel.getByTestId('spend-raise-1').click();
    await panel.getByTestId('spend-raise-input-1').fill('1');
    await panel.getByTestId('spend-raise-ok-1').click();
    await expect
      .poll(() => engine.registry.listSessions()[0]?.status, { timeout: 30_000, message: 'engine: session done after the raise' })
      .toBe('done');
    await expect
      .poll(async () => (await page.getByTestId('tile-status-1').textContent()) ?? '', {
        timeout: 15_000,
        message: 'tile-status-1 says done',
      })
      .toMatch(/done/i);
    const runId = engine.registry.listSessions()[0]!.runId;
    await expect
      .poll(
        async () => {
          const r = (await engine.call('spend', { runId })).run!;
          return `${r.requests} requests, ${r.estimateUsd} est`;
        },
        { timeout: 10_000 },
      )
      .toBe('3 requests, 0 est');
    const settled = (await engine.call('spend', { runId })).run!;
    expect(settled.usd).toBeGreaterThan(0.02);

    // The header catches up with the engine's settled total (its runSpend event may still be on the way), then the
    // total row equals it.
    await expect.poll(async () => (await page.getByTestId('header-spend').textContent()) ?? '', { timeout: 10_000 }).not.toMatch(/est/);
    await expect
      .poll(() => dollars(page, 'header-spend'), { timeout: 15_000, message: 'the header shows the settled run total' })
      .toBeCloseTo(settled.usd, 2);
    const header = await dollars(page, 'header-spend');
    await expect.poll(() => dollars(page, 'spend-total'), { timeout: 10_000 }).toBe(header);
    await screenshot(page, 'spend-2-raised-done');

    // Export CSV: the link carries run and token; the same URL fetched from here sums to the header total.
    const href = await panel.getByTestId('spend-csv').getAttribute('href');
    expect(href).toBeTruthy();
    const url = new URL(href!, engine.uiUrl);
    expect(url.pathname).toBe('/api/ledger.csv');
    expect(url.searchParams.get('runId')).toBe(runId);
    expect(url.searchParams.get('token')).toBeTruthy();
    const res = await fetch(url);
    expect(res.status).toBe(200);
    const { sum, rows } = sumUsd(await res.text());
    expect(rows).toBe(3); // 3 billed, nothing refused: the held request was forwarded, not answered
    const decimals = /\.(\d+)/.exec((await page.getByTestId('header-spend').textContent()) ?? '')?.[1]?.length ?? 2;
    expect(sum.toFixed(decimals)).toBe(header.toFixed(decimals));
  }, 120_000);

  it('Raise budget… from the tile menu lets an over-budget session go on and finish', async () => {
    const engine = await e2e.engine();
    const { page } = await e2e.dashboard(engine);
    await launchFromUi(page, overBudgetRun('e2e menu raise'));
    await expect.poll(() => page.getByTestId('tile-1').getAttribute('data-status'), { timeout: 30_000 }).toBe('over_budget');
    await page.getByTestId('tile-menu-1').click();
    await page.getByTestId('tile-menu-raiseBudget').click();
    const dialog = page.getByTestId('dialog');
    await dialog.waitFor({ state: 'visible', timeout: 5_000 });
    await dialog.getByTestId('dialog-input').fill('1');
    await dialog.getByTestId('dialog-confirm').click();
    await expect.poll(() => engine.registry.listSessions()[0]?.status, { timeout: 30_000, message: 'done after the raise' }).toBe('done');
    await expect.poll(() => page.getByTestId('toast').textContent(), { timeout: 5_000 }).toMatch(/budget \$1\.00/);
  }, 90_000);

  it('Decline in the tile: the agent gets the budget error (402) and the panel shows it', async () => {
    const engine = await e2e.engine();
    const dash = await e2e.dashboard(engine);
    const { page } = dash;
    await launchFromUi(page, overBudgetRun('e2e decline'));
    await page.getByTestId('tile-held-1-decline').waitFor({ state: 'visible', timeout: 30_000 });
    await page.getByTestId('tile-held-1-decline').click();
    await expect
      .poll(() => engine.registry.listSessions()[0]?.status, { timeout: 30_000, message: 'engine: the agent exits on the 402' })
      .toBe('failed');
    await page.getByTestId('panel-button-spend').click();
    const err = page.getByTestId('panel-spend').getByTestId('spend-error-1');
    await expect
      .poll(async () => ((await err.count()) > 0 ? ((await err.textContent()) ?? '') : ''), { timeout: 15_000 })
      .toMatch(/budget · 402.*the raise was declined in Flotilla/);
    expect(await page.getByTestId('tile-held-1-decline').count()).toBe(0);
    const snap = await engine.call('snapshot', { sessionId: engine.registry.listSessions()[0]!.id });
    expect(snap.data).toMatch(/request 2 attempt 1 402/);
    await screenshot(page, 'spend-3-declined');
  }, 120_000);
});
