// The Settings panel and notifications in a real (headless) Chromium against the real engine: a provider key saved from
// the panel is reported as set (data dir) and its value never reaches the page; a price override persists and is reset;
// a session that asks a question raises a "needs you" notice.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import type { Engine } from '../../electron/engine/engine.ts';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeRepo } from '../fixtures/repo.ts';
import {
  ensureUiBuilt,
  focusedTerminal,
  launchBrowser,
  launchFromUi,
  openDashboard,
  screenshot,
  startEngine,
  type Dashboard,
} from './fixtures.ts';

let browser: Browser;
const engines: Engine[] = [];
const dashboards: Dashboard[] = [];

beforeAll(async () => {
  ensureUiBuilt();
  browser = await launchBrowser();
}, 240_000);

afterAll(async () => {
  for (const d of dashboards.splice(0)) await d.close().catch(() => {});
  await browser?.close();
  for (const e of engines.splice(0)) await e.close();
});

afterEach(async (ctx) => {
  if (ctx.task.result?.state !== 'fail') return;
  for (const [i, d] of dashboards.entries()) {
    await screenshot(d.page, `FAILED-settings-${ctx.task.name}-${i}`).catch(() => {});
    if (d.errors.length) console.log(`page ${i} errors:\n${d.errors.join('\n')}`);
  }
});

const SECRET = 'sk-settings-e2e-0123456789abcdef';

