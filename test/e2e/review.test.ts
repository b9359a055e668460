// The Conflicts and Review panels in a real (headless) Chromium against the real engine: two shell agents edit line 1 of
// the same file differently; the Conflicts panel shows it and compares both diffs side by side; the Review panel merges
// slot 1 into main (git sees the commit) and then refuses slot 2, naming the file, leaving the repo untouched.
import { beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../electron/engine/engine.ts';
import { git, makeRepo } from '../fixtures/repo.ts';
import { launchFromUi, screenshot, type Dashboard, useE2E } from './fixtures.ts';

const e2e = useE2E('review');
let engine: Engine;
let dash: Dashboard;
beforeAll(async () => {
  engine = await e2e.engine();
  dash = await e2e.dashboard(engine);
});

const APP_TS = [
  'export const name = "app";',
  'export function add(a: number, b: number) {',
  '  return a + b;',
  '}',
  '// the end',
  'export default add;',
  '',
].join('\n');

// Rewrites line 1 of src/app.ts with its slot number, then exits 0.
const EDIT_AGENT = [
  "const fs = require('fs');",
  "const lines = fs.readFileSync('src/app.ts', 'utf8').split('\\n');",
  "lines[0] = 'export const name = \"slot ' + process.argv[1] + '\";';",
  "fs.writeFileSync('src/app.ts', lines.join('\\n'));",
  "console.log('edited by slot ' + process.argv[1]);",
].join(' ');

const template = (repo: string) => `
name: e2e review
repo: ${repo}
count: 2
agent: { preset: shell, command: node, args: ["-e", ${JSON.stringify(EDIT_AGENT)}, "{{index}}"] }
provider: { preset: custom, baseUrl: "http://127.0.0.1:9" }
`;

describe('conflicts and review panels', () => {
  let repo: string;
  let runId: string;
  const sessionOf = (slot: number) => engine.registry.listSessions(runId).find((s) => s.slot === slot)!;

  it('two sessions editing line 1 of src/app.ts show as a conflict, compared side by side', async () => {
    const { page } = dash;
    repo = makeRepo({ 'src/app.ts': APP_TS });
    await launchFromUi(page, template(repo));
    await expect.poll(() => engine.registry.listSessions().length, { timeout: 30_000 }).toBe(2);
    runId = engine.registry.listSessions()[0]!.runId;
    await expect
      .poll(
        () =>
          engine.registry
            .listSessions(runId)
            .map((s) => s.status)
            .join(','),
        { timeout: 30_000, message: 'both sessions done' },
      )
      .toBe('done,done');
    await expect
      .poll(() => engine.review.conflicts(runId).some((w) => w.path === 'src/app.ts' && w.kind === 'conflict'), {
        timeout: 30_000,
        message: 'engine: src/app.ts is a conflict',
      })
      .toBe(true);

    await page.getByTestId('panel-button-conflicts').click();
    const panel = page.getByTestId('panel-conflicts');
    const item = panel
      .getByTestId('conflict-src/app.ts')
      .filter({ hasText: /conflict/i })
      .first();
    await item.waitFor({ state: 'visible', timeout: 15_000 });
    await item.click();
    const compare = panel.getByTestId('conflict-compare');
    await compare.waitFor({ state: 'visible', timeout: 15_000 });
    await expect.poll(() => compare.getByTestId(/^conflict-col-/).count(), { timeout: 10_000 }).toBe(2);
    // The diff viewer loads on first use.
    await expect.poll(() => compare.textContent(), { timeout: 15_000 }).not.toContain('Loading the diff viewer');
    const col1 = (await compare.getByTestId('conflict-col-1').textContent()) ?? '';
    const col2 = (await compare.getByTestId('conflict-col-2').textContent()) ?? '';
    expect(col1).toContain('slot 1');
    expect(col1).not.toContain('slot 2');
    expect(col2).toContain('slot 2');
    expect(col2).not.toContain('slot 1');
    // Both columns remove the original line 1.
    expect(col1).toContain('export const name = "app";');
    expect(col2).toContain('export const name = "app";');
    await screenshot(page, 'review-1-conflicts-side-by-side');
  });

  it('Review: merging slot 1 lands its commit on main', async () => {
    const { page } = dash;
    await page.getByTestId('panel-button-review').click();
    const panel = page.getByTestId('panel-review');
    await panel.waitFor({ state: 'visible' });
    // Default: the first done session (slot 1).
    await expect.poll(() => panel.getByTestId('review-session').inputValue(), { timeout: 10_000 }).toBe(sessionOf(1).id);
    const file = panel.getByTestId('review-file-src/app.ts');
    await file.waitFor({ state: 'visible', timeout: 15_000 });
    expect(await file.textContent()).toMatch(/modified.*\+1.*1/);
    await file.click();
    const diff = panel.getByTestId('review-diff');
    await diff.waitFor({ state: 'visible', timeout: 10_000 });
    expect(await diff.textContent()).toContain('slot 1');
    await panel.getByTestId('review-mode-split').click();
    expect(await diff.textContent()).toContain('slot 1');
    await screenshot(page, 'review-2-slot-1-split-diff');

    const before = git(repo, 'rev-parse', 'main');
    await panel.getByTestId('review-merge').click();
    await panel.getByTestId('review-merge-confirm').click();
    const result = panel.getByTestId('review-result');
    await result.waitFor({ state: 'visible', timeout: 30_000 });
    const text = (await result.textContent()) ?? '';
    const m = /\b([0-9a-f]{40})\b/.exec(text);
    expect(m, `review-result shows the merged commit: ${text}`).not.toBeNull();
    const after = git(repo, 'rev-parse', 'main');
    expect(after).toBe(m![1]);
    expect(after).not.toBe(before);
    expect(git(repo, 'rev-parse', `${after}^`)).toBe(before);
    expect(git(repo, 'show', 'main:src/app.ts').split('\n')[0]).toBe('export const name = "slot 1";');
    await screenshot(page, 'review-3-merged-slot-1');
  });

  it('Review: merging slot 2 next is refused, naming src/app.ts; the repo is untouched', async () => {
    const { page } = dash;
    const panel = page.getByTestId('panel-review');
    const head = git(repo, 'rev-parse', 'main');
    const status = git(repo, 'status', '--porcelain');
    const content = git(repo, 'show', 'main:src/app.ts');

    await panel.getByTestId('review-next').click();
    await expect.poll(() => panel.getByTestId('review-session').inputValue(), { timeout: 10_000 }).toBe(sessionOf(2).id);
    await panel.getByTestId('review-file-src/app.ts').waitFor({ state: 'visible', timeout: 15_000 });
    await expect(panel.getByTestId('review-result').count()).resolves.toBe(0);

    await panel.getByTestId('review-merge').click();
    await panel.getByTestId('review-merge-confirm').click();
    const result = panel.getByTestId('review-result');
    await result.waitFor({ state: 'visible', timeout: 30_000 });
    const text = (await result.textContent()) ?? '';
    expect(text).toMatch(/refused/i);
    expect(text).toContain('src/app.ts');
    expect(text).toMatch(/conflict/i);

    expect(git(repo, 'rev-parse', 'main')).toBe(head);
    expect(git(repo, 'status', '--porcelain')).toBe(status);
    expect(git(repo, 'show', 'main:src/app.ts')).toBe(content);
    await screenshot(page, 'review-4-slot-2-refused');
  });
});
