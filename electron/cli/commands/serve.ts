import { DATA_DIR, PORT, defineCommand } from '../command.ts';

export const serve = defineCommand({
  name: 'serve',
  about:
    'The engine in the foreground (remote boxes, scripts): print the dashboard URL with its token, run until Ctrl-C.\nRefused when the data dir already has an engine.',
  options: {
    port: PORT,
    host: { type: 'string', value: 'H', default: '127.0.0.1', help: 'a loopback address only (default 127.0.0.1)' },
    'data-dir': DATA_DIR,
  },
  example: 'flotilla serve --port 7420',
  async run(o) {
    const { serveEngine } = await import('../engine-access.ts');
    await serveEngine(o);
  },
});
