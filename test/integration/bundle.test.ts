// The Electron shell is bundled with esbuild and cannot be launched here (no Electron binary offline), so this checks
// what can be checked: the bundles build, main/preload keep `electron` external, and the engine host bundle runs in
// plain Node, serves the token-protected API and runs a session's pty in the bundled pty host.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { HttpEngineClient } from '../../electron/shared/client.ts';
import { findEngine, startDetached, stopEngine } from '../../electron/engine/daemon.ts';
import { engineCommand } from '../../electron/main/lifecycle.ts';
import { makeRepo, tempDir } from '../fixtures/repo.ts';
import { waitFor } from '../fixtures/wait.ts';
import { startEngineHost } from '../fixtures/engine-host.ts';

const root = resolve(import.meta.dirname, '../..');

describe('desktop bundles', () => {
  it('build, and the bundled engine host serves the API', async () => {
    execFileSync(process.execPath, [resolve(root, 'build/build.mjs'), '--shell-only'], { cwd: root, stdio: 'pipe' });
    const main = readFileSync(resolve(root, 'dist/electron/main.cjs'), 'utf8');
    expect(main).toContain('require("electron")');
    expect(main).toContain('contextIsolation: true');
    expect(main).toContain('sandbox: true');
    expect(main).toContain('nodeIntegration: false');
    expect(main).toContain('backgroundThrottling: false');
    const preload = readFileSync(resolve(root, 'dist/electron/preload.cjs'), 'utf8');
    expect(preload).toContain('exposeInMainWorld');

    const host = await startEngineHost(resolve(root, 'dist/electron/engine-host.mjs'), {
      env: { ...process.env, FLOTILLA_HOME: tempDir('flotilla-host-') },
    });
    const { ready } = host;
    try {
      expect(ready.origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const denied = await fetch(`${ready.origin}/api/health`);
      expect(denied.status).toBe(401);
      const ok = await fetch(`${ready.origin}/api/health`, { headers: { authorization: `Bearer ${ready.token}` } });
      expect(await ok.json()).toEqual({ ok: true });

      // A session through the bundle: its pty runs in the bundled pty host (dist/electron/pty-host.mjs).
      const api = new HttpEngineClient(ready, fetch);
      const { sessions } = await api.call('launch', {
        templateText: `name: bundled\nrepo: ${makeRepo()}\nagent: { preset: shell, command: node, args: ["-e", "console.log('from the bundled pty host')"] }\nprovider: { preset: custom, baseUrl: "http://127.0.0.1:9" }\n`,
      });
      await waitFor(
        async () => (await api.call('listSessions', {})).find((s) => s.id === sessions[0]!.id)?.status === 'done',
        'the bundled session to end done',
      );
      expect((await api.call('snapshot', { sessionId: sessions[0]!.id })).data).toContain('from the bundled pty host');
    } finally {
      await host.stop();
    }
  });

  it('the desktop app starts the bundled engine detached (engineCommand) and finds and stops it like the CLI', async () => {
    execFileSync(process.execPath, [resolve(root, 'build/build.mjs'), '--shell-only'], { cwd: root, stdio: 'pipe' });
    const dataDir = tempDir('flotilla-app-engine-');
    // Node stands in for the Electron binary (ELECTRON_RUN_AS_NODE makes Electron a Node; Node ignores it).
    const cmd = engineCommand({
      execPath: process.execPath,
      bundleDir: resolve(root, 'dist/electron'),
      env: { ...process.env, FLOTILLA_HOME: dataDir },
      keys: { FLOTILLA_TEST_KEY: 'sk-app-key' },
    });
    const started = await startDetached(dataDir, cmd);
    try {
      expect(await findEngine(dataDir)).toMatchObject({ pid: started.pid, origin: started.origin });
      for (const f of readdirSync(resolve(dataDir, 'logs')))
        expect(readFileSync(resolve(dataDir, 'logs', f), 'utf8'), f).not.toContain(started.token);
    } finally {
      expect((await stopEngine(dataDir))?.pid).toBe(started.pid);
    }
    expect(await findEngine(dataDir)).toBeNull();
  });
});
