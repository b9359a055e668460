// The dashboard in a real (headless) Chromium against the real engine: launching from the dialog, live terminals that
// take keystrokes, spend in the tile headers, "needs you" from a real Claude Code, and terminals surviving a reload.
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Engine } from '../../electron/engine/engine.ts';
import { makeRepo } from '../fixtures/repo.ts';
import type { Upstream } from '../upstream/index.ts';
import {
  BIN_DIR,
  KEY_VAR,
  dollars,
  focusedTerminal,
  launchFromUi,
  screenshot,
  terminalText,
  waitForTerminal,
  type Dashboard,
  useE2E,
} from './fixtures.ts';

const e2e = useE2E('dashboard', { upstream: true });
let upstream: Upstream;
beforeAll(() => {
  upstream = e2e.upstream();
});

async function engineAndPage(): Promise<{ engine: Engine; dash: Dashboard }> {
  const engine = await e2e.engine();
  return { engine, dash: await e2e.dashboard(engine) };
}

// A shell agent: announces its slot, then echoes every line it reads.
const ECHO_AGENT = [
  "process.stdin.setEncoding('utf8');",
  "console.log('slot ' + process.argv[1] + ' ready');",
  "let buf = '';",
  "process.stdin.on('data', (d) => { buf += d; const parts = buf.split(/\\r\\n|\\r|\\n/); buf = parts.pop(); for (const line of parts) console.log('got: ' + line); });",
].join(' ');

const echoTemplate = (repo: string) => `
name: e2e echo
repo: ${repo}
count: 10
agent: { preset: shell, command: node, args: ["-e", ${JSON.stringify(ECHO_AGENT)}, "{{index}}"] }
provider: { preset: custom, baseUrl: "http://127.0.0.1:9" }
`;

const SLOTS = Array.from({ length: 10 }, (_, i) => i + 1);

describe('dashboard: ten live terminals', () => {
  let engine: Engine;
  let dash: Dashboard;

  beforeAll(async () => {
    ({ engine, dash } = await engineAndPage());
  }, 60_000);

  it('launches 10 sessions from a template typed into the dialog; every tile shows its slot', async () => {
    const { page } = dash;
    await launchFromUi(page, echoTemplate(makeRepo()));
    for (const slot of SLOTS) await page.getByTestId(`tile-${slot}`).waitFor({ state: 'visible', timeout: 30_000 });
    await expect
      .poll(
        () =>
          page
            .locator('[data-testid^="tile-"]')
            .evaluateAll((els) => els.filter((e) => /^tile-\d+$/.test(e.getAttribute('data-testid') ?? '')).length),
        { timeout: 10_000 },
      )
      .toBe(10);
    expect(engine.registry.listSessions()).toHaveLength(10);
    for (const slot of SLOTS) await waitForTerminal(page, slot, new RegExp(`slot ${slot} ready`), 30_000);
    // Each terminal shows its own session, not a neighbour's.
    expect(await terminalText(page, 4)).not.toMatch(/slot 5 ready/);
    await screenshot(page, '1-ten-tiles');
  });

  it('keys typed into a focused tile reach that agent', async () => {
    const { page } = dash;
    await waitForTerminal(page, 3, 'slot 3 ready');
    await page.getByTestId('tile-3').click();
    await expect.poll(() => focusedTerminal(page), { timeout: 5_000 }).toBe('terminal-3');
    await page.keyboard.type('hello');
    await page.keyboard.press('Enter');
    await waitForTerminal(page, 3, 'got: hello', 15_000);
    // Only tile 3 got them.
    expect(await terminalText(page, 2)).not.toContain('got: hello');
    expect(await terminalText(page, 4)).not.toContain('got: hello');
    await screenshot(page, '2-typed-into-tile-3');
  });

  it('after a reload the terminals come back with their content', async () => {
    const { page } = dash;
    await waitForTerminal(page, 3, 'got: hello');
    await page.reload();
    await page.getByTestId('launch-button').waitFor({ state: 'visible', timeout: 20_000 });
    // The agents print nothing new: whatever shows came back from the engine's snapshots.
    for (const slot of SLOTS) await waitForTerminal(page, slot, `slot ${slot} ready`, 20_000);
    await waitForTerminal(page, 3, 'got: hello');
    await screenshot(page, '5-after-reload');
  });

  it('Ctrl+Shift+3 focuses tile 3 (enters focus mode, so it runs last)', async () => {
    const { page } = dash;
    await page.getByTestId('tile-1').click();
    await expect.poll(() => focusedTerminal(page), { timeout: 5_000 }).toBe('terminal-1');
    await page.keyboard.press('Control+Shift+Digit3');
    await expect
      .poll(() => focusedTerminal(page), { timeout: 5_000, message: 'Ctrl+Shift+3 moved the keyboard to terminal-3' })
      .toBe('terminal-3');
    await page.keyboard.type('via shortcut');
    await page.keyboard.press('Enter');
    await waitForTerminal(page, 3, 'got: via shortcut', 15_000);
    expect(await terminalText(page, 1)).not.toContain('via shortcut');
    await screenshot(page, '2b-ctrl-shift-3');
  });
});

