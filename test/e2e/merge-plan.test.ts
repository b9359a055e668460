// The end of the review loop in a real Chromium: the Review panel's merge plan queue (real git, real sessions) lands
// the clean sessions with one click and shows the one left conflicting with the new base; feedback typed in the panel
// reaches the session's agent as its next input.
import { describe, expect, it } from 'vitest';
import { git, makeRepo } from '../fixtures/repo.ts';
import { screenshot, useE2E, waitForTerminal } from './fixtures.ts';

const e2e = useE2E('merge-plan');

const AGENT = [
  "const fs = require('fs'); const slot = process.argv[1];",
  "if (slot === '3') fs.writeFileSync('b.txt', 'b changed by 3\\n');",
  "else fs.writeFileSync('a.txt', 'a from ' + slot + '\\n');",
].join(' ');

describe('merge plan queue', () => {
  it('Merge all clean lands two of three; the third shows as conflicting with the new base', async () => {
    const engine = await e2e.engine();
    const repo = makeRepo({ 'a.txt': 'a\n', 'b.txt': 'b\n' });
    const { run } = await engine.call('launch', {
      templateText: `name: e2e plan\nrepo: ${repo}\ncount: 3\nagent: { preset: shell, command: node, args: ["-e", ${JSON.stringify(AGENT)}, "{{index}}"] }\nprovider: { preset: custom, baseUrl: "http://127.0.0.1:9" }\n`,
    });
    await engine.waitForRun(run.id);
    const { page } = await e2e.dashboard(engine);
    await page.getByTestId('tile-1').waitFor({ state: 'visible', timeout: 30_000 });
    await page.getByTestId('panel-button-review').click();
    const queue = page.getByTestId('merge-queue');
    await queue.waitFor({ state: 'visible', timeout: 15_000 });
    await expect
      .poll(() =>
        queue
          .locator('.merge-step')
          .evaluateAll((els) => els.map((e) => `${e.getAttribute('data-testid')}:${e.getAttribute('data-state')}`)),
      )
      .toEqual(['merge-step-3:clean', 'merge-step-1:clean', 'merge-step-2:blocked']);
    await screenshot(page, 'merge-1-plan');
    const before = git(repo, 'rev-parse', 'main');
    await queue.getByTestId('merge-all-clean').click();
    await expect
      .poll(() => queue.getByTestId('merge-queue-note').textContent(), { timeout: 30_000 })
      .toMatch(/Merged 2 session\(s\) \(#3, #1\)/);
    expect(git(repo, 'rev-list', '--count', `${before}..main`)).toBe('2');
    await expect
      .poll(() =>
        queue
          .locator('.merge-step')
          .evaluateAll((els) => els.map((e) => `${e.getAttribute('data-testid')}:${e.getAttribute('data-state')}`)),
      )
      .toEqual(['merge-step-2:conflict']);
    await screenshot(page, 'merge-2-after');
  });

  it('feedback from the Review panel reaches the agent, prefixed with the file it is about', async () => {
    const engine = await e2e.engine();
    const repo = makeRepo({ 'a.txt': 'a\n' });
    const echo =
      "fs = require('fs'); fs.writeFileSync('a.txt', 'edited\\n'); console.log('waiting'); process.stdin.setEncoding('utf8'); process.stdin.on('data', (d) => console.log('got: ' + d.trim()));";
    await engine.call('launch', {
      templateText: `name: e2e feedback\nrepo: ${repo}\nagent: { preset: shell, command: node, args: ["-e", ${JSON.stringify(echo)}] }\nprovider: { preset: custom, baseUrl: "http://127.0.0.1:9" }\n`,
    });
    const { page } = await e2e.dashboard(engine);
    await waitForTerminal(page, 1, 'waiting', 30_000);
    await page.getByTestId('panel-button-review').click();
    const panel = page.getByTestId('panel-review');
    await panel.getByTestId('review-file-a.txt').click();
    await panel.getByTestId('review-feedback').fill('use a capital A');
    await panel.getByTestId('review-feedback-send').click();
    await waitForTerminal(page, 1, 'got: a.txt: use a capital A', 15_000);
    expect(await panel.getByTestId('review-feedback-result').textContent()).toMatch(/Sent/);
  });
});