describe('settings panel', () => {
  it('saves a key without showing it, persists a price override and resets it', async () => {
    const engine = await startEngine();
    engines.push(engine);
    const dash = await openDashboard(browser, engine);
    dashboards.push(dash);
    const { page } = dash;

    await page.getByTestId('panel-button-settings').click();
    const panel = page.getByTestId('panel-settings');
    await panel.waitFor({ state: 'visible', timeout: 10_000 });

    // Provider key: not set → saved → "set (data dir)"; the value is nowhere in the page.
    const state = panel.getByTestId('settings-key-state-MOONSHOT_API_KEY');
    await expect.poll(async () => (await state.textContent()) ?? '', { timeout: 10_000 }).toMatch(/not set/);
    await panel.getByTestId('settings-key-input-MOONSHOT_API_KEY').fill(SECRET);
    await panel.getByTestId('settings-key-save-MOONSHOT_API_KEY').click();
    await expect.poll(async () => (await state.textContent()) ?? '', { timeout: 10_000 }).toBe('set (data dir)');
    expect(await page.content()).not.toContain(SECRET);
    expect(await panel.getByTestId('settings-key-input-MOONSHOT_API_KEY').inputValue()).toBe('');
    expect(engine.settings.view().keys).toContainEqual({ name: 'MOONSHOT_API_KEY', source: 'data dir' });
    await screenshot(page, 'settings-1-key-saved');

    // Price override: kimi-k2.6 input at $1.23 per million.
    const shipped = engine.settings.view().shipped.find((p) => p.model === 'kimi-k2.6')!;
    expect(shipped).toBeTruthy();
    const input = () => page.getByTestId('settings-price-kimi-k2.6-inputUsd');
    expect(await input().getAttribute('placeholder')).toBe(String(shipped.inputUsd));
    await input().fill('1.23');
    await panel.getByTestId('settings-save-prices').click();
    await expect.poll(async () => (await panel.getByTestId('settings-result').textContent()) ?? '', { timeout: 10_000 }).toMatch(/saved/i);
    const view = engine.settings.view();
    expect(view.prices.find((p) => p.model === 'kimi-k2.6')!.inputUsd).toBe(1.23);
    expect(Object.keys(view.settings.prices ?? {})).toEqual(['kimi-k2.6']);

    // Close and reopen the panel: the value is read back from the engine.
    await page.getByTestId('panel-button-settings').click();
    await panel.waitFor({ state: 'hidden', timeout: 5_000 });
    await page.getByTestId('panel-button-settings').click();
    await expect.poll(() => input().inputValue(), { timeout: 10_000 }).toBe('1.23');
    await screenshot(page, 'settings-2-price-saved');

    // Reset to shipped: no overrides, the input empty again with the shipped placeholder.
    await page.getByTestId('settings-reset-prices').click();
    await expect.poll(() => input().inputValue(), { timeout: 10_000 }).toBe('');
    expect(engine.settings.view().settings.prices).toBeUndefined();
    expect(engine.settings.view().prices.find((p) => p.model === 'kimi-k2.6')!.inputUsd).toBe(shipped.inputUsd);
    expect(await page.content()).not.toContain(SECRET);

    // Keep sandbox containers (a default for new runs): saved, and read back when the panel opens again.
    const keep = panel.getByTestId('settings-keep-containers');
    expect(await keep.isChecked()).toBe(false);
    await keep.check();
    await panel.getByTestId('settings-save-defaults').click();
    await expect.poll(() => engine.settings.view().settings.keepContainers, { timeout: 10_000 }).toBe(true);
    await page.getByTestId('panel-button-settings').click();
    await panel.waitFor({ state: 'hidden', timeout: 5_000 });
    await page.getByTestId('panel-button-settings').click();
    await expect.poll(() => panel.getByTestId('settings-keep-containers').isChecked(), { timeout: 10_000 }).toBe(true);
    expect(dash.errors).toEqual([]);
  }, 60_000);

  it('a "needs you" notice only for a tile out of sight; clicking it shows that run and focuses the tile', async () => {
    const engine = await startEngine();
    engines.push(engine);
    const dash = await openDashboard(browser, engine);
    dashboards.push(dash);
    const { page } = dash;
    const repo = makeRepo();
    // Asks once the file 'go' exists (the test creates it when the asker's run is no longer on screen).
    const asker =
      "const fs = require('fs'); const t = setInterval(() => { if (fs.existsSync('go')) { clearInterval(t); process.stdout.write('Proceed? [y/n] '); process.stdin.once('data', () => process.exit(0)); } }, 50);";
    const ask = (name: string) => `
name: ${name}
repo: ${repo}
agent: { preset: shell, command: node, args: ["-e", ${JSON.stringify(asker)}] }
provider: { preset: custom, baseUrl: "http://127.0.0.1:9" }
`;
    // A tile on screen in a focused window asks: its tile says so, no notice.
    await launchFromUi(page, ask('e2e visible'));
    await page.getByTestId('tile-1').waitFor({ state: 'visible', timeout: 30_000 });
    const visible = engine.registry.listSessions()[0]!;
    writeFileSync(join(visible.worktree, 'go'), '');
    await expect.poll(() => engine.registry.sessionInfo(visible.id).status, { timeout: 30_000 }).toBe('needs_you');
    await expect.poll(() => page.getByTestId('tile-1').getAttribute('data-status'), { timeout: 10_000 }).toBe('needs_you');
    expect(await page.getByTestId('notice').count()).toBe(0);

    // A run that is not on screen (another was launched after it) asks: a notice.
    const hidden = await engine.call('launch', { templateText: ask('e2e hidden') });
    await launchFromUi(page, ask('e2e shown'));
    await expect
      .poll(() => page.getByTestId('run-picker').locator('option:checked').textContent(), { timeout: 15_000 })
      .toContain('e2e shown');
    writeFileSync(join(hidden.sessions[0]!.worktree, 'go'), '');
    const notice = page.getByTestId('notice').filter({ hasText: /needs you/i });
    await notice.first().waitFor({ state: 'visible', timeout: 30_000 });
    await screenshot(page, 'settings-3-notice');

    // Clicking it shows that run and focuses the tile; the notice goes.
    await notice.first().click();
    await expect.poll(() => notice.count(), { timeout: 5_000 }).toBe(0);
    await expect.poll(() => page.getByTestId('run-picker').inputValue(), { timeout: 5_000 }).toBe(hidden.run.id);
    await expect.poll(() => focusedTerminal(page), { timeout: 5_000 }).toBe('terminal-1');
    expect(dash.errors).toEqual([]);
  }, 90_000);
});