describe('dashboard: spend and attention', () => {
  it('spend rises in the tile header and the app header as the agent calls the model', async () => {
    const { engine, dash } = await engineAndPage();
    const { page } = dash;
    // A minimal Anthropic-style agent: a few streaming main requests (they declare a tool) through the meter.
    const agent = [
      'const base = process.env.ANTHROPIC_BASE_URL, key = process.env.ANTHROPIC_AUTH_TOKEN;',
      "const tools = [{ name: 'Write', description: 'write a file', input_schema: { type: 'object', properties: { file_path: { type: 'string' }, content: { type: 'string' } } } }];",
      '(async () => {',
      '  for (let i = 1; i <= 3; i++) {',
      "    const r = await fetch(base + '/v1/messages', { method: 'POST', headers: { authorization: 'Bearer ' + key, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },",
      "      body: JSON.stringify({ model: 'kimi-k2.6', max_tokens: 1024, stream: true, tools, messages: [{ role: 'user', content: 'USAGE 20000 0 0 500\\nSAY hi' }] }) });",
      '    const text = await r.text();',
      "    console.log('request ' + i + ' ' + r.status + ' ' + (text.includes('message_stop') ? 'complete' : 'incomplete'));",
      '  }',
      "  console.log('all requests sent');",
      '  setInterval(() => {}, 1000);',
      '})();',
    ].join('\n');
    await launchFromUi(
      page,
      `
name: e2e spend
repo: ${makeRepo()}
agent: { preset: shell, command: node, args: ["-e", ${JSON.stringify(agent)}] }
provider: { preset: custom, baseUrl: "${upstream.url}", style: anthropic, apiKeyEnv: ${KEY_VAR} }
model: kimi-k2.6
`,
    );
    await page.getByTestId('tile-1').waitFor({ state: 'visible', timeout: 30_000 });
    // The engine metered it (so a zero on screen is the UI's fault, not the meter's).
    const runId = engine.registry.listSessions()[0]!.runId;
    await expect
      .poll(async () => (await engine.call('spend', { runId })).run?.requests ?? 0, {
        timeout: 30_000,
        message: 'engine metered 3 requests',
      })
      .toBe(3);
    expect((await engine.call('spend', { runId })).run!.usd).toBeGreaterThan(0);
    await expect.poll(() => dollars(page, 'tile-spend-1'), { timeout: 15_000, message: 'tile-spend-1 shows > $0' }).toBeGreaterThan(0);
    await expect.poll(() => dollars(page, 'header-spend'), { timeout: 15_000, message: 'header-spend shows > $0' }).toBeGreaterThan(0);
    await screenshot(page, '3-spend');
    // And the tile's terminal shows the agent's own output.
    await waitForTerminal(page, 1, 'all requests sent', 15_000);
    expect(await terminalText(page, 1)).toMatch(/request 3 200 complete/);
  });

  it('a real Claude Code asking for permission shows "needs you" and the title counts it', async () => {
    if (!existsSync(join(BIN_DIR, 'claude'))) throw new Error('node_modules/.bin/claude is missing — run npm install');
    const { engine, dash } = await engineAndPage();
    const { page } = dash;
    expect(await page.title()).not.toMatch(/(^|\D)1(\D|$)/);
    // A Write outside the worktree makes Claude Code ask, even under acceptEdits.
    await launchFromUi(
      page,
      `
name: e2e needs you
repo: ${makeRepo()}
agent: { preset: claude-code }
provider: { preset: custom, baseUrl: "${upstream.url}", style: anthropic, apiKeyEnv: ${KEY_VAR} }
model: kimi-k2.6
tasks: ${JSON.stringify(['WRITE ../outside.txt x'])}
`,
    );
    await page.getByTestId('tile-1').waitFor({ state: 'visible', timeout: 30_000 });
    await expect
      .poll(() => engine.registry.listSessions()[0]?.status, { timeout: 60_000, message: 'engine: session needs_you' })
      .toBe('needs_you');
    await expect
      .poll(async () => (await page.getByTestId('tile-status-1').textContent()) ?? '', {
        timeout: 15_000,
        message: 'tile-status-1 says needs you',
      })
      .toMatch(/needs[\s_-]*you/i);
    await expect.poll(() => page.title(), { timeout: 15_000, message: 'document.title counts 1 needing you' }).toMatch(/(^|\D)1(\D|$)/);
    await waitForTerminal(page, 1, /Do you want to create/, 20_000);
    await screenshot(page, '4-needs-you');
  });
});

