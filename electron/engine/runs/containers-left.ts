// An engine starting on a data dir whose engine died: the session containers it left. A running one is re-attached —
// its agent never stopped, and its session goes on in the grid — unless it cannot be (then it is removed, and its
// session says so: Resume continues the conversation in a new one). Ended ones are removed, unless the settings keep
// containers for inspection.
import { leftContainers, removeSessionContainer } from '../sandbox/index.ts';
import type { Store } from '../store/index.ts';
import type { Scheduler } from './scheduler.ts';

export const REAPED =
  'interrupted — its engine stopped; its container was still running and was removed (Resume continues the conversation in a new one)';

export async function adoptContainers(d: {
  dataDir: string;
  store: Store;
  scheduler: Scheduler;
  keepContainers: boolean;
  log: (line: string) => void;
}): Promise<{ reattached: string[]; removed: string[] }> {
  const out = { reattached: [] as string[], removed: [] as string[] };
  for (const c of await leftContainers(d.dataDir)) {
    const status = d.store.getSession(c.sessionId)?.status;
    if (c.running && status === 'interrupted') {
      try {
        await d.scheduler.reattach(c.sessionId);
        out.reattached.push(c.sessionId);
        d.log(`session ${c.sessionId}: its container was still running — re-attached`);
        continue;
      } catch (err) {
        d.log(`session ${c.sessionId}: its container could not be re-attached (${(err as Error).message}) — removing it`);
      }
    } else if (!c.running && d.keepContainers && status !== 'interrupted') continue;
    await removeSessionContainer(c.engine, c.sessionId);
    out.removed.push(c.sessionId);
    if (status === 'interrupted') d.store.updateSession(c.sessionId, { statusDetail: REAPED });
  }
  return out;
}
