// Settings and provider keys of the headless engine: saved in the data dir (0600), used by new runs, never sent back.
import { describe, expect, it } from 'vitest';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { useEngines } from '../fixtures/engine.ts';
import { makeRepo, tempDir } from '../fixtures/repo.ts';

const KEY = 'sk-from-the-data-dir';
// The stand-in upstream accepts only KEY; the engine's environment has it under another name than the template uses.
const env = useEngines({ key: KEY, keyEnv: 'SOME_OTHER_KEY' });

describe('settings and provider keys', () => {
  it('saves price overrides and default budgets for new runs, and refuses invalid settings by field', async () => {
    const e = await env.engine();
    expect(e.settings.view().settings).toEqual({});
    await e.call('saveSettings', { settings: { prices: { 'kimi-k2.6': { inputUsd: 1.5 } }, defaultBudget: { perSessionUsd: 3 } } });
    const file = join(e.dataDir, 'settings.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(e.settings.prices().find((p) => p.model === 'kimi-k2.6')).toMatchObject({ inputUsd: 1.5, outputUsd: 4 });
    expect(e.settings.view().shipped.find((p) => p.model === 'kimi-k2.6')!.inputUsd).toBe(0.95);
    const { run } = await e.call('launch', {
      templateText: `name: budgets\nrepo: ${makeRepo()}\nagent: { preset: shell, command: node, args: ["-e", "0"] }\nprovider: { preset: custom, baseUrl: "http://127.0.0.1:9" }\n`,
    });
    expect(run.budget.perSessionUsd).toBe(3);
    await expect(e.call('saveSettings', { settings: { referenceModel: 5 } })).rejects.toThrow(/referenceModel/);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({
      prices: { 'kimi-k2.6': { inputUsd: 1.5 } },
      defaultBudget: { perSessionUsd: 3 },
    });
  });

  it('keeps a provider key in the data dir, uses it upstream, and only ever reports its name', async () => {
    const upstream = env.upstream();
    const dataDir = tempDir('flotilla-keys-');
    const e = await env.engine(dataDir);
    await e.call('setProviderKey', { name: 'DATA_DIR_KEY', value: KEY });
    expect(statSync(join(dataDir, 'keys.json')).mode & 0o777).toBe(0o600);
    const view = e.settings.view();
    expect(view.keys).toContainEqual({ name: 'DATA_DIR_KEY', source: 'data dir' });
    expect(JSON.stringify(view)).not.toContain(KEY);
    await expect(e.call('setProviderKey', { name: 'not a name', value: 'x' })).rejects.toThrow(/env var/);

    const agent =
      "fetch(process.env.ANTHROPIC_BASE_URL + '/v1/messages', { method: 'POST', headers: { authorization: 'Bearer ' + process.env.ANTHROPIC_AUTH_TOKEN, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'kimi-k2.6', max_tokens: 10, messages: [{ role: 'user', content: 'SAY hi' }] }) }).then((r) => process.exit(r.ok ? 0 : 1))";
    const before = upstream.requests.length;
    const { run } = await e.call('launch', {
      templateText: `name: keyed
repo: ${makeRepo()}
agent: { preset: shell, command: node, args: ["-e", ${JSON.stringify(agent)}] }
provider: { preset: custom, baseUrl: "${upstream.url}", apiKeyEnv: DATA_DIR_KEY }
`,
    });
    await e.waitForRun(run.id);
    expect(e.registry.listSessions(run.id)[0]!.status).toBe('done');
    const seen = upstream.requests.slice(before).filter((r) => r.path.startsWith('/v1/messages'));
    expect(seen.map((r) => r.headers.authorization)).toEqual([`Bearer ${KEY}`]);

    await e.call('setProviderKey', { name: 'DATA_DIR_KEY', value: null });
    expect(e.settings.view().keys.map((k) => k.name)).not.toContain('DATA_DIR_KEY');

    // The desktop app's keys live encrypted in the app: the engine holds them in memory, nothing lands in the data dir.
    await e.call('setProviderKey', { name: 'DESKTOP_KEY', value: 'sk-desktop-only', persist: false });
    expect(e.settings.view().keys.map((k) => k.name)).toContain('DESKTOP_KEY');
    expect(readFileSync(join(dataDir, 'keys.json'), 'utf8')).not.toContain('sk-desktop-only');
  });
});
