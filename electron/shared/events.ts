// Events (engine → every connected client), JSON text frames {type: 'event', event, …}.
import { z } from 'zod';
import { ChangedFile, ConflictWarning, WatchFailure } from './review.ts';
import { LaunchProgress, RunInfo, SessionInfo } from './runs.ts';
import { GovernorKey } from './governor.ts';
import { EngineHealth } from './health.ts';
import { HostView } from './hosts.ts';
import { BudgetAlert, EditIntent, RunSpend, SessionSpend, UpstreamErrorInfo } from './spend.ts';

const ev = <E extends string, S extends z.ZodRawShape>(event: E, shape: S) =>
  z.object({ type: z.literal('event'), event: z.literal(event), ...shape });

export const EngineEvent = z.discriminatedUnion('event', [
  ev('run', { run: RunInfo }),
  ev('session', { session: SessionInfo }),
  ev('launchProgress', { progress: LaunchProgress }),
  ev('spend', { spend: SessionSpend }),
  ev('runSpend', { spend: RunSpend }),
  ev('budget', BudgetAlert.shape),
  ev('governor', { keys: z.array(GovernorKey) }),
  ev('intent', { intent: EditIntent }),
  /** A session's changed files (the full list each time); in a shared workspace, every change of the checkout. */
  ev('changes', { sessionId: z.string(), files: z.array(ChangedFile) }),
  /** A run's warnings (the full list each time). */
  ev('conflicts', { runId: z.string(), warnings: z.array(ConflictWarning) }),
  /** A session's worktree stopped being watched (it is rescanned every few seconds instead). */
  ev('watchFailed', { failure: WatchFailure }),
  ev('upstreamError', { sessionId: z.string(), error: UpstreamErrorInfo }),
  /** The engine's health changed (its disk filled up or has room again). */
  ev('health', { health: EngineHealth }),
  /** A host's connection changed (connected, reconnecting (n), …): on connected again, re-subscribe its sessions. */
  ev('host', { host: HostView }),
  ev('exit', { sessionId: z.string(), exitCode: z.number().nullable(), signal: z.string().nullable() }),
]);
export type EngineEvent = z.infer<typeof EngineEvent>;
export type EngineEventName = EngineEvent['event'];
export type EventOf<E extends EngineEventName> = Extract<EngineEvent, { event: E }>;
