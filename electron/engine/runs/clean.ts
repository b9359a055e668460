// Removing a run's worktrees and branches once it has ended (its records and ledger stay).
import { join } from 'node:path';
import { type CleanResult, isFinalStatus } from '../../shared/contract.ts';
import { EngineError } from '../errors.ts';
import { cleanRun as cleanWorktrees } from '../workspace/index.ts';
import type { RunRegistry } from './registry.ts';

export async function cleanRun(registry: RunRegistry, dataDir: string, runId: string): Promise<CleanResult> {
  const live = registry.liveRun(runId);
  if (live && !live.sessions.every((s) => isFinalStatus(s.info.status)))
    throw new EngineError('run_active', `run ${live.info.name} still has sessions running — stop them first (stopRun)`);
  const run = registry.runInfo(runId);
  if (run.workspace !== 'worktree') return { removedWorktrees: 0, removedBranches: 0 };
  return cleanWorktrees(run.repo, run.slug, join(dataDir, 'worktrees', runId));
}
