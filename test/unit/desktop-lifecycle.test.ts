// The desktop app's decisions (electron/main/lifecycle.ts): Electron cannot run here, so what index.ts does with them
// — the close-window question, the tray's words, the engine's launch, when the engine counts as dead — is tested here.
import { describe, expect, it } from 'vitest';
import type { SessionStatus } from '../../electron/shared/contract.ts';
import {
  HEALTH_FAILURES,
  HEALTH_INTERVAL_MS,
  HealthWatch,
  allowedExternalUrl,
  allowedOpenPath,
  closeChoice,
  closeDialog,
  countSessions,
  engineCommand,
  onLastWindowClosed,
  trayText,
} from '../../electron/main/lifecycle.ts';

const of = (...statuses: SessionStatus[]) => statuses.map((status) => ({ status }));

describe('desktop lifecycle', () => {
  it('counts live sessions and those that need you; ended ones (interrupted too) do not count', () => {
    expect(countSessions(of('working', 'idle', 'needs_you', 'over_budget', 'done', 'failed', 'stopped', 'interrupted', 'queued'))).toEqual({
      live: 5,
      working: 3,
      needYou: 2,
    });
    expect(countSessions([])).toEqual({ live: 0, working: 0, needYou: 0 });
  });

  it('closing the last window asks only while sessions are live; Keep is the default, Cancel the escape', () => {
    expect(onLastWindowClosed(countSessions(of('done', 'stopped')))).toBe('quit');
    expect(onLastWindowClosed(countSessions(of('working')))).toBe('ask');
    const d = closeDialog(countSessions(of('working', 'working', 'needs_you')));
    expect(d.buttons).toEqual(['Keep 3 sessions running in the background', 'Stop them', 'Cancel']);
    expect(d.defaultId).toBe(0);
    expect(d.cancelId).toBe(2);
    expect(d.detail).toMatch(/1 needs you now/);
    expect(closeDialog(countSessions(of('idle'))).buttons).toEqual(['Keep 1 session running in the background', 'Stop it', 'Cancel']);
    expect([0, 1, 2, -1].map(closeChoice)).toEqual(['background', 'stop', 'cancel', 'cancel']);
  });

  it('the tray says how many work and need you, and when the engine is unreachable', () => {
    expect(trayText(countSessions(of('working', 'needs_you', 'rejected')))).toEqual({
      title: '2',
      tooltip: 'Flotilla — 1 working · 2 need you',
    });
    expect(trayText(countSessions(of('working', 'idle')))).toEqual({ title: '2', tooltip: 'Flotilla — 2 working' });
    expect(trayText(countSessions(of('done')))).toEqual({ title: '', tooltip: 'Flotilla — no live sessions' });
    expect(trayText(null).tooltip).toMatch(/cannot be reached/);
  });

  it('starts the engine as the Electron binary in Node mode on the bundled host, keys in its environment only', () => {
    const c = engineCommand({
      execPath: '/opt/Flotilla/flotilla',
      bundleDir: '/opt/Flotilla/resources/app.asar/dist/electron',
      env: { PATH: '/usr/bin' },
      keys: { MOONSHOT_API_KEY: 'sk-1' },
    });
    expect(c.command).toBe('/opt/Flotilla/flotilla');
    expect(c.args).toEqual(['/opt/Flotilla/resources/app.asar/dist/electron/engine-host.mjs']);
    expect(c.env).toMatchObject({ PATH: '/usr/bin', MOONSHOT_API_KEY: 'sk-1', ELECTRON_RUN_AS_NODE: '1', FLOTILLA_DETACHED: '1' });
    expect(c.args.join(' ')).not.toContain('sk-1');
  });

  it('the engine counts as dead after two missed health checks in a row (within 2 s), once; and back once it answers', () => {
    expect(HEALTH_INTERVAL_MS * HEALTH_FAILURES).toBeLessThanOrEqual(2000);
    const h = new HealthWatch();
    expect(h.note(true)).toBeNull();
    expect(h.note(false)).toBeNull();
    expect(h.note(true)).toBeNull(); // one miss is not a death
    expect(h.note(false)).toBeNull();
    expect(h.note(false)).toBe('died');
    expect(h.isDead).toBe(true);
    expect(h.note(false)).toBeNull(); // said once
    expect(h.note(true)).toBe('back');
    expect(h.note(true)).toBeNull();
  });

  it('opens only the data dir, its contents and session worktrees as folders; only http(s) links in the browser', () => {
    const o = { dataDir: '/home/u/.flotilla', worktrees: ['/home/u/code/app'] };
    expect(allowedOpenPath('/home/u/.flotilla/worktrees/r1/slot-1', o)).toBe(true);
    expect(allowedOpenPath('/home/u/.flotilla', o)).toBe(true);
    expect(allowedOpenPath('/home/u/code/app', o)).toBe(true);
    expect(allowedOpenPath('/home/u/code/app/src', o)).toBe(true);
    for (const bad of [
      '/home/u/.flotilla/../.ssh',
      '/home/u/.flotilla-evil',
      '/etc/passwd',
      'relative/path',
      '',
      42,
      null,
      '/home/u/code/app2',
    ])
      expect(allowedOpenPath(bad, o), String(bad)).toBe(false);
    expect(allowedExternalUrl('https://platform.moonshot.ai/console', 'http://127.0.0.1:4000')).toBe(true);
    expect(allowedExternalUrl('http://localhost:3000/', 'http://127.0.0.1:4000')).toBe(true);
    for (const bad of ['file:///etc/passwd', 'javascript:alert(1)', 'smb://host/share', 'http://127.0.0.1:4000/?token=x', 'not a url', 7])
      expect(allowedExternalUrl(bad, 'http://127.0.0.1:4000'), String(bad)).toBe(false);
  });
});
