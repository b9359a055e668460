// Faults in the cockpit: the engine's data dir on a small tmpfs that fills under it — the dashboard says "disk full"
// with what to do, the session's next request is held (its tile says so), and when space returns the banner goes and
// the request goes by itself; then a provider error reaches the tile in words. The agent is a script that speaks
// Anthropic Messages and waits for a line on stdin between turns.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeRepo } from '../fixtures/repo.ts';
import { cannotMount, smallDisk, type SmallDisk } from '../fixtures/small-disk.ts';
import { KEY_VAR, launchFromUi, screenshot, useE2E } from './fixtures.ts';

const e2e = useE2E('faults', { upstream: true });
let disk: SmallDisk | null = null;
afterAll(() => disk?.unmount());

const AGENT = [
  'const base = process.env.ANTHROPIC_BASE_URL, key = process.env.ANTHROPIC_AUTH_TOKEN;',
  "const tools = [{ name: 'Write', description: 'write a file', input_schema: { type: 'object', properties: { file_path: { type: 'string' } } } }];",
  'const ask = (content) => fetch(base + "/v1/messages", { method: "POST", headers: { authorization: "Bearer " + key, "content-type": "application/json", "anthropic-version": "2023-06-01" },',
  "  body: JSON.stringify({ model: 'kimi-k2.6', max_tokens: 256, stream: false, tools, messages: [{ role: 'user', content }] }) }).then((r) => r.status);",
  'const line = () => new Promise((r) => process.stdin.once("data", r));',
  '(async () => {',
  "  console.log('turn1 ' + (await ask('SAY one'))); await line();",
  "  console.log('turn2 ' + (await ask('SAY two'))); await line();",
  "  console.log('turn3 ' + (await ask('FAIL 500 api_error the host fell over'))); await line();",
  '})();',
].join('\n');

describe.skipIf(cannotMount !== null)(`faults in the cockpit${cannotMount ? ` (skipped: ${cannotMount})` : ''}`, () => {
  it('a full disk: the banner, a held tile, and both gone by themselves when space returns; a provider error on the tile', async () => {
    disk = smallDisk('48m');
    const engine = await e2e.engine(join(disk.dir, 'data'));
    const { page } = await e2e.dashboard(engine);
    await launchFromUi(
      page,
      `
name: e2e faults
repo: ${makeRepo()}
agent: { preset: shell, command: node, args: ["-e", ${JSON.stringify(AGENT)}] }
provider: { preset: custom, baseUrl: "${e2e.upstream().url}", style: anthropic, apiKeyEnv: ${KEY_VAR} }
model: kimi-k2.6
`,
    );
    const session = () => engine.registry.listSessions()[0]!;
    const screen = async () => (await engine.call('snapshot', { sessionId: session().id })).data;
    await expect.poll(screen, { timeout: 30_000 }).toContain('turn1 200');

    disk.fill();
    engine.disk.check();
    const banner = page.getByTestId('disk-full');
    await banner.waitFor({ state: 'visible', timeout: 30_000 });
    expect(await banner.textContent()).toMatch(
      /disk full at .*data — \d+ MB needed; spend is held until space returns\..*Free some space there/,
    );
    await engine.call('input', { sessionId: session().id, data: '\r' });
    await expect.poll(() => page.getByTestId('tile-status-1').textContent(), { timeout: 30_000 }).toBe('held — disk full');
    await expect.poll(() => banner.textContent(), { timeout: 30_000 }).toContain('1 model request(s) held');
    await screenshot(page, 'faults-1-disk-full');
    expect(await screen()).not.toContain('turn2');

    disk.free();
    engine.disk.check();
    await banner.waitFor({ state: 'hidden', timeout: 30_000 });
    await expect.poll(screen, { timeout: 30_000 }).toContain('turn2 200');

    await engine.call('input', { sessionId: session().id, data: '\r' });
    const error = page.getByTestId('tile-error-1');
    await error.waitFor({ state: 'visible', timeout: 30_000 });
    expect(await error.textContent()).toContain('Last request failed: the host fell over');
    await screenshot(page, 'faults-2-provider-error');
    await engine.call('input', { sessionId: session().id, data: '\r' });
  }, 180_000);
});
