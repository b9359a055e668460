// Electron main: one window on the data dir's background engine, the security checklist, a tray while sessions run in
// the background, a few native helpers. Kept thin on purpose: the engine is a detached process of its own (it outlives
// the app), and every decision here is a plain function in lifecycle.ts that unit tests cover.
import {
  app,
  BrowserWindow,
  Menu,
  Notification,
  Tray,
  dialog,
  ipcMain,
  nativeImage,
  safeStorage,
  screen,
  shell,
  type IpcMainInvokeEvent,
} from 'electron';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { IpcChannels, type EngineEndpoint } from '../shared/ipc.ts';
import { HttpEngineClient } from '../shared/client.ts';
import { findEngine, startDetached, stopEngine } from '../engine/daemon.ts';
import { LOG_DIR, RotatingLog, envSecrets, redact } from '../engine/logs.ts';
import { aboutText, appMenuTemplate } from './menu.ts';
import { WINDOW_STATE_FILE, parseWindowState, placeWindow, windowStateText, type WindowState } from './window-state.ts';
import { loginShellEnv } from './shell-env.ts';
import { defaultDataDir, ensureDataDir } from '../engine/store/data-dir.ts';
import {
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
  type SessionCounts,
} from './lifecycle.ts';

let win: BrowserWindow | null = null;
let tray: Tray | null = null;
let endpoint: EngineEndpoint | null = null;
let dataDir = '';
let quitting = false;
const health = new HealthWatch();
let mainLog: RotatingLog | null = null;

/** The main process's own log (logs/main.log in the data dir, scrubbed like the engine's), and the console. */
function warn(line: string): void {
  mainLog?.write(line);
  console.warn(`flotilla: ${redact(line)}`);
}

/** Attaches to the data dir's engine, or starts it detached (it goes on when the app quits). */
async function ensureEngine(): Promise<EngineEndpoint> {
  dataDir = await ensureDataDir(defaultDataDir());
  mainLog ??= new RotatingLog(dataDir, 'main', () => envSecrets(process.env));
  const found = await findEngine(dataDir);
  if (found) return { origin: found.origin, token: found.token };
  // Provider keys stay encrypted on disk (safeStorage); the engine gets them in its environment, by env-var name.
  const keys = await loadKeys().catch(() => ({}));
  // Started from a dock or launcher, the app's PATH lacks the user's tools: the engine and the agents get the login
  // shell's environment instead.
  const env = await loginShellEnv(process.env);
  const started = await startDetached(dataDir, engineCommand({ execPath: process.execPath, bundleDir: __dirname, env, keys }));
  return { origin: started.origin, token: started.token };
}

async function sessionCounts(): Promise<SessionCounts | null> {
  if (!endpoint) return null;
  try {
    return countSessions(await new HttpEngineClient(endpoint, fetch).call('listSessions', {}));
  } catch {
    return null;
  }
}

/** One health check a second; after two misses in a row the app says the engine is gone and offers to restart it. */
function watchHealth(): void {
  setInterval(async () => {
    if (!endpoint) return;
    let ok = false;
    try {
      ok = (
        await fetch(`${endpoint.origin}/api/health`, {
          headers: { authorization: `Bearer ${endpoint.token}` },
          signal: AbortSignal.timeout(900),
        })
      ).ok;
    } catch {
      ok = false;
    }
    if (health.note(ok) === 'died') void engineDied();
  }, HEALTH_INTERVAL_MS).unref();
}

async function engineDied(): Promise<void> {
  const r = await dialog.showMessageBox({
    type: 'warning',
    message: 'The Flotilla engine stopped',
    detail: 'Its sessions were interrupted. Restart it: Claude Code sessions can be resumed where they were, others restarted.',
    buttons: ['Restart engine', 'Quit'],
    defaultId: 0,
    cancelId: 1,
  });
  if (r.response === 0) await restartEngine();
  else app.quit();
}

async function restartEngine(): Promise<boolean> {
  try {
    endpoint = await ensureEngine();
    health.note(true);
    if (win) void win.loadURL(`${endpoint.origin}/?token=${endpoint.token}`);
    else createWindow();
    return true;
  } catch (err) {
    dialog.showErrorBox('Flotilla could not start its engine', (err as Error).message);
    return false;
  }
}

/** Only the renderer's own page may call the helpers (validate every IPC sender). */
function trusted(e: IpcMainInvokeEvent): boolean {
  return endpoint !== null && win !== null && e.sender === win.webContents && (e.senderFrame?.url ?? '').startsWith(endpoint.origin);
}

const keysFile = () => join(app.getPath('userData'), 'provider-keys.bin');

async function loadKeys(): Promise<Record<string, string>> {
  if (!existsSync(keysFile()) || !safeStorage.isEncryptionAvailable()) return {};
  return JSON.parse(safeStorage.decryptString(await readFile(keysFile()))) as Record<string, string>;
}

