// The cockpit's controls in a real Chromium against real sessions: keys an agent can receive reach it (focus mode
// included), app shortcuts are Ctrl+Shift, the command palette runs commands on the focused session, the tile menu stops
// and restarts real sessions, and the run picker brings back an earlier run with its last screens.
import { describe, expect, it } from 'vitest';
import { makeRepo } from '../fixtures/repo.ts';
import { focusedTerminal, launchFromUi, screenshot, terminalText, useE2E, waitForTerminal } from './fixtures.ts';

const e2e = useE2E('keys');

// cat -v in a pty (cooked mode): Esc and Ctrl+L show as ^[ and ^L, Ctrl+J ends the line and cat prints it back.
const catTemplate = (repo: string, name = 'e2e keys') => `
name: ${name}
repo: ${repo}
count: 3
agent: { preset: shell, command: sh, args: ["-c", "echo 'cat {{index}} ready'; exec cat -v"] }
provider: { preset: custom, baseUrl: "http://127.0.0.1:9" }
`;

const status = (page: import('playwright-core').Page, slot: number) => page.getByTestId(`tile-${slot}`).getAttribute('data-status');

describe('keys, palette, tile menu, runs', () => {
  it('agent keys reach the agent in focus mode; Ctrl+Shift+P runs "stop" on the focused session; Ctrl+Shift+N focuses', async () => {
    const engine = await e2e.engine();
    const { page } = await e2e.dashboard(engine);
    await launchFromUi(page, catTemplate(makeRepo()));
    for (const slot of [1, 2, 3]) await waitForTerminal(page, slot, `cat ${slot} ready`, 30_000);
    await screenshot(page, 'keys-1-grid');
    // Every button has an accessible name (its text or aria-label): icon buttons included.
    const unnamed = await page
      .locator('button')
      .evaluateAll((bs) => bs.filter((b) => !(b.getAttribute('aria-label') || b.textContent?.trim())).map((b) => b.outerHTML.slice(0, 80)));
    expect(unnamed).toEqual([]);

    // Focus mode on slot 1 by its shortcut.
    await page.getByTestId('tile-2').click();
    await page.keyboard.press('Control+Shift+Digit1');
    await expect.poll(() => focusedTerminal(page), { timeout: 5_000 }).toBe('terminal-1');
    await page.locator('.focus-layout').waitFor({ state: 'visible', timeout: 5_000 });

    await page.keyboard.type('a');
    await page.keyboard.press('Escape');
    await page.keyboard.type('b');
    await page.keyboard.press('Control+l');
    await page.keyboard.type('c');
    await page.keyboard.press('Control+j');
    // cat -v prints the line back: ESC and FF as ^[ and ^L.
    await waitForTerminal(page, 1, /a\^\[b\^Lc\n.*a\^\[b\^Lc/s, 10_000);
    expect(await page.locator('.focus-layout').count(), 'Esc left focus mode').toBe(1);
    expect(await focusedTerminal(page)).toBe('terminal-1');

    // The palette: stop the focused session by typing.
    await page.keyboard.press('Control+Shift+KeyP');
    const palette = page.getByTestId('palette');
    await palette.waitFor({ state: 'visible', timeout: 5_000 });
    await page.keyboard.type('stop');
    await expect.poll(() => palette.locator('.palette-item.active').getAttribute('data-testid')).toBe('palette-item-session.stop');
    await screenshot(page, 'keys-2-palette');
    await page.keyboard.press('Enter');
    await palette.waitFor({ state: 'hidden', timeout: 5_000 });
    await expect.poll(() => status(page, 1), { timeout: 15_000 }).toBe('stopped');
    expect(engine.registry.sessionInfo(engine.registry.listSessions()[0]!.id).status).toBe('stopped');

    // ? shows the shortcut sheet.
    await page.keyboard.press('Control+Shift+KeyP');
    await palette.waitFor({ state: 'visible', timeout: 5_000 });
    await page.getByTestId('palette-input').waitFor({ state: 'visible' });
    await page.keyboard.type('?');
    await expect.poll(() => page.getByTestId('shortcut-sheet').textContent()).toContain('Ctrl+Shift+J');
    await page.keyboard.press('Escape');
    await palette.waitFor({ state: 'hidden', timeout: 5_000 });

    await page.keyboard.press('Control+Shift+KeyG');
    await expect.poll(() => page.locator('.focus-layout').count()).toBe(0);
    await page.keyboard.press('Control+Shift+Digit2');
    await expect.poll(() => focusedTerminal(page), { timeout: 5_000 }).toBe('terminal-2');
    await page.keyboard.type('two');
    await page.keyboard.press('Enter');
    await waitForTerminal(page, 2, /two\n(.*\n)?two/s, 10_000);
  }, 120_000);

  it('the tile menu stops and restarts a real session; after a reload the run picker shows an earlier run and its last screens', async () => {
    const engine = await e2e.engine();
    const { page } = await e2e.dashboard(engine);
    await launchFromUi(page, catTemplate(makeRepo(), 'first run'));
    for (const slot of [1, 2, 3]) await waitForTerminal(page, slot, `cat ${slot} ready`, 30_000);
    await page.getByTestId('tile-3').click();
    await page.keyboard.type('remember me');
    await page.keyboard.press('Enter');
    await waitForTerminal(page, 3, /remember me\n(.*\n)?remember me/s);

    await page.getByTestId('tile-menu-2').click();
    await page.getByTestId('tile-menu-list-2').waitFor({ state: 'visible' });
    await screenshot(page, 'keys-3-tile-menu');
    await page.getByTestId('tile-menu-stop').click();
    await expect.poll(() => status(page, 2), { timeout: 15_000 }).toBe('stopped');
    await page.getByTestId('tile-menu-2').click();
    await page.getByTestId('tile-menu-restart').click();
    await expect.poll(() => status(page, 2), { timeout: 15_000 }).not.toBe('stopped');
    await waitForTerminal(page, 2, /cat 2 ready[\s\S]*cat 2 ready/, 15_000);

    // Pin slot 3 to the front, drag slot 2 onto slot 3's place: the order holds after a reload.
    const order = () => page.locator('.grid > .tile').evaluateAll((els) => els.map((e) => e.getAttribute('data-testid')));
    await page.getByTestId('tile-menu-3').click();
    await page.getByTestId('tile-menu-pin').click();
    await expect.poll(order).toEqual(['tile-3', 'tile-1', 'tile-2']);
    await page.getByTestId('tile-2').locator('.tile-head').dragTo(page.getByTestId('tile-1'));
    await expect.poll(order).toEqual(['tile-3', 'tile-2', 'tile-1']);
    await page.reload();
    await page.getByTestId('tile-1').waitFor({ state: 'visible', timeout: 20_000 });
    await expect.poll(order).toEqual(['tile-3', 'tile-2', 'tile-1']);

    // End the first run, start a second: the grid shows the second.
    const first = engine.registry.listRuns().find((r) => r.name === 'first run')!;
    await engine.call('stopRun', { runId: first.id });
    await launchFromUi(page, catTemplate(makeRepo(), 'second run'));
    await expect.poll(() => page.getByTestId('run-picker').inputValue(), { timeout: 15_000 }).not.toBe(first.id);

    await page.reload();
    await page.getByTestId('run-picker').waitFor({ state: 'visible', timeout: 20_000 });
    const options = await page.getByTestId('run-picker').locator('option').allTextContents();
    expect(options.some((o) => o.startsWith('first run · ended'))).toBe(true);
    await page.getByTestId('run-picker').selectOption(first.id);
    // Its tiles come back with their last screens (the session ended; nothing follows).
    await waitForTerminal(page, 3, 'remember me', 15_000);
    // Each tile restores its own screen when it comes into view: wait for tile 1's too (CI saw it a moment later).
    await waitForTerminal(page, 1, 'cat 1 ready', 15_000);
    expect(await terminalText(page, 1)).toContain('cat 1 ready');
    await page.getByTestId('panel-button-review').click();
    await page.getByTestId('panel-review').waitFor({ state: 'visible' });
    await screenshot(page, 'keys-4-earlier-run');
  }, 120_000);
});
