// Fitting the model, as the dashboard shows it: against a strict Moonshot stand-in, a session whose request is refused
// shows *provider rejected* with the rule that fixes it and a curl line to resend it; through the moonshot profile the
// same request passes and the Spend panel counts the rewrite. The launch dialog offers the provider's models.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeRepo } from '../fixtures/repo.ts';
import { startUpstream, type Upstream } from '../upstream/index.ts';
import { KEY, KEY_VAR, launchFromUi, useE2E } from './fixtures.ts';

const e2e = useE2E('compat');
let strict: Upstream;
beforeAll(async () => {
  strict = await startUpstream({ apiKey: KEY, strict: 'moonshot' });
});
afterAll(() => strict?.close());

// Claude Code's shape for kimi-k2.7-code (thinking "adaptive"), once; then the agent waits, as an interactive one does.
const AGENT = [
  'const base = process.env.ANTHROPIC_BASE_URL, key = process.env.ANTHROPIC_AUTH_TOKEN;',
  "fetch(base + '/v1/messages', { method: 'POST', headers: { authorization: 'Bearer ' + key, 'content-type': 'application/json' },",
  "  body: JSON.stringify({ model: 'kimi-k2.7-code', max_tokens: 64, thinking: { type: 'adaptive' }, tools: [{ name: 'Write', input_schema: { type: 'object' } }], messages: [{ role: 'user', content: 'SAY hi' }] }) })",
  "  .then(async (r) => { console.log('answered ' + r.status + ' ' + (await r.text()).slice(0, 80)); setInterval(() => {}, 1000); });",
].join('\n');

const template = (name: string, compat: string) => `
name: ${name}
repo: ${makeRepo()}
agent: { preset: shell, command: node, args: ["-e", ${JSON.stringify(AGENT)}] }
provider: { preset: custom, baseUrl: "${strict.url}", style: anthropic, apiKeyEnv: ${KEY_VAR}, compat: ${compat} }
model: kimi-k2.7-code
`;

describe('compat in the dashboard', () => {
  it('a refused request: provider rejected, the fixing rule, copy as curl; through the profile: counted', async () => {
    const engine = await e2e.engine();
    const { page } = await e2e.dashboard(engine);

    await launchFromUi(page, template('refused', 'none'));
    await expect
      .poll(async () => (await page.getByTestId('tile-status-1').textContent()) ?? '', {
        timeout: 30_000,
        message: 'tile 1 says provider rejected',
      })
      .toMatch(/provider rejected/i);
    await page.getByTestId('panel-button-spend').click();
    const panel = page.getByTestId('panel-spend');
    await expect
      .poll(async () => (await panel.getByTestId('spend-error-fix-1').textContent()) ?? '', { timeout: 15_000 })
      .toMatch(/thinking-enabled/);
    await panel.getByTestId('spend-curl-1').click();
    const curl = panel.getByTestId('spend-curl-text-1');
    await curl.waitFor({ state: 'visible', timeout: 10_000 });
    const text = await curl.inputValue();
    expect(text).toMatch(/^curl -sS -X POST '.*\/v1\/messages/);
    expect(text).toContain(`$${KEY_VAR}`);
    expect(text).not.toContain(KEY);

    await launchFromUi(page, template('fitted', 'moonshot'));
    await expect
      .poll(async () => (await page.getByTestId('spend-compat-1').textContent()) ?? '', { timeout: 30_000 })
      .toMatch(/thinking-enabled ×1/);
    expect(await page.getByTestId('tile-status-1').textContent()).not.toMatch(/rejected/i);
  });

  it('the launch dialog offers the shipped models (no key set), retired ones left out', async () => {
    const engine = await e2e.engine();
    const { page } = await e2e.dashboard(engine);
    await page.getByTestId('launch-button').click();
    const dialog = page.getByTestId('launch-dialog');
    await expect
      .poll(async () => (await dialog.getByTestId('launch-models-source').textContent()) ?? '', { timeout: 10_000 })
      .toMatch(/MOONSHOT_API_KEY is not set/);
    const options = await dialog.locator('#launch-models option').evaluateAll((els) => els.map((e) => (e as HTMLOptionElement).value));
    expect(options).toEqual(expect.arrayContaining(['kimi-k2.6', 'kimi-k2.7-code', 'kimi-k3', 'kimi-k3.1-pro']));
    expect(options).not.toContain('kimi-k2-0905-preview');
  });
});
