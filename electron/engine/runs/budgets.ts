// Raising a budget: kept in the store first (the session's own budget, or the run's), so it applies whenever the
// session (re)starts — in this engine or a later one — then handed to the meter if the session or run is metered now,
// which lets an over-budget session carry on with its next request.
import type { CommandArgs } from '../../shared/contract.ts';
import { EngineError } from '../errors.ts';
import type { Meter } from '../meter/index.ts';
import type { RunRegistry } from './registry.ts';

export function raiseBudget(registry: RunRegistry, meter: Meter, args: CommandArgs<'raiseBudget'>): null {
  if (args.sessionId) {
    const info = registry.sessionInfo(args.sessionId);
    registry.store.setSessionBudget(info.id, args.usd);
    if (meter.sessionSpend(info.id)) meter.setBudget({ sessionId: info.id }, args.usd);
    return null;
  }
  if (args.runId) {
    const live = registry.liveRun(args.runId);
    const info = live?.info ?? registry.runInfo(args.runId);
    const budget = { ...info.budget, runUsd: args.usd };
    if (live) registry.updateRun(live, { budget });
    else registry.store.updateRun(info.id, { budget });
    if (meter.runSpend(info.id)) meter.setBudget({ runId: info.id }, args.usd);
    return null;
  }
  throw new EngineError('bad_request', 'raiseBudget needs sessionId or runId', { field: 'sessionId' });
}
