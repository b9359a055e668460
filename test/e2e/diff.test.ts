// The Review panel's diff viewer (@git-diff-view/react) in a real Chromium: a TypeScript file is highlighted by the
// library with full context (a line inside an unchanged block comment is a comment), a one-word change is marked inside
// the line, and a 5 000-line file is drawn in chunks that mount as they scroll into view (never all at once). The long
// tasks seen while scrolling it are printed (headless Chromium on shared cores: a figure, not a pass/fail timing).
import { describe, expect, it } from 'vitest';
import { makeRepo } from '../fixtures/repo.ts';
import { screenshot, useE2E } from './fixtures.ts';

const e2e = useE2E('diff');

const APP_TS = [
  '/*',
  ' * The app.',
  ' * const inside = "a comment";',
  ' */',
  'export const name = "app";',
  'export function add(a: number, b: number) {',
  '  return a + b;',
  '}',
  '',
].join('\n');

// Changes one word of line 5 and adds a 5 000-line file.
const AGENT = [
  "const fs = require('fs');",
  "const t = fs.readFileSync('src/app.ts', 'utf8').replace('name = \"app\"', 'name = \"cockpit\"');",
  "fs.writeFileSync('src/app.ts', t);",
  "fs.writeFileSync('src/big.ts', Array.from({ length: 5000 }, (_, i) => 'export const v' + i + ' = ' + i + ';').join('\\n') + '\\n');",
  "console.log('edited');",
].join(' ');

describe('diff viewer', () => {
  it('highlights with the library, marks the changed word, and draws a 5 000-line diff in lazy chunks', async () => {
    const engine = await e2e.engine();
    const repo = makeRepo({ 'src/app.ts': APP_TS });
    const launched = await engine.call('launch', {
      templateText: `name: e2e diff\nrepo: ${repo}\nagent: { preset: shell, command: node, args: ["-e", ${JSON.stringify(AGENT)}] }\nprovider: { preset: custom, baseUrl: "http://127.0.0.1:9" }\n`,
    });
    const id = launched.sessions[0]!.id;
    await expect.poll(() => engine.registry.sessionInfo(id).status, { timeout: 30_000 }).toBe('done');
    const { page } = await e2e.dashboard(engine);
    await page.getByTestId('tile-1').waitFor({ state: 'visible', timeout: 30_000 });
    await page.getByTestId('panel-button-review').click();
    const panel = page.getByTestId('panel-review');
    await panel.getByTestId('review-file-src/app.ts').click();
    const diff = panel.getByTestId('review-diff');
    await diff.waitFor({ state: 'visible', timeout: 15_000 });
    await expect
      .poll(() => diff.locator('.hljs-keyword').count(), { timeout: 15_000, message: 'keywords highlighted by highlight.js' })
      .toBeGreaterThan(0);
    // Full context: the unchanged line inside the block comment is highlighted as a comment, not as code.
    const inside = diff.locator('.hljs-comment', { hasText: 'const inside' });
    expect(await inside.count()).toBeGreaterThan(0);
    // Word level: the changed word is marked within the line.
    await expect
      .poll(() => diff.locator('[data-diff-highlight]').allTextContents(), { timeout: 5_000 })
      .toEqual(expect.arrayContaining(['cockpit']));
    await screenshot(page, 'diff-1-typescript');

    await panel.getByTestId('review-file-src/big.ts').click();
    await expect.poll(() => diff.getAttribute('data-chunks'), { timeout: 15_000 }).not.toBe('0');
    const chunks = Number(await diff.getAttribute('data-chunks'));
    expect(chunks).toBeGreaterThanOrEqual(200);
    const mounted = () => diff.locator('.diff-chunk[data-mounted="true"]').count();
    await expect.poll(mounted, { timeout: 10_000 }).toBeGreaterThan(0);
    expect(await mounted(), 'only the chunks near the viewport are drawn').toBeLessThan(chunks / 2);

    // Scroll to the end in steps, counting main-thread tasks over 50 ms meanwhile.
    await page.evaluate(() => {
      (window as unknown as { __long: number[] }).__long = [];
      new PerformanceObserver((l) => {
        for (const e of l.getEntries()) (window as unknown as { __long: number[] }).__long.push(e.duration);
      }).observe({ type: 'longtask', buffered: false });
    });
    for (let i = 1; i <= 30; i++) {
      await diff.evaluate((el, f) => (el.scrollTop = el.scrollHeight * f), i / 30);
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    }
    await expect.poll(() => diff.locator('.diff-chunk').last().getAttribute('data-mounted'), { timeout: 10_000 }).toBe('true');
    expect(await diff.textContent()).toContain('export const v4999 = 4999;');
    const long = await page.evaluate(() => (window as unknown as { __long: number[] }).__long);
    console.log(
      `diff viewer: 5 000-line diff in ${chunks} chunks; main-thread tasks over 50 ms while scrolling it: ${long.length}${long.length ? ` (longest ${Math.round(Math.max(...long))} ms)` : ''}`,
    );
    await screenshot(page, 'diff-2-large');
  });
});
