import './locale.ts';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import '@xterm/xterm/css/xterm.css';
import './styles.css';
import { App } from './app/App.tsx';
import './app/commands.ts';
import { isAppKey } from './keys/index.ts';
import { wireEngineToStore } from './store/sync.ts';
import { disposeTerminalsOutOfView, terminals } from './features/terminal/index.ts';
import { engine } from './transport/index.ts';

wireEngineToStore(engine);
terminals.setAppKeyFilter(isAppKey);
disposeTerminalsOutOfView();
engine.start();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
