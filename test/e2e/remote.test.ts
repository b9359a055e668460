// A host in the cockpit (issue 24): a throwaway sshd and user stand for another machine. The host is added in Settings →
// Hosts, a real Claude Code session is launched there from the dialog's host field: its tile is labelled with the
// host, its spend is exact, the SSH tunnel is killed and sshd stopped mid-run (the tile says reconnecting, the session
// finishes on the host anyway, the tile then shows its true final screen), the review's diff and merge work against
// the host's repo, and no file under the host user's HOME holds the provider key.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PriceTable } from '../../electron/engine/meter/index.ts';
import { type TestSshd, cannotRunSshd, filesHolding, remoteRepo, startSshd } from '../fixtures/sshd.ts';
import type { RecordedRequest } from '../upstream/index.ts';
import { anthropicServedUsd } from '../upstream/served.ts';
import { BIN_DIR, KEY, KEY_VAR, dollars, screenshot, terminalText, useE2E } from './fixtures.ts';

const e2e = useE2E('remote', { upstream: true });
const K26 = PriceTable.shipped().get('kimi-k2.6')!;
let sshd: TestSshd;
const sshConfigBefore = process.env.FLOTILLA_SSH_CONFIG;
beforeAll(async () => {
  if (cannotRunSshd) return;
  sshd = await startSshd();
  // The engine (in this process) reaches the host through the test's own ssh config.
  process.env.FLOTILLA_SSH_CONFIG = sshd.config;
}, 30_000);
afterAll(async () => {
  if (sshConfigBefore === undefined) delete process.env.FLOTILLA_SSH_CONFIG;
  else process.env.FLOTILLA_SSH_CONFIG = sshConfigBefore;
  await sshd?.stop(); // the host user's engine and agents end with the user
});

const servedUsd = (r: RecordedRequest) => anthropicServedUsd(r, K26);

describe.skipIf(cannotRunSshd !== null)(`a host in the cockpit${cannotRunSshd ? ` (skipped: ${cannotRunSshd})` : ''}`, () => {
  it('adds a host, launches Claude Code there, survives a dropped tunnel, reviews and merges on the host', async () => {
    const u = sshd.addUser({ profile: `export PATH=${BIN_DIR}:$PATH` });
    const repo = remoteRepo(u);
    const engine = await e2e.engine();
    const { page } = await e2e.dashboard(engine);

    // Settings → Hosts: add it; no engine runs there yet.
    await page.getByTestId('panel-button-settings').click();
    const hosts = page.getByTestId('settings-hosts');
    await hosts.getByTestId('host-new-name').fill('box');
    await hosts.getByTestId('host-new-destination').fill(u.alias);
    await hosts.getByTestId('host-add').click();
    await expect.poll(() => hosts.getByTestId('host-state-box').textContent(), { timeout: 30_000 }).toBe('no engine yet');
    await page.getByTestId('panel-button-settings').click();

    // Launch there from the dialog: the host field, the host's repo.
    const upstream = e2e.upstream();
    const before = upstream.requests.length;
    await page.getByTestId('launch-button').click();
    const dialog = page.getByTestId('launch-dialog');
    await dialog
      .getByTestId('launch-yaml')
      .fill(
        [
          'name: e2e on a host',
          'agent: { preset: claude-code-batch }',
          `provider: { preset: custom, baseUrl: "${upstream.url}", style: anthropic, apiKeyEnv: ${KEY_VAR} }`,
          'model: kimi-k2.6',
          `tasks: [${JSON.stringify('WAIT 3000\nWRITE late.txt finished while the tunnel was down\nSAY all done on the host')}]`,
        ].join('\n'),
      );
    await dialog.getByTestId('launch-host').selectOption('box');
    await dialog.getByTestId('launch-repo').fill(repo);
    await dialog.getByTestId('launch-submit').click();
    await dialog.waitFor({ state: 'hidden', timeout: 120_000 }); // the first launch installs the engine there
    expect(await page.getByTestId('tile-host-1').textContent()).toBe('box');
    await expect.poll(() => page.getByTestId('run-picker').textContent()).toContain('e2e on a host on box');

    // Mid-run the tunnel dies and the host stops answering SSH: the tile says so, the session goes on there.
    await expect.poll(() => upstream.requests.slice(before).some((q) => q.path === '/v1/messages'), { timeout: 120_000 }).toBe(true);
    const tunnel = execFileSync('pgrep', ['-P', String(process.pid), '-f', 'ControlPath=none'], { encoding: 'utf8' }).trim();
    await sshd.down();
    try {
      process.kill(Number(tunnel), 'SIGKILL');
      const away = page.getByTestId('tile-host-away-1');
      await expect
        .poll(() => away.textContent(), { timeout: 60_000 })
        .toMatch(/^box unreachable — reconnecting \(\d+\); the session goes on there$/);
      await screenshot(page, 'remote-1-reconnecting');
    } finally {
      await sshd.up();
    }
    await page.getByTestId('tile-host-away-1').waitFor({ state: 'hidden', timeout: 60_000 });
    await expect.poll(() => page.getByTestId('tile-status-1').textContent(), { timeout: 120_000 }).toBe('done');
    // The true final screen, from the host's mirror.
    await expect.poll(() => terminalText(page, 1), { timeout: 30_000 }).toContain('all done on the host');
    const session = (await engine.call('listSessions', {})).find((s) => s.host === 'box')!;
    expect(readFileSync(join(session.worktree, 'late.txt'), 'utf8')).toBe('finished while the tunnel was down');

    // Spend on the tile is what the stand-in served, priced at kimi-k2.6.
    const served = upstream.requests.slice(before).filter((q) => q.path === '/v1/messages' && q.servedUsage);
    const expected = served.reduce((a, q) => a + servedUsd(q), 0);
    await expect.poll(() => dollars(page, 'tile-spend-1'), { timeout: 30_000 }).toBeCloseTo(expected, 3);
    await expect.poll(() => page.getByTestId('host-spend').textContent()).toMatch(/^box \$[\d.]+ · total \$[\d.]+$/);
    await screenshot(page, 'remote-2-done-on-the-host');

    // Review on the host's repo: the diff, then the merge lands there.
    await page.getByTestId('panel-button-review').click();
    const panel = page.getByTestId('panel-review');
    const file = panel.getByTestId('review-file-late.txt');
    await file.waitFor({ state: 'visible', timeout: 30_000 });
    await file.click();
    await expect.poll(() => panel.getByTestId('review-diff').textContent(), { timeout: 15_000 }).toContain('finished while the tunnel');
    await panel.getByTestId('review-merge').click();
    await panel.getByTestId('review-merge-confirm').click();
    await panel.getByTestId('review-result').waitFor({ state: 'visible', timeout: 30_000 });
    expect(execFileSync('git', ['-c', 'safe.directory=*', '-C', repo, 'show', 'main:late.txt'], { encoding: 'utf8' })).toBe(
      'finished while the tunnel was down',
    );
    await screenshot(page, 'remote-3-merged-on-the-host');

    // The key went over the tunnel into the host engine's memory only.
    expect(filesHolding(u.home, KEY)).toEqual([]);
  }, 400_000);
});
