// The app menu and the remembered window: plain functions the Electron main process wires (its binary cannot run here).
import { describe, expect, it } from 'vitest';
import type { MenuItemConstructorOptions } from 'electron';
import { aboutText, accelerators, appMenuTemplate } from '../../electron/main/menu.ts';
import { DEFAULT_WINDOW, parseWindowState, placeWindow, windowStateText } from '../../electron/main/window-state.ts';

function noop() {
  const calls: string[] = [];
  return {
    calls,
    act: {
      about: () => calls.push('about'),
      command: (c: string) => calls.push(`command:${c}`),
      openLogs: () => calls.push('logs'),
      openReadme: () => calls.push('readme'),
      quit: () => calls.push('quit'),
    },
  };
}

function find(items: MenuItemConstructorOptions[], label: string): MenuItemConstructorOptions | undefined {
  for (const i of items) {
    if (i.label === label) return i;
    if (Array.isArray(i.submenu)) {
      const f = find(i.submenu, label);
      if (f) return f;
    }
  }
  return undefined;
}

describe('app menu', () => {
  it('never binds a key an agent can receive: Ctrl+Shift off macOS, Cmd on macOS', () => {
    for (const platform of ['linux', 'win32'] as const) {
      const list = accelerators(appMenuTemplate(platform, noop().act));
      expect(list.length).toBeGreaterThan(8);
      for (const a of list) expect(a.accelerator, `${platform} ${a.item}`).toMatch(/^Ctrl\+Shift\+/);
    }
    for (const a of accelerators(appMenuTemplate('darwin', noop().act))) expect(a.accelerator, a.item).toMatch(/Cmd/);
    // Roles that carry a default accelerator (Ctrl+R reload, Ctrl+C copy, Ctrl+W close) all get one of ours.
    const roles = (items: MenuItemConstructorOptions[]): MenuItemConstructorOptions[] =>
      items.flatMap((i) => [...(i.role ? [i] : []), ...(Array.isArray(i.submenu) ? roles(i.submenu) : [])]);
    const withDefaults = new Set([
      'reload',
      'copy',
      'paste',
      'cut',
      'close',
      'undo',
      'redo',
      'selectAll',
      'toggleDevTools',
      'togglefullscreen',
    ]);
    for (const r of roles(appMenuTemplate('linux', noop().act)))
      if (withDefaults.has(String(r.role))) expect(r.accelerator, String(r.role)).toBeTruthy();
  });

  it('has About, Preferences (the Settings panel) and Help → Open logs, on every platform', () => {
    for (const platform of ['linux', 'darwin', 'win32'] as const) {
      const { act, calls } = noop();
      const menu = appMenuTemplate(platform, act);
      for (const label of ['About Flotilla', 'Preferences…', 'Open logs', 'Flotilla README', 'Launch sessions…'])
        expect(find(menu, label), `${platform}: ${label}`).toBeTruthy();
      const click = (label: string) => (find(menu, label)!.click as () => void)();
      click('About Flotilla');
      click('Preferences…');
      click('Open logs');
      click('Launch sessions…');
      expect(calls).toEqual(['about', 'command:preferences', 'logs', 'command:launch']);
    }
    expect(appMenuTemplate('darwin', noop().act)[0]!.label).toBe('Flotilla');
  });

  it('About names the versions a bug report needs', () => {
    const a = aboutText({ version: '0.1.0', electron: '45.0.0', chrome: '140.0', node: '22.20.0', platform: 'linux x64' });
    expect(a.message).toBe('Flotilla 0.1.0');
    expect(a.detail).toMatch(/Electron 45\.0\.0\nChromium 140\.0\nNode 22\.20\.0\nlinux x64/);
  });
});

describe('window state', () => {
  const screen = [{ x: 0, y: 0, width: 1920, height: 1080 }];
  it('reads back what it wrote; a broken or missing file is the default', () => {
    const s = { bounds: { x: 100, y: 50, width: 1200, height: 800 }, maximized: true, panel: 'review' };
    expect(parseWindowState(windowStateText(s))).toEqual(s);
    expect(parseWindowState(null)).toEqual(DEFAULT_WINDOW);
    expect(parseWindowState('{not json')).toEqual(DEFAULT_WINDOW);
    expect(parseWindowState('{"bounds":{"width":"wide","height":10},"panel":"../../x"}')).toEqual({
      bounds: { width: 1440, height: 500 },
      maximized: false,
      panel: null,
    });
  });

  it('opens where it was when a display shows it, centred when that display is gone, never larger than the screen', () => {
    const saved = parseWindowState(windowStateText({ bounds: { x: 100, y: 50, width: 1200, height: 800 }, maximized: false, panel: null }));
    expect(placeWindow(saved, screen)).toEqual({ x: 100, y: 50, width: 1200, height: 800 });
    // Saved on a second monitor that is unplugged now.
    const offscreen = { ...saved, bounds: { ...saved.bounds, x: 2500 } };
    expect(placeWindow(offscreen, screen)).toEqual({ width: 1200, height: 800 });
    // Its title bar above the screen's top: not reachable, so centred.
    expect(placeWindow({ ...saved, bounds: { ...saved.bounds, y: -300 } }, screen)).toEqual({ width: 1200, height: 800 });
    const huge = { ...saved, bounds: { width: 4000, height: 3000 } };
    expect(placeWindow(huge, screen)).toEqual({ width: 1920, height: 1080 });
    expect(placeWindow(saved, [...screen, { x: 1920, y: 0, width: 2560, height: 1440 }])).toEqual({
      x: 100,
      y: 50,
      width: 1200,
      height: 800,
    });
  });
});
