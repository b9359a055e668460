// Requests held because their spend could not be recorded (the data dir's disk is full): like a budget hold, nothing
// goes upstream unmetered and the agent's connection stays open; when the engine can write again every held request
// goes on by itself. Stopping the session or shutting down answers them instead. No timeout of its own: the agent's
// (600 s for Claude Code) ends a hold it no longer waits for, and its retry is held the same way.
import { AbortedError } from './governor.ts';

export type SpendHoldEnd = 'retry' | 'stopped' | 'shutdown';

interface Waiter {
  sessionId: string;
  done: (end: SpendHoldEnd) => void;
}

export interface SpendHoldDeps {
  /** A session's first request was held (detail: why), or its last one went on or was answered (null). */
  changed: (sessionId: string, detail: string | null) => void;
}

export class SpendHold {
  private reason: string | null = null;
  private readonly waiters = new Set<Waiter>();

  constructor(private readonly d: SpendHoldDeps) {}

  /** Why new requests are held, or null when they are not. */
  get held(): string | null {
    return this.reason;
  }

  /** Requests waiting now. */
  get count(): number {
    return this.waiters.size;
  }

  /** Holds new requests (`reason`: what the tile says), or lets every held one go (null). */
  set(reason: string | null): void {
    const was = this.reason;
    this.reason = reason;
    if (reason === null) {
      if (was !== null) this.end(null, 'retry');
      return;
    }
    if (reason !== was) for (const id of this.sessions()) this.d.changed(id, reason);
  }

  wait(sessionId: string, signal: AbortSignal): Promise<SpendHoldEnd> {
    if (signal.aborted) return Promise.reject(new AbortedError());
    return new Promise((resolve, reject) => {
      const first = !this.sessions().has(sessionId);
      const w: Waiter = { sessionId, done: resolve };
      this.waiters.add(w);
      signal.addEventListener(
        'abort',
        () => {
          if (!this.waiters.delete(w)) return;
          reject(new AbortedError());
          if (!this.sessions().has(sessionId)) this.d.changed(sessionId, null);
        },
        { once: true },
      );
      if (first) this.d.changed(sessionId, this.reason);
    });
  }

  /** Answers the held requests of a session (or of all, with null). Returns how many. */
  end(sessionId: string | null, end: SpendHoldEnd): number {
    const ended = new Set<string>();
    let n = 0;
    for (const w of [...this.waiters]) {
      if (sessionId !== null && w.sessionId !== sessionId) continue;
      this.waiters.delete(w);
      ended.add(w.sessionId);
      w.done(end);
      n++;
    }
    for (const id of ended) this.d.changed(id, null);
    return n;
  }

  private sessions(): Set<string> {
    return new Set([...this.waiters].map((w) => w.sessionId));
  }
}
