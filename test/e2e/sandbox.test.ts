// A sandboxed session in the cockpit: launched from the dialog, its tile says it is in a container and with what
// limits, its terminal is the container's TTY (what the agent prints inside, typed input echoed back), and after a
// reload the screen comes back from the engine's mirror.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LABEL_RUN } from '../../electron/engine/sandbox/index.ts';
import { HOST_MOUNTS, MACHINE_SANDBOX, cannotRunPodman, ensureTestImage, removeContainersWith } from '../fixtures/podman.ts';
import { makeRepo } from '../fixtures/repo.ts';
import { KEY_VAR, ROOT, launchFromUi, screenshot, useE2E, waitForTerminal } from './fixtures.ts';

const e2e = useE2E('sandbox', { upstream: true });
const runs: string[] = [];
beforeAll(() => {
  if (!cannotRunPodman) ensureTestImage();
}, 120_000);
afterAll(() => {
  for (const r of runs) removeContainersWith(`${LABEL_RUN}=${r}`);
});

describe.skipIf(cannotRunPodman !== null)(`a sandboxed tile${cannotRunPodman ? ` (skipped: ${cannotRunPodman})` : ''}`, () => {
  it('says it is in a container, shows the TTY inside, echoes typing, and comes back after a reload', async () => {
    const engine = await e2e.engine();
    const { page } = await e2e.dashboard(engine);
    const agent =
      'console.log("inside: uid " + process.getuid() + ", net " + Object.keys(require("os").networkInterfaces()).join(",")); process.stdin.on("data", (d) => process.stdout.write("got " + d));';
    const sandbox = {
      image: 'localhost/flotilla-test:busybox',
      ...MACHINE_SANDBOX,
      cpus: 1,
      memory: '512m',
      mounts: [...HOST_MOUNTS, join(ROOT, 'node_modules')],
    };
    await launchFromUi(
      page,
      `
name: e2e sandbox
repo: ${makeRepo()}
agent: { preset: shell, command: node, args: ["-e", ${JSON.stringify(agent)}] }
provider: { preset: custom, baseUrl: "${e2e.upstream().url}", style: anthropic, apiKeyEnv: ${KEY_VAR} }
model: kimi-k2.6
sandbox: ${JSON.stringify(sandbox)}
`,
    );
    runs.push(...engine.registry.listRuns().map((r) => r.id));
    expect(await page.getByTestId('tile-sandbox-1').textContent()).toBe('podman · 1 CPU · 512m · meter-only');
    // Inside: no network interface but loopback.
    await waitForTerminal(page, 1, 'inside: uid 0, net lo', 60_000);
    await page.getByTestId('terminal-1').click();
    await page.keyboard.type('hello box');
    await page.keyboard.press('Enter');
    await waitForTerminal(page, 1, 'got hello box');
    await screenshot(page, 'sandbox-1-tile');
    await page.reload();
    await page.getByTestId('launch-button').waitFor({ state: 'visible', timeout: 20_000 });
    await waitForTerminal(page, 1, 'got hello box', 30_000);
  }, 180_000);
});
