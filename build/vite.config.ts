// Renderer build: React + TSX through Vite 8's built-in oxc transform (no @vitejs/plugin-react installed).
// Output goes to dist/renderer, which the engine serves (CSP: script-src 'self', so no inline scripts anywhere).
import { defineConfig } from 'vite';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export default defineConfig({
  root: join(root, 'renderer'),
  base: './',
  publicDir: false,
  mode: 'production',
  // React picks its production build from this; never ship the development one (10× slower, warnings in the console).
  define: { 'process.env.NODE_ENV': JSON.stringify('production') },
  oxc: { jsx: { runtime: 'automatic', importSource: 'react' } },
  build: {
    outDir: join(root, 'dist', 'renderer'),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    // The preload script is the only inline-free way in: keep everything in external files.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 2000,
  },
  logLevel: 'warn',
});
