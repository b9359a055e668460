// The pty host's contract, declared once: what the engine's main thread may ask of the host (PtyHostService) and what
// the host tells it (PtyHostEvents). The wire messages, the main thread's client and the worker's dispatch are all
// derived from these two interfaces (VS Code's ProxyChannel idea: the interface is the wire contract), so a method
// added here without an implementation in worker.ts, or without its kind in HOST_CALLS, does not compile.
// Plain data only: messages are structured-cloned; output bytes travel as a transferred ArrayBuffer (one copy, made in
// the host, per batch).
import type { AgentSessionOptions, PtySpec, SnapshotData } from '../sessions/process.ts';
import type { ProcessFact } from '../sessions/status-machine.ts';

/** Main → host. Methods returning a Promise are requests (answered by a reply); the others are fire-and-forget. */
export interface PtyHostService {
  create(id: string, spec: PtySpec, opts: AgentSessionOptions): void;
  /** Resolves once the process runs or has failed to start (its fact comes first, on the same port). */
  start(id: string): Promise<void>;
  write(id: string, data: string): void;
  resize(id: string, cols: number, rows: number): void;
  stop(id: string, graceMs: number | null): void;
  restart(id: string, spec: PtySpec | null): Promise<void>;
  snapshot(id: string): Promise<SnapshotData>;
  /** The screen as the mirror has it now (no scrollback, no wait for what is still being parsed). */
  screen(id: string): Promise<SnapshotData>;
  /** A hook or the meter saw the agent busy: the quiet that follows is looked at too. */
  noteActivity(id: string): void;
  sub(id: string, sub: number): void;
  unsub(id: string, sub: number): void;
  ack(id: string, sub: number, bytes: number): void;
  hold(id: string, sub: number, on: boolean): void;
  dispose(id: string): void;
  /** Kill every agent, wait until node-pty has reaped each; the thread may end only after this resolves. */
  shutdown(): Promise<void>;
  /** Tests: fail the way a bug would (an uncaught exception in the host). */
  crash(): void;
}

/** Host → main. */
export interface PtyHostEvents {
  ready(): void;
  log(line: string): void;
  /** What a session's process did (started, output after quiet, quiet, exited): its status is decided on the main thread. */
  fact(id: string, fact: ProcessFact): void;
  /** One batch of output for the subscriptions that existed when the host delivered it (no gap, no duplicate). */
  data(id: string, subs: number[], buf: ArrayBuffer): void;
}

type Fn = (...args: never[]) => unknown;
/** Which calls wait for a reply: exactly the Promise-returning methods (checked against the interface). */
type CallKinds<S> = { [K in keyof S]: S[K] extends (...a: never[]) => Promise<unknown> ? 'request' : 'send' };

export const HOST_CALLS = {
  create: 'send',
  start: 'request',
  write: 'send',
  resize: 'send',
  stop: 'send',
  restart: 'request',
  snapshot: 'request',
  screen: 'request',
  noteActivity: 'send',
  sub: 'send',
  unsub: 'send',
  ack: 'send',
  hold: 'send',
  dispose: 'send',
  shutdown: 'request',
  crash: 'send',
} as const satisfies CallKinds<PtyHostService>;

/** A call of S on the wire: its name, its arguments and, for a request, the number its reply carries. */
export type CallMessage<S> = {
  [K in keyof S]: S[K] extends Fn ? { t: K; args: Parameters<S[K]>; req?: number } : never;
}[keyof S];

export type ToHost = CallMessage<PtyHostService>;
export type FromHost =
  | CallMessage<PtyHostEvents>
  | { t: 'reply'; req: number; ok: true; value?: unknown }
  | { t: 'reply'; req: number; ok: false; error: string };

/** The main thread's view of the service: requests return their reply's Promise, sends return nothing. */
export type ServiceClient<S> = { [K in keyof S]: S[K] extends Fn ? (...args: Parameters<S[K]>) => ReturnType<S[K]> : never };

/**
 * A typed client for S over a message port: `send` posts a call; `request` posts it with a number and resolves with
 * the reply carrying that number. Which calls are requests comes from `kinds` (HOST_CALLS), itself checked against S.
 */
export function serviceClient<S>(
  kinds: { readonly [K in keyof S]: 'request' | 'send' },
  post: (m: CallMessage<S>) => void,
  request: (m: CallMessage<S> & { req: number }) => Promise<unknown>,
  nextReq: () => number,
): ServiceClient<S> {
  const client = {} as Record<keyof S, (...args: unknown[]) => unknown>;
  for (const name of Object.keys(kinds) as Array<keyof S>) {
    client[name] =
      kinds[name] === 'request'
        ? (...args) => request({ t: name, args, req: nextReq() } as unknown as CallMessage<S> & { req: number })
        : (...args) => post({ t: name, args } as unknown as CallMessage<S>);
  }
  return client as unknown as ServiceClient<S>;
}

/** Calls the implementation's method a message names; a request's result (or its error) is what `reply` is given. */
export function dispatchCall<S>(impl: S, m: CallMessage<S>, reply: (req: number, result: Promise<unknown>) => void): void {
  const { t, args, req } = m as { t: keyof S; args: unknown[]; req?: number };
  const method = impl[t] as unknown as ((...a: unknown[]) => unknown) | undefined;
  if (typeof method !== 'function') throw new Error(`the pty host has no call "${String(t)}"`);
  if (req === undefined) return void method.apply(impl, args);
  let result: Promise<unknown>;
  try {
    result = Promise.resolve(method.apply(impl, args));
  } catch (err) {
    result = Promise.reject(err);
  }
  reply(req, result);
}
