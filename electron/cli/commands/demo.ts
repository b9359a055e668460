import { DATA_DIR, PORT, defineCommand, parseCount } from '../command.ts';

export const demo = defineCommand({
  name: 'demo',
  about: 'No API key needed: serve with a built-in SIMULATED K2 provider and launch demo agents that edit a scratch repository.',
  options: {
    count: { type: 'string', value: 'N', help: 'demo agents, 1–16 (default 6)' },
    port: { ...PORT, help: 'as for serve' },
    host: { type: 'string', value: 'H', default: '127.0.0.1', help: 'as for serve' },
    'data-dir': DATA_DIR,
  },
  example: 'flotilla demo --count 4',
  async run(o) {
    const count = parseCount('--count', o.count, 1, 16);
    const { serveEngine } = await import('../engine-access.ts');
    const engine = await serveEngine(o);
    const result = await engine.call('demo', { count });
    process.stdout.write(
      `Demo launched: ${result.sessions.length} demo agent(s) talking to a SIMULATED K2 provider (no real model, no API key).\n` +
        `Scratch repository: ${result.run.repo}\n` +
        `Open ${engine.uiUrl}\n`,
    );
  },
});
