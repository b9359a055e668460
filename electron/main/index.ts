// Electron main: one window, the security checklist, the engine as a utility process, a few native helpers.
// Kept thin on purpose: pty floods and git work live in the engine process, never here.
import { app, BrowserWindow, Notification, dialog, ipcMain, safeStorage, shell, utilityProcess, type IpcMainInvokeEvent } from 'electron';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { IpcChannels, type EngineEndpoint } from '../shared/ipc.ts';

let win: BrowserWindow | null = null;
let endpoint: EngineEndpoint | null = null;

/** Starts the engine (the same entry as `flotilla serve`) and waits for its URL and token. */
async function startEngine(): Promise<EngineEndpoint> {
  const entry = join(__dirname, 'engine-host.mjs');
  // Provider keys stay encrypted on disk (safeStorage); the engine gets them in its environment, by env-var name.
  const keys = await loadKeys().catch(() => ({}));
  const child = utilityProcess.fork(entry, [], {
    serviceName: 'flotilla-engine',
    stdio: 'inherit',
    env: { ...process.env, ...keys },
  });
  app.on('before-quit', () => child.kill());
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the engine exited during start-up (code ${code})`)));
    child.on('message', (msg: { type?: string; origin?: string; token?: string; error?: string }) => {
      if (msg.type === 'ready' && msg.origin && msg.token) resolve({ origin: msg.origin, token: msg.token });
      if (msg.type === 'error') reject(new Error(msg.error));
    });
  });
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
  ipcMain.handle(IpcChannels.notify, (e, title: unknown, body: unknown) => {
    if (!trusted(e) || typeof title !== 'string' || typeof body !== 'string') return;
    new Notification({ title, body }).show();
  });
  ipcMain.handle(IpcChannels.openPath, async (e, path: unknown) => {
    if (!trusted(e) || typeof path !== 'string' || !existsSync(path)) return 'no such folder';
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
}

function createWindow(ep: EngineEndpoint): void {
  win = new BrowserWindow({
    width: 1440,
    height: 900,
    title: 'Flotilla',
    backgroundColor: '#0d1117',
    webPreferences: {
      preload: join(__dirname, 'preload.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
    },
  });
  const contents = win.webContents;
  // No navigation away from the engine's page, no new windows; http(s) links open in the OS browser only.
  contents.on('will-navigate', (event, url) => {
    if (!url.startsWith(ep.origin)) event.preventDefault();
  });
  contents.setWindowOpenHandler(({ url }) => {
    if (/^https?:\/\//i.test(url) && !url.startsWith(ep.origin)) void shell.openExternal(url);
    return { action: 'deny' };
  });
  contents.session.setPermissionRequestHandler((_wc, permission, cb) => cb(permission === 'notifications'));
  void win.loadURL(`${ep.origin}/?token=${ep.token}`);
}

app.enableSandbox();
app.whenReady().then(async () => {
  registerHelpers();
  try {
    endpoint = await startEngine();
  } catch (err) {
    dialog.showErrorBox('Flotilla could not start its engine', (err as Error).message);
    app.quit();
    return;
  }
  createWindow(endpoint);
});
app.on('window-all-closed', () => app.quit());
