// Typing while the grid floods: nine tiles pour output while the user types into the tenth; every keystroke reaches its
// agent and echoes back in order. The flooding tiles are in the background: the engine shows them screens instead of
// the stream, they still say they are flooding, and focusing one restores it with its scrollback.
import { describe, expect, it } from 'vitest';
import { makeRepo } from '../fixtures/repo.ts';
import { floodCommand } from '../fixtures/flood.ts';
import { focusedTerminal, screenshot, terminalText, useE2E, waitForTerminal } from './fixtures.ts';

const e2e = useE2E('typing-flood');

describe('typing while nine tiles flood', () => {
  it('every keystroke in the focused tile is echoed in order', async () => {
    const engine = await e2e.engine();
    // Enough for the test (the engine's flow control holds each flood to what the page draws: well under 1 MB/s).
    const flood = floodCommand(40 * 1024 * 1024);
    // Slot 1 echoes (cat in a pty: the line discipline echoes each key); the others flood for as long as the test runs.
    // argv: total bytes, linger ms (the flood script's), then the slot.
    const script = `if (process.argv[3] === '1') { require('child_process').spawn('cat', [], { stdio: 'inherit' }); console.log('typing here'); } else { ${flood.args[1]} }`;
    await engine.call('launch', {
      templateText: `name: e2e typing flood\nrepo: ${makeRepo()}\ncount: 10\nagent: { preset: shell, command: node, args: ["-e", ${JSON.stringify(script)}, "${flood.args[2]}", "0", "{{index}}"] }\nprovider: { preset: custom, baseUrl: "http://127.0.0.1:9" }\n`,
    });
    const { page } = await e2e.dashboard(engine);
    await waitForTerminal(page, 1, 'typing here', 30_000);
    await waitForTerminal(page, 2, 'flotilla flood', 30_000);
    await page.getByTestId('tile-1').click();
    await expect.poll(() => focusedTerminal(page), { timeout: 5_000 }).toBe('terminal-1');
    const typed = 'the quick brown fox jumps over the lazy dog 0123456789';
    for (const ch of typed) await page.keyboard.type(ch);
    await page.keyboard.press('Enter');
    // The echo while typing, then cat's line back: both in order.
    await waitForTerminal(page, 1, new RegExp(`${typed}\\n(.*\\n)?${typed}`), 30_000);
    expect((await terminalText(page, 1)).split('\n').filter((l) => l === typed)).toHaveLength(2);
    await expect
      .poll(() => page.locator('[data-testid^="tile-flood-"]').count(), { timeout: 10_000, message: 'flooding tiles show a rate badge' })
      .toBeGreaterThan(0);
    expect(await page.evaluate('window.__flotilla.screens()')).toBeGreaterThan(0);
    // Focused, a flooding tile is restored from the engine's mirror: screen and scrollback, then its stream.
    await page.getByTestId('tile-2').click();
    await expect.poll(() => focusedTerminal(page), { timeout: 5_000 }).toBe('terminal-2');
    await expect
      .poll(async () => (await terminalText(page, 2)).split('\n').filter((l) => l.startsWith('flotilla flood')).length, {
        timeout: 15_000,
        message: 'the focused tile holds scrollback',
      })
      .toBeGreaterThan(200);
    await screenshot(page, 'typing-flood');
    await engine.call('stopRun', { runId: engine.registry.listRuns()[0]!.id });
  }, 120_000);
});
