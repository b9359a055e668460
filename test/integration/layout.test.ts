// The packaged layout, in plain Node (Electron's binary cannot run here): build/electron-builder.yml's `files` applied
// to a fresh build in a folder of its own, then `npm ci --omit=dev` there — only the runtime dependencies. From that
// folder the engine host serves, `node bin/flotilla.js` runs its bundle (no sources, no tsx), and the demo runs to the
// end: edits, spend, a question answered, a conflict. Nothing may come from outside the layout.
import { describe, expect, it } from 'vitest';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { HttpEngineClient } from '../../electron/shared/client.ts';
import { tempDir } from '../fixtures/repo.ts';
import { waitFor } from '../fixtures/wait.ts';
import { startEngineHost } from '../fixtures/engine-host.ts';

const root = resolve(import.meta.dirname, '../..');

/** The `files` globs of the builder config, as this layout applies them (checked against the config itself). */
const FILES = ['dist', 'bin', 'package.json'];

describe('the packaged layout', () => {
  it('runs from files + npm ci --omit=dev alone: the CLI bundle, the engine host, the demo to the end', async () => {
    const config = readFileSync(join(root, 'build/electron-builder.yml'), 'utf8');
    for (const f of ['dist/**', 'bin/**', 'package.json', 'node_modules/**']) expect(config).toContain(`  - ${f}`);
    const app = tempDir('flotilla-layout-');
    // A fresh build straight into the layout (the checkout's dist/ stays as the other tests use it); the UI, if built.
    execFileSync(process.execPath, [join(root, 'build/build.mjs'), '--shell-only'], {
      cwd: root,
      stdio: 'pipe',
      env: { ...process.env, FLOTILLA_BUILD_OUT: join(app, 'dist/electron') },
    });
    if (existsSync(join(root, 'dist/renderer'))) cpSync(join(root, 'dist/renderer'), join(app, 'dist/renderer'), { recursive: true });
    for (const f of FILES.filter((f) => f !== 'dist')) cpSync(join(root, f), join(app, f), { recursive: true });
    cpSync(join(root, 'package-lock.json'), join(app, 'package-lock.json'));
    const ci = spawnSync('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund'], { cwd: app, encoding: 'utf8', timeout: 600_000 });
    expect(ci.status, ci.stderr).toBe(0);
    // Only what the bundles keep external is installed.
    expect(
      readdirSync(join(app, 'node_modules'))
        .filter((d) => !d.startsWith('.'))
        .sort(),
    ).toEqual(expect.arrayContaining(['node-pty', 'node-sqlite3-wasm']));
    for (const bundled of ['react', 'zod', 'ws', 'yaml', 'tsx', '@xterm'])
      expect(existsSync(join(app, 'node_modules', bundled)), bundled).toBe(false);
    // No bundle reaches back into the checkout it was built in.
    for (const f of readdirSync(join(app, 'dist/electron')).filter((n) => /\.(mjs|cjs)$/.test(n)))
      expect(readFileSync(join(app, 'dist/electron', f), 'utf8').includes(root), `${f} names ${root}`).toBe(false);

    const env = { ...process.env, NODE_PATH: '', FLOTILLA_HOME: tempDir('flotilla-layout-home-') };
    const cli = (...args: string[]) =>
      spawnSync(process.execPath, [join(app, 'bin/flotilla.js'), ...args], { cwd: app, env, encoding: 'utf8', timeout: 60_000 });
    expect(cli('--version').stdout.trim()).toBe(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version);
    expect(cli('--help').stdout).toMatch(/flotilla open/);

    // The engine host, as the desktop app starts it.
    const host = await startEngineHost(join(app, 'dist/electron/engine-host.mjs'), { cwd: app, env });
    try {
      const ok = await fetch(`${host.ready.origin}/api/health`, { headers: { authorization: `Bearer ${host.ready.token}` } });
      expect(ok.status).toBe(200);
    } finally {
      await host.stop();
    }

    // The demo through the bundled CLI: it needs the demo agent from the layout (it used to come from the sources).
    const dataDir = tempDir('flotilla-layout-data-');
    const demo = spawn(process.execPath, [join(app, 'bin/flotilla.js'), 'demo', '--count', '3', '--data-dir', dataDir], {
      cwd: app,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    demo.stderr.on('data', (d) => (err += d));
    try {
      const url = await new Promise<URL>((res, rej) => {
        let out = '';
        demo.stdout.on('data', (d) => {
          out += d;
          const m = /Open (http:\/\/\S+)/.exec(out);
          if (m) res(new URL(m[1]!));
        });
        demo.on('exit', (code) => rej(new Error(`demo exited ${code}: ${err}`)));
      });
      const api = new HttpEngineClient({ origin: url.origin, token: url.searchParams.get('token')! }, fetch);
      const asking = await waitFor(
        async () => (await api.call('listSessions', {})).find((s) => s.status === 'needs_you'),
        'the demo session that asks',
      );
      await api.call('input', { sessionId: asking.id, data: 'y\r' });
      const sessions = await waitFor(async () => {
        const all = await api.call('listSessions', {});
        return all.length === 3 && all.every((s) => s.status === 'done') && all;
      }, 'every demo session to end done');
      const report = await api.call('report', { runId: sessions[0]!.runId });
      expect(report.totals.usd).toBeGreaterThan(0);
      expect(report.sessions.every((s) => s.changedFiles.length > 0)).toBe(true);
      expect(report.conflicts.some((c) => c.path === 'src/config.ts')).toBe(true);
    } finally {
      demo.kill('SIGTERM');
      await new Promise((r) => demo.once('exit', r));
    }
  }, 900_000);

  it('the build fails when a bundle leaves a package to run time that the layout would not install', () => {
    const out = tempDir('flotilla-layout-check-');
    const r = spawnSync(process.execPath, [join(root, 'build/build.mjs'), '--shell-only'], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, FLOTILLA_BUILD_OUT: out, FLOTILLA_BUILD_EXTERNAL: 'yaml' },
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /the packaged layout would miss:\n\s+yaml \(imported by .*engine-host\.mjs at run time, not in package\.json dependencies\)/,
    );
  });
});
