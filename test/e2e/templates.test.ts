// The launch dialog's template library in a real (headless) Chromium against the real engine: save the YAML as a
// template, reopen the dialog, pick it, launch from it.
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Engine } from '../../electron/engine/engine.ts';
import { makeRepo } from '../fixtures/repo.ts';
import { screenshot, waitForTerminal, type Dashboard, useE2E } from './fixtures.ts';

const e2e = useE2E('templates');
let engine: Engine;
let dash: Dashboard;
beforeAll(async () => {
  engine = await e2e.engine();
  dash = await e2e.dashboard(engine);
});

const AGENT = "console.log('slot ' + process.argv[1] + ' from saved template'); setInterval(() => {}, 1000)";
const template = (repo: string) => `name: e2e saved
repo: ${repo}
count: 2
agent: { preset: shell, command: node, args: ["-e", ${JSON.stringify(AGENT)}, "{{index}}"] }
provider: { preset: custom, baseUrl: "http://127.0.0.1:9" }
`;

describe('launch dialog: templates', () => {
  it('refuses to save an invalid template, naming the line', async () => {
    const { page } = dash;
    await page.getByTestId('launch-button').click();
    const dialog = page.getByTestId('launch-dialog');
    await dialog.waitFor({ state: 'visible', timeout: 10_000 });
    await dialog.getByTestId('launch-yaml').fill('name: broken\ncount: lots\n');
    await dialog.getByTestId('launch-save-name').fill('broken one');
    await dialog.getByTestId('launch-save').click();
    const result = dialog.getByTestId('launch-save-result');
    await expect.poll(async () => (await result.textContent()) ?? '', { timeout: 10_000 }).toMatch(/broken-one\.yaml:2: count/);
    expect(await result.getAttribute('data-ok')).toBe('false');
    expect(existsSync(join(engine.dataDir, 'templates', 'broken-one.yaml'))).toBe(false);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden', timeout: 10_000 });
  });

  it('saves a template from the dialog, then picks it in a reopened dialog and launches it', async () => {
    const { page } = dash;
    const repo = makeRepo();
    await page.getByTestId('launch-button').click();
    let dialog = page.getByTestId('launch-dialog');
    await dialog.waitFor({ state: 'visible', timeout: 10_000 });
    await dialog.getByTestId('launch-yaml').fill(template(repo));
    await dialog.getByTestId('launch-save-name').fill('E2E Saved');
    await dialog.getByTestId('launch-save').click();
    const file = join(engine.dataDir, 'templates', 'e2e-saved.yaml');
    const result = dialog.getByTestId('launch-save-result');
    await expect.poll(async () => (await result.textContent()) ?? '', { timeout: 10_000 }).toContain(file);
    expect(await result.getAttribute('data-ok')).toBe('true');
    // Saved with the editor's schema line first (the schema is written beside the templates folder).
    expect(readFileSync(file, 'utf8')).toBe(`# yaml-language-server: $schema=../template.schema.json\n${template(repo)}`);
    await screenshot(page, 'templates-1-saved');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden', timeout: 10_000 });

    // Reopened, the editor holds the sample again until the template is picked.
    await page.getByTestId('launch-button').click();
    dialog = page.getByTestId('launch-dialog');
    await dialog.waitFor({ state: 'visible', timeout: 10_000 });
    expect(await dialog.getByTestId('launch-yaml').inputValue()).not.toContain('e2e saved');
    const select = dialog.getByTestId('launch-template-select');
    await expect.poll(() => select.locator('option', { hasText: 'e2e saved' }).count(), { timeout: 10_000 }).toBe(1);
    await select.selectOption({ label: 'e2e saved' });
    await expect
      .poll(() => dialog.getByTestId('launch-yaml').inputValue(), { timeout: 10_000 })
      .toBe(`# yaml-language-server: $schema=../template.schema.json\n${template(repo)}`);
    await dialog.getByTestId('launch-submit').click();
    await dialog.waitFor({ state: 'hidden', timeout: 30_000 });

    for (const slot of [1, 2]) await waitForTerminal(page, slot, `slot ${slot} from saved template`, 30_000);
    const runs = engine.registry.listRuns();
    expect(runs.map((r) => r.name)).toContain('e2e saved');
    // However many tiles are up, WebGL contexts stay within the lease (0 where the browser has no WebGL).
    const contexts = await page.evaluate(() => window.__flotilla!.webglContexts());
    expect(contexts).toBeLessThanOrEqual(12);
    console.log(`WebGL contexts in use: ${contexts}`);
    await screenshot(page, 'templates-2-launched');
  });
});
