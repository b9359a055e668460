// A host's engine (FLOTILLA_ON_HOST=1, as a desktop starts it there) holds no provider key of its own: until a desktop
// hands one over, an agent's requests are answered 503 "waiting for the key from the desktop" (agents retry those) and
// nothing goes upstream; once handed over — into memory, never the data dir — the same session's next request goes.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../electron/engine/engine.ts';
import { makeRepo, tempDir } from '../fixtures/repo.ts';
import { waitFor } from '../fixtures/wait.ts';
import { type Upstream, startUpstream } from '../upstream/index.ts';

const KEY = 'sk-handed-over-by-the-desktop';
const AGENT = [
  'const ask = () => fetch(process.env.ANTHROPIC_BASE_URL + "/v1/messages", { method: "POST",',
  '  headers: { authorization: "Bearer " + process.env.ANTHROPIC_AUTH_TOKEN, "content-type": "application/json", "anthropic-version": "2023-06-01" },',
  "  body: JSON.stringify({ model: 'kimi-k2.6', max_tokens: 64, stream: false, messages: [{ role: 'user', content: 'SAY hi' }] }) })",
  '  .then(async (r) => console.log("status " + r.status + " " + (await r.text()).slice(0, 400)));',
  'process.stdin.on("data", () => void ask());',
  'void ask();',
].join('\n');

let upstream: Upstream;
let engine: Engine | null = null;
beforeAll(async () => {
  upstream = await startUpstream({ apiKey: KEY });
});
afterAll(async () => {
  await engine?.close();
  await upstream?.close();
});

describe("a host's engine waits for the desktop's key", () => {
  it('answers 503 saying so until the key arrives, then the same session goes upstream; nothing on disk', async () => {
    const dataDir = tempDir('flotilla-host-data-');
    engine = await Engine.create({ dataDir, env: { ...process.env, FLOTILLA_ON_HOST: '1', HOST_KEY: '' } });
    const { sessions } = await engine.call('launch', {
      templateText: `name: keys
repo: ${makeRepo()}
agent: { preset: shell, command: node, args: ["-e", ${JSON.stringify(AGENT)}] }
provider: { preset: custom, baseUrl: "${upstream.url}", style: anthropic, apiKeyEnv: HOST_KEY }
model: kimi-k2.6
`,
    });
    const id = sessions[0]!.id;
    const screen = async () => (await engine!.call('snapshot', { sessionId: id })).data;
    await waitFor(async () => (await screen()).includes('status 503'), 'the first answer');
    expect(await screen()).toContain('waiting for the key from the desktop: HOST_KEY has not been handed to this host');
    expect(upstream.requests.filter((r) => r.path === '/v1/messages')).toHaveLength(0);

    await engine.call('setProviderKey', { name: 'HOST_KEY', value: KEY, persist: false });
    await engine.call('input', { sessionId: id, data: '\r' });
    await waitFor(async () => (await screen()).includes('status 200'), 'the answer once the key was handed over');
    const sent = upstream.requests.filter((r) => r.path === '/v1/messages');
    expect(sent).toHaveLength(1);
    expect(sent[0]!.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(existsSync(join(dataDir, 'keys.json'))).toBe(false);
  }, 60_000);
});
