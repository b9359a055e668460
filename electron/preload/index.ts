// Preload: hands the page the engine endpoint and a handful of native helpers — nothing else.
import { contextBridge, ipcRenderer } from 'electron';
import { IpcChannels, type DesktopBridge } from '../shared/ipc.ts';

const bridge: DesktopBridge = {
  endpoint: () => ipcRenderer.invoke(IpcChannels.endpoint),
  pickFolder: () => ipcRenderer.invoke(IpcChannels.pickFolder),
  notify: (title, body) => ipcRenderer.invoke(IpcChannels.notify, title, body),
  openPath: (path) => ipcRenderer.invoke(IpcChannels.openPath, path),
  setProviderKey: (name, value) => ipcRenderer.invoke(IpcChannels.setProviderKey, name, value),
  restartEngine: () => ipcRenderer.invoke(IpcChannels.restartEngine),
};

contextBridge.exposeInMainWorld('flotilla', bridge);
