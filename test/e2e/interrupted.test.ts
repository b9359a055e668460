// Sessions that outlive their pty host, in a real Chromium against the real engine: the host thread is killed while
// two agents run; the tiles say interrupted with Restart, the bar above the grid offers to bring both back, and after
// "Restart all" both run again and print in their tiles.
import { describe, expect, it } from 'vitest';
import { makeRepo } from '../fixtures/repo.ts';
import { launchFromUi, screenshot, terminalText, useE2E, waitForTerminal } from './fixtures.ts';

const e2e = useE2E('interrupted');

const template = (name: string) => `
name: ${name}
repo: ${makeRepo()}
count: 2
agent: { preset: shell, command: node, args: ["-e", "console.log('agent up at ' + Date.now()); setInterval(() => {}, 1000)"] }
provider: { preset: custom, baseUrl: "http://127.0.0.1:9" }
`;

describe('interrupted sessions', () => {
  it('a pty host that dies leaves the tiles interrupted with Restart; Restart all brings both back', async () => {
    const engine = await e2e.engine();
    const { page } = await e2e.dashboard(engine);
    await launchFromUi(page, template('e2e interrupted'));
    for (const slot of [1, 2]) await waitForTerminal(page, slot, /agent up at/, 30_000);
    const pidsBefore = engine.registry.listSessions().map((s) => s.pid);

    await engine.ptyHost.crashForTest();
    for (const slot of [1, 2])
      await expect
        .poll(async () => (await page.getByTestId(`tile-status-${slot}`).textContent()) ?? '', {
          timeout: 15_000,
          message: `tile ${slot} says interrupted`,
        })
        .toMatch(/interrupted/);
    await expect.poll(() => page.getByTestId('tile-restart-1').count(), { timeout: 10_000 }).toBe(1);
    expect(await page.getByTestId('tile-interrupted-1').textContent()).toMatch(/pty host stopped/);
    const bar = page.getByTestId('interrupted-bar');
    await expect
      .poll(async () => ((await bar.count()) > 0 ? ((await bar.textContent()) ?? '') : ''), { timeout: 10_000 })
      .toMatch(/2 sessions were interrupted/);
    expect(await page.getByTestId('resume-all').textContent()).toBe('Restart all');
    await screenshot(page, 'interrupted-1');

    await page.getByTestId('resume-all').click();
    await expect
      .poll(
        () =>
          engine.registry
            .listSessions()
            .map((s) => s.status)
            .join(','),
        { timeout: 30_000, message: 'both sessions run again' },
      )
      .toMatch(/^(working|idle|starting),(working|idle|starting)$/);
    const pidsAfter = engine.registry.listSessions().map((s) => s.pid);
    expect(pidsAfter.every((p, i) => p !== null && p !== pidsBefore[i])).toBe(true);
    await expect.poll(() => page.getByTestId('interrupted-bar').count(), { timeout: 10_000 }).toBe(0);
    for (const slot of [1, 2]) {
      await expect
        .poll(async () => (await page.getByTestId(`tile-status-${slot}`).textContent()) ?? '', { timeout: 15_000 })
        .toMatch(/working|idle/);
      // The tile shows the new agent's first line after the note that the old screen went with the host.
      await expect
        .poll(async () => ((await terminalText(page, slot)).match(/agent up at/g) ?? []).length, { timeout: 15_000 })
        .toBeGreaterThanOrEqual(2);
    }
    await screenshot(page, 'interrupted-2-restarted');
  }, 120_000);
});
