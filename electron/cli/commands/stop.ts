import { DATA_DIR, defineCommand } from '../command.ts';

export const stop = defineCommand({
  name: 'stop',
  about: "Stop the data dir's engine and its sessions (agents get SIGTERM, then SIGKILL after the grace period).",
  options: { 'data-dir': DATA_DIR },
  example: 'flotilla stop',
  async run(o) {
    const { dataDirOf } = await import('../engine-access.ts');
    const { stopEngine } = await import('../../engine/daemon.ts');
    const dataDir = await dataDirOf(o);
    process.stderr.write(`stopping the engine for ${dataDir} and its sessions…\n`);
    const stopped = await stopEngine(dataDir);
    process.stdout.write(
      stopped ? `stopped the engine (pid ${stopped.pid}) and its sessions\n` : `no engine runs for ${dataDir}; nothing to stop\n`,
    );
  },
});
