// How a Meter is built and what it tells: its options (log, where refused requests go, the hold timeout, the
// governor) and its events (the contract's events for clients; a session's status as the meter sees it).
import type { EngineEvent, MeterVerdict } from '../../shared/contract.ts';
import type { Governor } from './governor.ts';
import type { RejectedRequests } from './rejected.ts';

/** A request over budget waits this long for a raise unless settings say otherwise. */
export const DEFAULT_HOLD_MS = 15 * 60_000;

export interface MeterOptions {
  log?: (line: string) => void;
  /** Where refused requests are saved for a bug report. */
  rejected?: RejectedRequests | null;
  /** How long a request over budget is held for a raise (read at each hold; default 15 min). */
  holdTimeoutMs?: () => number;
  /** The rate governor (one per engine: limits are per provider key, across runs). */
  governor?: Governor;
}

export type MeterEvents = {
  /** What clients hear: spend, runSpend, budget, intent and upstreamError events, as the contract shapes them. */
  event: [EngineEvent];
  /** The meter's view of a session's status: over budget, rate limited, refused by the provider, or back to work. */
  status: [string, MeterVerdict, string | null];
};
