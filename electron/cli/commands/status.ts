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
    const dataDir = await dataDirOf(o);
    const info = await findEngine(dataDir);
    let live = 0;
    let needYou = 0;
    if (info) {
      const sessions = await new HttpEngineClient({ origin: info.origin, token: info.token }, fetch).call('listSessions', {});
      live = sessions.filter((s) => !isFinalStatus(s.status)).length;
      needYou = sessions.filter((s) => s.status === 'needs_you' || s.status === 'over_budget' || s.status === 'rejected').length;
    }
    if (o.json) {
      const out = info
        ? { running: true, dataDir, pid: info.pid, since: info.startedAt, url: uiUrl(info), liveSessions: live, needYou }
        : { running: false, dataDir };
      process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    } else if (info) {
      process.stdout.write(
        `running since ${info.startedAt || 'unknown'} (pid ${info.pid}) for ${dataDir}\n  ${live} live session(s)${needYou ? `, ${needYou} need you` : ''}\n  ${uiUrl(info)}\n`,
      );
    } else process.stdout.write(`no engine runs for ${dataDir} — start one with: flotilla open\n`);
    process.exit(info ? 0 : 3);
  },
});
