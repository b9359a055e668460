// The messages between the engine's main thread and its pty host (a worker thread). Plain data only: they are
// structured-cloned, and output bytes travel as a transferred ArrayBuffer (one copy, made in the host, per batch).
import type { SessionStatus } from '../../shared/contract.ts';
import type { AgentSessionOptions, PtySpec } from '../sessions/process.ts';
import type { HookEvent } from '../sessions/status.ts';

/** Main → host. `req` asks for a `reply`; the rest are fire-and-forget. */
export type ToHost =
  | { t: 'create'; id: string; spec: PtySpec; opts: AgentSessionOptions }
  | { t: 'start'; id: string; req: number }
  | { t: 'write'; id: string; data: string }
  | { t: 'resize'; id: string; cols: number; rows: number }
  | { t: 'stop'; id: string; graceMs: number | null }
  | { t: 'restart'; id: string; spec: PtySpec | null; req: number }
  | { t: 'snapshot'; id: string; req: number }
  | { t: 'sub'; id: string; sub: number }
  | { t: 'unsub'; id: string; sub: number }
  | { t: 'ack'; id: string; sub: number; bytes: number }
  | { t: 'hook'; id: string; body: HookEvent }
  | { t: 'status'; id: string; status: SessionStatus; detail: string | null }
  | { t: 'dispose'; id: string }
  /** Kill every agent, wait until node-pty has reaped each, then say 'bye' (the thread may end after that only). */
  | { t: 'shutdown' }
  /** Tests: fail the way a bug would (an uncaught exception in the host). */
  | { t: 'crash' };

/** What the main thread mirrors of a session (sent with every status change, start and exit). */
export interface ProcState {
  status: SessionStatus;
  detail: string | null;
  pid: number | null;
  exitCode: number | null;
  signal: string | null;
  running: boolean;
}

/** Host → main. */
export type FromHost =
  | { t: 'ready' }
  | { t: 'bye' }
  | { t: 'log'; line: string }
  | { t: 'state'; id: string; state: ProcState }
  | { t: 'exit'; id: string; exitCode: number | null; signal: string | null }
  /** One batch of output for the subscriptions that existed when the host delivered it (no gap, no duplicate). */
  | { t: 'data'; id: string; subs: number[]; buf: ArrayBuffer }
  | { t: 'reply'; req: number; ok: true; value?: unknown }
  | { t: 'reply'; req: number; ok: false; error: string };