function registerHelpers(): void {
  ipcMain.handle(IpcChannels.endpoint, (e) => (trusted(e) ? endpoint : null));
  ipcMain.handle(IpcChannels.pickFolder, async (e) => {
    if (!trusted(e) || !win) return null;
    const r = await dialog.showOpenDialog(win, { properties: ['openDirectory'] });
    return r.canceled ? null : (r.filePaths[0] ?? null);
  });
  ipcMain.handle(IpcChannels.notify, (e, title: unknown, body: unknown, sessionId: unknown) => {
    if (!trusted(e) || typeof title !== 'string' || typeof body !== 'string') return;
    const n = new Notification({ title, body });
    // A click brings the window up on that session's tile.
    n.on('click', () => {
      reopen();
      if (typeof sessionId === 'string') win?.webContents.send(IpcChannels.focusSession, sessionId);
    });
    n.show();
  });
  ipcMain.handle(IpcChannels.badge, (e, count: unknown) => {
    if (!trusted(e) || typeof count !== 'number' || !Number.isInteger(count) || count < 0) return;
    app.setBadgeCount(count);
  });
  ipcMain.handle(IpcChannels.openPath, async (e, path: unknown) => {
    if (!trusted(e)) return 'refused';
    const worktrees = endpoint
      ? (await new HttpEngineClient(endpoint, fetch).call('listSessions', {}).catch(() => [])).map((s) => s.worktree)
      : [];
    if (!allowedOpenPath(path, { dataDir, worktrees })) {
      warn(`refused to open ${JSON.stringify(path)}: not the data dir or a session's worktree`);
      return 'refused: only the data dir and session worktrees can be opened';
    }
    if (!existsSync(path)) return 'no such folder';
    return shell.openPath(path);
  });
  ipcMain.handle(IpcChannels.setProviderKey, async (e, name: unknown, value: unknown) => {
    if (!trusted(e) || typeof name !== 'string' || typeof value !== 'string') return false;
    if (!safeStorage.isEncryptionAvailable()) return false;
    const keys = { ...(await loadKeys()), [name]: value };
    await mkdir(app.getPath('userData'), { recursive: true });
    await writeFile(keysFile(), safeStorage.encryptString(JSON.stringify(keys)), { mode: 0o600 });
    return true;
  });
  ipcMain.handle(IpcChannels.panel, (e) => (trusted(e) ? windowState().panel : null));
  ipcMain.handle(IpcChannels.setPanel, (e, panel: unknown) => {
    if (!trusted(e) || (panel !== null && typeof panel !== 'string')) return;
    saveWindowState({ ...windowState(), panel: parseWindowState(JSON.stringify({ panel })).panel });
  });
  // The page's "Restart engine" (its connection is gone; the page's origin may change with the new engine).
  ipcMain.handle(IpcChannels.restartEngine, (e) => (e.sender === win?.webContents ? restartEngine() : false));
}

// The window's size, position and open panel (window-state.json in the app's user data).
const stateFile = () => join(app.getPath('userData'), WINDOW_STATE_FILE);
let savedState: WindowState | null = null;
function windowState(): WindowState {
  savedState ??= parseWindowState(existsSync(stateFile()) ? readFileSync(stateFile(), 'utf8') : null);
  return savedState;
}
let saveTimer: NodeJS.Timeout | null = null;
function saveWindowState(s: WindowState): void {
  savedState = s;
  if (saveTimer) clearTimeout(saveTimer);
  saveTimer = setTimeout(() => {
    saveTimer = null;
    void mkdir(app.getPath('userData'), { recursive: true })
      .then(() => writeFile(stateFile(), windowStateText(s)))
      .catch((err: Error) => warn(`cannot save the window's state: ${err.message}`));
  }, 300);
}
function noteBounds(w: BrowserWindow): void {
  if (w.isDestroyed() || w.isMinimized()) return;
  const b = w.isMaximized() || w.isFullScreen() ? w.getNormalBounds() : w.getBounds();
  saveWindowState({ ...windowState(), bounds: b, maximized: w.isMaximized() });
}

function appMenu(): Menu {
  return Menu.buildFromTemplate(
    appMenuTemplate(process.platform, {
      about: () => {
        const a = aboutText({
          version: app.getVersion(),
          electron: process.versions.electron ?? '?',
          chrome: process.versions.chrome ?? '?',
          node: process.versions.node,
          platform: `${process.platform} ${process.arch}`,
        });
        void dialog.showMessageBox({ type: 'info', ...a, buttons: ['OK'] });
      },
      command: (c) => {
        if (!win) reopen();
        win?.webContents.send(IpcChannels.command, c);
      },
      openLogs: () => void shell.openPath(join(dataDir, LOG_DIR)).then((err) => err && warn(`cannot open the logs folder: ${err}`)),
      openReadme: () => {
        const home = (JSON.parse(readFileSync(join(app.getAppPath(), 'package.json'), 'utf8')) as { homepage?: string }).homepage;
        if (home && allowedExternalUrl(home, null)) void shell.openExternal(home);
      },
      // As closing the window: with live sessions it asks whether they keep running.
      quit: () => (win ? win.close() : quit()),
    }),
  );
}

