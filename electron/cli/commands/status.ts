import { DATA_DIR, JSON_OUT, defineCommand } from '../command.ts';

export const status = defineCommand({
  name: 'status',
  about:
    'Whether an engine runs for the data dir (or on a host), since when, its URL, how many sessions are live or need you\n(exit 3: none runs).',
  options: {
    'data-dir': DATA_DIR,
    host: { type: 'string', value: 'NAME', help: 'the engine on a host (flotilla hosts add) instead of this machine' },
    json: JSON_OUT,
  },
  example: 'flotilla status --json',
  async run(o) {
    const { dataDirOf, uiUrl } = await import('../engine-access.ts');
    const { findEngine } = await import('../../engine/daemon.ts');
    const { HttpEngineClient } = await import('../../shared/client.ts');
    const { isFinalStatus } = await import('../../shared/contract.ts');
    type DiskState = import('../../shared/contract.ts').DiskState;
    const dataDir = await dataDirOf(o);
    let info: { pid: number; startedAt: string; origin: string; token: string } | null;
    let where = dataDir;
    let url: string | null = null;
    let close = async () => {};
    if (o.host) {
      const { findHost } = await import('../../engine/hosts/index.ts');
      const { ensureRemoteEngine } = await import('../../engine/hosts/remote.ts');
      const { Tunnel } = await import('../../engine/hosts/tunnel.ts');
      const { root } = await import('../engine-access.ts');
      const host = findHost(dataDir, o.host);
      const remote = await ensureRemoteEngine(dataDir, host, { root, env: process.env, findOnly: true });
      where = `${host.name} (${remote?.paths.dataDir ?? host.destination})`;
      info = null;
      if (remote) {
        const tunnel = await Tunnel.open(dataDir, host, remote.port, remote.token, process.env);
        close = () => tunnel.close();
        info = { pid: remote.pid, startedAt: remote.startedAt, origin: tunnel.origin, token: remote.token };
      }
    } else {
      const local = await findEngine(dataDir);
      if (local) url = uiUrl(local);
      info = local;
    }
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
    await close();
    if (o.json) {
      const out = info
        ? {
            running: true,
            dataDir,
            ...(o.host ? { host: o.host } : { url }),
            pid: info.pid,
            since: info.startedAt,
            liveSessions: live,
            needYou,
            held,
            disk,
          }
        : { running: false, dataDir, ...(o.host ? { host: o.host } : {}) };
      process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    } else if (info) {
      process.stdout.write(
        `running since ${info.startedAt || 'unknown'} (pid ${info.pid}) for ${where}\n  ${live} live session(s)${needYou ? `, ${needYou} need you` : ''}${held ? `, ${held} held` : ''}\n${url ? `  ${url}\n` : ''}`,
      );
      if (disk?.full)
        process.stdout.write(
          `  ${disk.message}\n  ${disk.heldRequests} model request(s) held, ${disk.pendingWrites} record write(s) kept in memory — free some space: everything resumes by itself\n`,
        );
    } else
      process.stdout.write(
        o.host
          ? `no engine runs on ${where} — start a run there: flotilla run <template> --host ${o.host}\n`
          : `no engine runs for ${dataDir} — start one with: flotilla open\n`,
      );
    process.exit(info ? 0 : 3);
  },
});
