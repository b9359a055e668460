import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import '@xterm/xterm/css/xterm.css';
import './styles.css';
import { App } from './components/App.tsx';
import { engine } from './transport/index.ts';
import { wireEngineToStore } from './state/index.ts';

wireEngineToStore(engine);
engine.start();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