describe('dashboard: the tile menu on a real Claude Code', () => {
  it('Resume from the tile menu carries the conversation on', async () => {
    if (!existsSync(join(BIN_DIR, 'claude'))) throw new Error('node_modules/.bin/claude is missing — run npm install');
    const { engine, dash } = await engineAndPage();
    const { page } = dash;
    await launchFromUi(
      page,
      `
name: e2e resume
repo: ${makeRepo()}
agent: { preset: claude-code-batch }
provider: { preset: custom, baseUrl: "${upstream.url}", style: anthropic, apiKeyEnv: ${KEY_VAR} }
model: kimi-k2.6
tasks: ${JSON.stringify(['WRITE notes.txt first turn'])}
`,
    );
    await expect.poll(() => engine.registry.listSessions()[0]?.status, { timeout: 90_000, message: 'the batch turn is done' }).toBe('done');
    const before = upstream.requests.length;
    await page.getByTestId('tile-menu-1').click();
    await page.getByTestId('tile-menu-resume').click();
    // The resumed conversation is on screen and its prompt waits for input.
    await waitForTerminal(page, 1, /first turn[\s\S]*accept edits on/, 60_000);
    await page.getByTestId('tile-1').click();
    await page.keyboard.type('SAY resumed fine');
    // Enter only once the prompt shows the text: keys that reach Claude Code in one burst read as a paste, and an Enter
    // inside a paste is a newline (seen once under full-suite load: the turn never went).
    await waitForTerminal(page, 1, /SAY resumed fine/, 30_000);
    await page.keyboard.press('Enter');
    const turn = () => upstream.requests.slice(before).find((r) => JSON.stringify(r.body?.messages ?? []).includes('resumed fine'));
    await expect.poll(() => turn() !== undefined, { timeout: 60_000, message: 'the new turn reached the upstream' }).toBe(true);
    expect(JSON.stringify(turn()!.body.messages)).toContain('WRITE notes.txt first turn');
    await screenshot(page, '6-resumed-from-menu');
  }, 180_000);
});
