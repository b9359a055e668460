// Preload: hands the page the engine endpoint and a handful of native helpers — nothing else.
import { contextBridge, ipcRenderer } from 'electron';
import { IpcChannels, type DesktopBridge } from '../shared/ipc.ts';

const bridge: DesktopBridge = {
  endpoint: () => ipcRenderer.invoke(IpcChannels.endpoint),
  pickFolder: () => ipcRenderer.invoke(IpcChannels.pickFolder),
  notify: (title, body, sessionId) => ipcRenderer.invoke(IpcChannels.notify, title, body, sessionId),
  setBadge: (count) => ipcRenderer.invoke(IpcChannels.badge, count),
  onFocusSession: (cb) => {
    const listener = (_e: unknown, id: unknown) => {
      if (typeof id === 'string') cb(id);
    };
    ipcRenderer.on(IpcChannels.focusSession, listener);
    return () => void ipcRenderer.off(IpcChannels.focusSession, listener);
  },
  openPath: (path) => ipcRenderer.invoke(IpcChannels.openPath, path),
  setProviderKey: (name, value) => ipcRenderer.invoke(IpcChannels.setProviderKey, name, value),
  restartEngine: () => ipcRenderer.invoke(IpcChannels.restartEngine),
  onCommand: (cb) => {
    const listener = (_e: unknown, command: unknown) => {
      if (typeof command === 'string') cb(command as Parameters<typeof cb>[0]);
    };
    ipcRenderer.on(IpcChannels.command, listener);
    return () => void ipcRenderer.off(IpcChannels.command, listener);
  },
  panel: () => ipcRenderer.invoke(IpcChannels.panel),
  setPanel: (panel) => ipcRenderer.invoke(IpcChannels.setPanel, panel),
};

contextBridge.exposeInMainWorld('flotilla', bridge);