function createWindow(): void {
  if (!endpoint) return;
  const ep = endpoint;
  const saved = windowState();
  win = new BrowserWindow({
    ...placeWindow(
      saved,
      screen.getAllDisplays().map((d) => d.workArea),
    ),
    minWidth: 800,
    minHeight: 500,
    title: 'Flotilla',
    icon: join(__dirname, 'icon.png'),
    backgroundColor: '#0d1117',
    webPreferences: {
      preload: join(__dirname, 'preload.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      // Terminals ack output once xterm parsed it: a minimized window must keep parsing (on timers; see
      // renderer/src/terminal/scheduler.ts), or every agent's output would stall at the flow-control watermark.
      backgroundThrottling: false,
    },
  });
  const contents = win.webContents;
  // No navigation away from the engine's page, no new windows; http(s) links open in the OS browser only.
  contents.on('will-navigate', (event, url) => {
    if (!endpoint || !url.startsWith(endpoint.origin)) event.preventDefault();
  });
  contents.setWindowOpenHandler(({ url }) => {
    if (allowedExternalUrl(url, endpoint?.origin ?? null)) void shell.openExternal(url);
    else warn(`refused to open ${JSON.stringify(url.slice(0, 200))} outside the app: only http(s) links`);
    return { action: 'deny' };
  });
  contents.session.setPermissionRequestHandler((_wc, permission, cb) => cb(permission === 'notifications'));
  win.on('close', (event) => {
    if (quitting) return;
    event.preventDefault();
    void onClose();
  });
  if (saved.maximized) win.maximize();
  const w = win;
  for (const ev of ['resize', 'move', 'maximize', 'unmaximize'] as const) w.on(ev as 'resize', () => noteBounds(w));
  win.on('closed', () => (win = null));
  void win.loadURL(`${ep.origin}/?token=${ep.token}`);
  hideTray();
}

/** The last window closes: with live sessions ask (keep them in the background / stop them / cancel). */
async function onClose(): Promise<void> {
  const counts = (await sessionCounts()) ?? { live: 0, working: 0, needYou: 0 };
  if (onLastWindowClosed(counts) === 'quit') return quit();
  const d = closeDialog(counts);
  const r = await dialog.showMessageBox(win!, { type: 'question', ...d });
  const choice = closeChoice(r.response);
  if (choice === 'cancel') return;
  if (choice === 'stop') {
    await stopEngine(dataDir).catch((err: Error) => dialog.showErrorBox('Flotilla could not stop its engine', err.message));
    return quit();
  }
  // Background: the window goes, the engine and the tray stay.
  win?.destroy();
  showTray();
}

function quit(): void {
  quitting = true;
  app.quit();
}

function showTray(): void {
  if (!tray) {
    // tray.png beside the bundle (from build/icon.svg; tray@2x.png on HiDPI screens).
    tray = new Tray(nativeImage.createFromPath(join(__dirname, 'tray.png')));
    tray.on('click', () => reopen());
    tray.setContextMenu(
      Menu.buildFromTemplate([
        { label: 'Open Flotilla', click: () => reopen() },
        { label: 'Stop sessions and quit', click: () => void stopEngine(dataDir).finally(quit) },
        { label: 'Quit (sessions keep running)', click: () => quit() },
      ]),
    );
  }
  void updateTray();
}

async function updateTray(): Promise<void> {
  if (!tray) return;
  const t = trayText(await sessionCounts());
  tray.setToolTip(t.tooltip);
  if (process.platform === 'darwin') tray.setTitle(t.title);
  setTimeout(() => void updateTray(), 2000).unref();
}

function hideTray(): void {
  tray?.destroy();
  tray = null;
}

function reopen(): void {
  if (win) {
    if (win.isMinimized()) win.restore();
    win.show();
    win.focus();
  } else createWindow();
}

app.enableSandbox();
// One app per user: a second start focuses the first one's window.
if (!app.requestSingleInstanceLock()) app.quit();
else {
  app.on('second-instance', () => reopen());
  app.whenReady().then(async () => {
    // Not Electron's default menu (it binds Ctrl+R, Ctrl+W, Ctrl+C… that agents need): menu.ts's.
    Menu.setApplicationMenu(appMenu());
    registerHelpers();
    try {
      endpoint = await ensureEngine();
    } catch (err) {
      dialog.showErrorBox('Flotilla could not start its engine', (err as Error).message);
      app.quit();
      return;
    }
    watchHealth();
    createWindow();
  });
  // Windows closing never quits by themselves: onClose decides (and the tray keeps the app while sessions run).
  app.on('window-all-closed', () => {});
  app.on('before-quit', () => (quitting = true));
}
