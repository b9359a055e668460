// How terminals draw and how quiet tiles are fed, in real Chromium against real ptys: `auto` picks the DOM renderer
// where WebGL is software (headless here: SwiftShader) and WebGL where a GPU draws it; switching to WebGL leases one
// context per visible tile, switching back frees every context at once (xterm 6's dispose alone leaves them to the
// garbage collector); background tiles, subscribed quiet, still show what their agents print, and the focused tile
// gets it live.
import { describe, expect, it } from 'vitest';
import { makeRepo } from '../fixtures/repo.ts';
import { terminalText, useE2E, waitForTerminal } from './fixtures.ts';

const e2e = useE2E('renderer');

describe('terminal renderer and quiet tiles', () => {
  it('auto matches the GL the page has; WebGL leases per tile; DOM frees every context; quiet tiles still show output', async () => {
    const engine = await e2e.engine();
    const repo = makeRepo();
    // Each agent prints a line every 300 ms (a trickle: background tiles batch it) and echoes what is typed.
    const script =
      "let i = 0; setInterval(() => console.log('tick ' + (i++)), 300); process.stdin.on('data', (d) => console.log('got ' + String(d).trim()));";
    await engine.call('launch', {
      templateText: `name: e2e renderer\nrepo: ${repo}\ncount: 3\nagent: { preset: shell, command: node, args: ["-e", ${JSON.stringify(script)}] }\nprovider: { preset: custom, baseUrl: "http://127.0.0.1:9" }\n`,
    });
    const { page } = await e2e.dashboard(engine);
    // Quiet (background) tiles: their trickle arrives, batched, and keeps arriving.
    for (const slot of [1, 2, 3]) await waitForTerminal(page, slot, /tick 2/, 30_000);
    for (const slot of [1, 2, 3]) await waitForTerminal(page, slot, /tick 6/, 30_000);

    const contexts = () => page.evaluate(() => window.__flotilla!.webglContexts());
    const freed = () => page.evaluate(() => window.__flotilla!.webglFreed());
    await page.getByTestId('panel-button-settings').click();
    const renderer = page.getByTestId('settings-renderer');
    await renderer.waitFor({ state: 'visible', timeout: 10_000 });
    const auto = (await renderer.locator('option[value="auto"]').textContent()) ?? '';
    // `auto` says what it picked, and the terminals do that.
    expect(auto).toMatch(/^auto: (DOM|WebGL)/);
    expect(await contexts()).toBe(auto.startsWith('auto: WebGL') ? 3 : 0);
    if (auto.startsWith('auto: DOM (software GL')) console.log(`renderer: ${auto}`);

    await renderer.selectOption('webgl');
    await page.getByTestId('settings-save-interface').click();
    await expect.poll(contexts, { timeout: 10_000, message: 'one WebGL context per visible tile' }).toBe(3);
    expect(engine.settings.current.ui?.terminalRenderer).toBe('webgl');
    // Still drawing: the text keeps coming (the buffer is the same whichever renderer draws it).
    const before = await terminalText(page, 2);
    await expect.poll(async () => (await terminalText(page, 2)).length, { timeout: 10_000 }).toBeGreaterThan(before.length);

    const freedBefore = await freed();
    await renderer.selectOption('dom');
    await page.getByTestId('settings-save-interface').click();
    await expect.poll(contexts, { timeout: 10_000 }).toBe(0);
    expect((await freed()) - freedBefore, 'every released context is lost (freed) at once').toBe(3);
    // The DOM renderer puts the text in the page's rows.
    await expect.poll(() => page.getByTestId('terminal-1').locator('.xterm-rows').textContent(), { timeout: 10_000 }).toMatch(/tick \d+/);

    // The focused tile is live: what is typed comes back at once (no quiet batching between).
    await page.getByTestId('tile-1').click();
    await page.keyboard.type('hello');
    await page.keyboard.press('Enter');
    await waitForTerminal(page, 1, /got hello/, 10_000);
    await engine.call('stopRun', { runId: engine.registry.listRuns()[0]!.id });
  }, 120_000);
});
