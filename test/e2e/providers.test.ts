// A run of several providers in a real Chromium: the tile names the provider serving its session and shows live output
// tokens/s that move while a slow stand-in streams; the Spend panel's per-provider table says who served what, with
// the requests the first provider passed on.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeRepo } from '../fixtures/repo.ts';
import { type Upstream, startUpstream } from '../upstream/index.ts';
import { KEY, KEY_VAR, launchFromUi, screenshot, useE2E } from './fixtures.ts';

const e2e = useE2E('providers');
let slow: Upstream;
let down: http.Server;
let downUrl = '';
beforeAll(async () => {
  slow = await startUpstream({ apiKey: KEY, chunkDelayMs: 12 });
  // The first provider: overloaded on every request.
  down = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }));
    });
  });
  await new Promise<void>((r) => down.listen(0, '127.0.0.1', r));
  downUrl = `http://127.0.0.1:${(down.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await slow?.close();
  await new Promise<void>((r) => (down ? down.close(() => r()) : r()));
});

// One long streaming answer (it declares a tool, as a coding agent does), read to the end.
const AGENT = [
  'const base = process.env.ANTHROPIC_BASE_URL, key = process.env.ANTHROPIC_AUTH_TOKEN;',
  "const tools = [{ name: 'Write', description: 'write a file', input_schema: { type: 'object', properties: { file_path: { type: 'string' }, content: { type: 'string' } } } }];",
  '(async () => {',
  "  const r = await fetch(base + '/v1/messages', { method: 'POST', headers: { authorization: 'Bearer ' + key, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },",
  "    body: JSON.stringify({ model: 'kimi-k2.6', max_tokens: 8192, stream: true, tools, messages: [{ role: 'user', content: 'LONG 2500' }] }) });",
  '  const text = await r.text();',
  "  console.log('answer ' + r.status + (text.includes('message_stop') ? ' complete' : ' cut'));",
  '  process.exit(r.ok ? 0 : 1);',
  '})().catch((e) => { console.log(String(e)); process.exit(1); });',
].join('\n');

describe('providers in the cockpit', () => {
  it('the tile names its provider and its live tokens/s move while the answer streams; the Spend panel has a row per provider', async () => {
    const engine = await e2e.engine();
    const { page } = await e2e.dashboard(engine);
    await launchFromUi(
      page,
      `
name: e2e providers
repo: ${makeRepo()}
agent: { preset: shell, command: node, args: ["-e", ${JSON.stringify(AGENT)}] }
providers:
  - { preset: custom, name: down-host, baseUrl: "${downUrl}", apiKeyEnv: ${KEY_VAR} }
  - { preset: custom, name: slow-host, baseUrl: "${slow.url}", apiKeyEnv: ${KEY_VAR} }
model: kimi-k2.6
`,
    );
    await expect.poll(() => page.getByTestId('tile-provider-1').textContent(), { timeout: 30_000 }).toBe('slow-host');
    const rate = async () => {
      const text = (await page.getByTestId('tile-rate-1').textContent()) ?? '';
      const m = /^(\d+) t\/s$/.exec(text.trim());
      return m ? Number(m[1]) : null;
    };
    const seen = new Set<number>();
    await expect
      .poll(
        async () => {
          const r = await rate();
          if (r !== null) seen.add(r);
          return seen.size;
        },
        { timeout: 30_000, interval: 100 },
      )
      .toBeGreaterThanOrEqual(2);
    await screenshot(page, 'providers-1-streaming');
    await expect.poll(() => page.getByTestId('tile-1').getAttribute('data-status'), { timeout: 60_000 }).toBe('done');

    await page.getByTestId('panel-button-spend').click();
    const table = page.getByTestId('providers-table');
    await table.waitFor({ state: 'visible', timeout: 10_000 });
    const cells = async (name: string) => page.getByTestId(`provider-row-${name}`).locator('td').allTextContents();
    await expect.poll(async () => (await cells('slow-host'))[1]).toBe('1');
    const down = await cells('down-host');
    expect([down[1], down[5], down[6]]).toEqual(['0', '0', '1']);
    await screenshot(page, 'providers-2-spend-table');
  }, 120_000);
});
