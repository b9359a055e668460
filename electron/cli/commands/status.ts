import { DATA_DIR, JSON_OUT, defineCommand } from '../command.ts';

export const status = defineCommand({
  name: 'status',
  about: 'Whether an engine runs for the data dir, since when, its URL, how many sessions are live or need you (exit 3: none runs).',
  options: { 'data-dir': DATA_DIR, json: JSON_OUT },
  example: 'flotilla status --json',
  async run(o) {
    const { dataDirOf, uiUrl } = await import('../engine-access.ts');
    const { findEngine } = await import('../../engine/daemon.ts');
    const { HttpEngineClient } = await import('../../shared/client.ts');
    const { isFinalStatus } = await import('../../shared/contract.ts');
    type DiskState = import('../../shared/contract.ts').DiskState;
    const dataDir = await dataDirOf(o);
    const info = await findEngine(dataDir);
    let live = 0;
    let held = 0;
    let needYou = 0;
    let disk: DiskState | null = null;
    if (info) {
      const client = new HttpEngineClient({ origin: info.origin, token: info.token }, fetch);
      const sessions = await client.call('listSessions', {});
      disk = await client.call('health', {}).then(
        (h) => h.disk,
        () => null,
      );
      live = sessions.filter((s) => !isFinalStatus(s.status)).length;
      needYou = sessions.filter((s) => s.status === 'needs_you' || s.status === 'over_budget' || s.status === 'rejected').length;
      held = sessions.filter((s) => s.status === 'held').length;
    }
    if (o.json) {
      const out = info
        ? { running: true, dataDir, pid: info.pid, since: info.startedAt, url: uiUrl(info), liveSessions: live, needYou, held, disk }
        : { running: false, dataDir };
      process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    } else if (info) {
      process.stdout.write(
        `running since ${info.startedAt || 'unknown'} (pid ${info.pid}) for ${dataDir}\n  ${live} live session(s)${needYou ? `, ${needYou} need you` : ''}${held ? `, ${held} held` : ''}\n  ${uiUrl(info)}\n`,
      );
      if (disk?.full)
        process.stdout.write(
          `  ${disk.message}\n  ${disk.heldRequests} model request(s) held, ${disk.pendingWrites} record write(s) kept in memory — free some space: everything resumes by itself\n`,
        );
    } else process.stdout.write(`no engine runs for ${dataDir} — start one with: flotilla open\n`);
    process.exit(info ? 0 : 3);
  },
});
