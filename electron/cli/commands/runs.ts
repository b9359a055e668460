import type { RunInfo, SessionInfo } from '../../shared/contract.ts';
import { DATA_DIR, JSON_OUT, defineCommand } from '../command.ts';

export const runs = defineCommand({
  name: 'runs',
  about: "Earlier runs with their sessions' final state and worktrees.",
  options: { 'data-dir': DATA_DIR, json: JSON_OUT },
  example: 'flotilla runs',
  async run(o) {
    const { dataDirOf, runningEngine } = await import('../engine-access.ts');
    const { Store } = await import('../../engine/store/index.ts');
    const { isFinalStatus } = await import('../../shared/contract.ts');
    const dataDir = await dataDirOf(o);
    let list: (RunInfo & { sessions: SessionInfo[] })[];
    const engine = await runningEngine(dataDir);
    if (engine) {
      const all = await engine.call('listRuns', {});
      const sessions = await engine.call('listSessions', {});
      list = all.map((r) => ({ ...r, sessions: sessions.filter((s) => s.runId === r.id) }));
    } else {
      const store = Store.open(dataDir);
      try {
        // Runs whose engine died are shown as what they are now: ended, their sessions stopped.
        store.reconcileAfterRestart();
        store.interruptOpenUsage();
        list = store.listRuns().map((r) => ({ ...r, sessions: store.listSessions(r.id) }));
      } finally {
        store.close();
      }
    }
    if (o.json) return void process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
    if (list.length === 0) return void process.stdout.write('no runs yet — start one with: flotilla run <template.yaml>\n');
    for (const r of list) {
      process.stdout.write(`${r.startedAt}  ${r.name}  ${r.state}  ${r.id}\n`);
      for (const s of r.sessions)
        process.stdout.write(`    slot ${s.slot}  ${s.status}${isFinalStatus(s.status) ? '' : '*'}  ${s.worktree}\n`);
    }
  },
});
