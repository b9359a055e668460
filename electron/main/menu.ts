// The app menu, as a plain function of the platform (index.ts builds it with Menu.buildFromTemplate). Not Electron's
// default menu: that one binds Ctrl+R (reload), Ctrl+W, Ctrl+C/V and F11 on Linux and Windows — keys a terminal agent
// needs (Ctrl+R searches history, Ctrl+C interrupts). Here every accelerator off macOS carries Ctrl+Shift; on macOS
// Cmd (which no terminal program receives). A unit test holds that rule for every item.
import type { MenuItemConstructorOptions } from 'electron';
import type { AppCommand } from '../shared/ipc.ts';

export interface MenuActions {
  about(): void;
  /** Asks the page to run one of its commands (open Settings, the launch dialog, …). */
  command(c: AppCommand): void;
  openLogs(): void;
  openReadme(): void;
  quit(): void;
}

export interface AboutInfo {
  version: string;
  electron: string;
  chrome: string;
  node: string;
  platform: string;
}

/** The About box's text: the versions a bug report needs. */
export function aboutText(a: AboutInfo): { message: string; detail: string } {
  return {
    message: `Flotilla ${a.version}`,
    detail: `Electron ${a.electron}\nChromium ${a.chrome}\nNode ${a.node}\n${a.platform}\n\nMany coding agents at once, at the prices they really cost.`,
  };
}

export function appMenuTemplate(platform: NodeJS.Platform, act: MenuActions): MenuItemConstructorOptions[] {
  const mac = platform === 'darwin';
  // mac: Cmd+<key>; elsewhere Ctrl+Shift+<key> (never a key an agent can receive).
  const key = (k: string) => (mac ? `Cmd+${k}` : `Ctrl+Shift+${k}`);
  const about: MenuItemConstructorOptions = { label: 'About Flotilla', click: () => act.about() };
  const preferences: MenuItemConstructorOptions = {
    label: 'Preferences…',
    accelerator: mac ? 'Cmd+,' : 'Ctrl+Shift+,',
    click: () => act.command('preferences'),
  };
  const quit: MenuItemConstructorOptions = { label: mac ? 'Quit Flotilla' : 'Quit', accelerator: key('Q'), click: () => act.quit() };
  const menu: MenuItemConstructorOptions[] = [];
  if (mac)
    menu.push({
      label: 'Flotilla',
      submenu: [
        about,
        { type: 'separator' },
        preferences,
        { type: 'separator' },
        { role: 'services' },
        { type: 'separator' },
        { role: 'hide' },
        { role: 'hideOthers' },
        { role: 'unhide' },
        { type: 'separator' },
        quit,
      ],
    });
  menu.push({
    label: 'File',
    submenu: [
      { label: 'Launch sessions…', accelerator: key('L'), click: () => act.command('launch') },
      ...(mac ? [] : [{ type: 'separator' } as const, preferences]),
      { type: 'separator' },
      { role: 'close', accelerator: key('W') },
      ...(mac ? [] : [quit]),
    ],
  });
  menu.push({
    label: 'Edit',
    submenu: [
      { role: 'undo', accelerator: key('Z') },
      { role: 'redo', accelerator: mac ? 'Cmd+Shift+Z' : 'Ctrl+Shift+Y' },
      { type: 'separator' },
      { role: 'cut', accelerator: key('X') },
      { role: 'copy', accelerator: key('C') },
      { role: 'paste', accelerator: key('V') },
      { role: 'selectAll', accelerator: key('A') },
    ],
  });
  menu.push({
    label: 'View',
    submenu: [
      { label: 'Command palette…', accelerator: mac ? 'Cmd+Shift+P' : 'Ctrl+Shift+P', click: () => act.command('palette') },
      { label: 'Back to the grid', accelerator: mac ? 'Cmd+Shift+G' : 'Ctrl+Shift+G', click: () => act.command('grid') },
      { type: 'separator' },
      { role: 'reload', accelerator: mac ? 'Cmd+Shift+R' : 'Ctrl+Shift+R' },
      { role: 'toggleDevTools', accelerator: mac ? 'Cmd+Alt+I' : 'Ctrl+Shift+I' },
      ...(mac ? [{ type: 'separator' } as const, { role: 'togglefullscreen', accelerator: 'Ctrl+Cmd+F' } as const] : []),
    ],
  });
  if (mac) menu.push({ role: 'windowMenu' });
  menu.push({
    label: 'Help',
    submenu: [
      { label: 'Flotilla README', click: () => act.openReadme() },
      { label: 'Open logs', click: () => act.openLogs() },
      ...(mac ? [] : [{ type: 'separator' } as const, about]),
    ],
  });
  return menu;
}

/** Every accelerator of a template, with its item's label or role (for the rule's test). */
export function accelerators(items: MenuItemConstructorOptions[]): { item: string; accelerator: string }[] {
  const out: { item: string; accelerator: string }[] = [];
  for (const i of items) {
    if (i.accelerator) out.push({ item: i.label ?? String(i.role), accelerator: String(i.accelerator) });
    if (Array.isArray(i.submenu)) out.push(...accelerators(i.submenu));
  }
  return out;
}
