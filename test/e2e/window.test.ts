// The model's window in the cockpit: ctx turns amber past 80 %; a request past 88 % is answered by Flotilla and the
// tile says "context full — compacting"; the agent's compaction shows in the Spend panel with its tokens before and
// after. The agent is a script that speaks Anthropic Messages as Claude Code does (and compacts on "prompt is too long").
import { describe, expect, it } from 'vitest';
import { makeRepo } from '../fixtures/repo.ts';
import type { Upstream } from '../upstream/index.ts';
import { KEY_VAR, launchFromUi, screenshot, useE2E } from './fixtures.ts';

const e2e = useE2E('window', { upstream: true });

// 1: a turn the stand-in reports at 236 000 input tokens (ctx 90 % → amber); 2: the next turn, answered here with
// "prompt is too long"; 3: the compaction request (it fits); 4: a turn after it. Waits for a line on stdin between them.
const AGENT = [
  'const base = process.env.ANTHROPIC_BASE_URL, key = process.env.ANTHROPIC_AUTH_TOKEN;',
  "const tools = [{ name: 'Write', description: 'write a file', input_schema: { type: 'object', properties: { file_path: { type: 'string' } } } }];",
  "const pad = 'context '.repeat(700);",
  'const ask = (content) => fetch(base + "/v1/messages", { method: "POST", headers: { authorization: "Bearer " + key, "content-type": "application/json", "anthropic-version": "2023-06-01" },',
  "  body: JSON.stringify({ model: 'kimi-k2.6', max_tokens: 256, stream: false, tools, messages: [{ role: 'user', content: pad }, { role: 'user', content }] }) }).then(async (r) => [r.status, await r.text()]);",
  'const line = () => new Promise((r) => process.stdin.once("data", r));',
  '(async () => {',
  "  console.log('turn1 ' + (await ask('USAGE 236000 0 0 10\\nSAY one'))[0]); await line();",
  "  const [st, text] = await ask('SAY two'); console.log('turn2 ' + st + ' ' + (JSON.parse(text).error?.message ?? '')); await line();",
  "  console.log('compaction ' + (await ask('CRITICAL: Respond with TEXT ONLY. Do NOT call any tools.'))[0]);",
  "  console.log('turn3 ' + (await ask('SAY three'))[0]);",
  '  await line();',
  '})();',
].join('\n');

describe('the window in the cockpit', () => {
  it('ctx turns amber at 80 %, the tile says compacting when Flotilla answers past 88 %, the Spend panel lists the compaction', async () => {
    const upstream: Upstream = e2e.upstream();
    const engine = await e2e.engine();
    const { page } = await e2e.dashboard(engine);
    await launchFromUi(
      page,
      `
name: e2e window
repo: ${makeRepo()}
agent: { preset: shell, command: node, args: ["-e", ${JSON.stringify(AGENT)}] }
provider: { preset: custom, baseUrl: "${upstream.url}", style: anthropic, apiKeyEnv: ${KEY_VAR} }
model: kimi-k2.6
`,
    );
    const session = () => engine.registry.listSessions()[0]!;
    await expect.poll(() => page.getByTestId('tile-ctx-1').textContent(), { timeout: 30_000 }).toMatch(/ctx (8\d|9\d)%/);
    expect(await page.getByTestId('tile-ctx-1').getAttribute('class')).toContain('ctx-warn');
    await engine.call('input', { sessionId: session().id, data: '\r' });
    await page.getByTestId('tile-compacting-1').waitFor({ state: 'visible', timeout: 30_000 });
    await expect
      .poll(async () => (await engine.call('snapshot', { sessionId: session().id })).data)
      .toMatch(/turn2 400 prompt is too long: \d+ tokens > 262144 maximum/);
    await screenshot(page, 'window-1-compacting');
    await engine.call('input', { sessionId: session().id, data: '\r' });
    await page.getByTestId('tile-compacting-1').waitFor({ state: 'hidden', timeout: 30_000 });
    await page.getByTestId('panel-button-spend').click();
    const row = page.getByTestId('spend-window-1');
    await expect.poll(() => row.textContent(), { timeout: 30_000 }).toMatch(/compacted .* · 236k → \d+(\.\d+)?k/);
    expect(await row.textContent()).toContain('1 answered before the upload');
    await screenshot(page, 'window-2-spend');
    await engine.call('input', { sessionId: session().id, data: '\r' });
  }, 120_000);
});
