// The rate governor: keeps each provider account (one per key) under its limits — requests in flight, requests per
// minute, tokens per minute — for every session and run that uses the key in this engine. A request over a limit waits
// in a fair queue (round-robin by session: a chatty session cannot starve the others) until a slot frees, the window
// moves on, or a pause the provider asked for (its own 429) ends. Waiting costs nothing upstream. No I/O; one timer
// per key, only while something waits.
import { EventEmitter } from 'node:events';
import type http from 'node:http';
import type { EffectiveLimits, GovernorKey } from '../../shared/contract.ts';

export interface GovernorOptions {
  /** The window RPM and TPM are counted over (60 s; benches scale it down). */
  windowMs?: number;
  /**
   * How much longer than the provider's window a request counts here (default 1/60 of it: 1 s a minute): the provider
   * starts its clock when the request arrives, a little after it leaves here, so without a margin the governor would
   * free a slot a moment before the provider does.
   */
  marginMs?: number;
  now?: () => number;
}

/** A slot held by one admitted request; release it when the request ends, with the tokens it really used. */
export interface Ticket {
  release(tokens: number | null): void;
}

interface Waiter {
  sessionId: string;
  tokens: number;
  resolve: (t: Ticket) => void;
  reject: (err: Error) => void;
}

interface KeyState {
  id: string;
  label: string;
  limits: EffectiveLimits;
  inFlight: number;
  /** Start times of requests in the window, oldest first. */
  starts: number[];
  /** Tokens counted in the window: an estimate at admission (the body's bytes / 4), raised at release to the usage. */
  tokens: { at: number; n: number }[];
  queues: Map<string, Waiter[]>;
  /** Sessions with waiters, in the order they are served: the head goes next, then moves to the back. */
  ring: string[];
  pausedUntil: number;
  timer: NodeJS.Timeout | null;
}

export type GovernorEvents = {
  /** A session's place in a key's queue changed: how many other sessions go before it (null: it no longer waits). */
  queue: [sessionId: string, ahead: number | null, requests: number];
  /** Something changed that the Spend panel shows. */
  changed: [];
};

export class AbortedError extends Error {
  constructor() {
    super('the client went away while the request waited');
  }
}

export class Governor extends EventEmitter<GovernorEvents> {
  private readonly keys = new Map<string, KeyState>();
  private readonly windowMs: number;
  private readonly now: () => number;

  constructor(opts: GovernorOptions = {}) {
    super();
    const window = opts.windowMs ?? 60_000;
    this.windowMs = window + (opts.marginMs ?? window / 60);
    this.now = opts.now ?? Date.now;
  }

  /** Sets a key's limits (the latest configuration wins); waiting requests are re-examined at once. */
  configure(id: string, label: string, limits: EffectiveLimits): void {
    const k = this.keys.get(id);
    if (k) {
      k.label = label;
      k.limits = limits;
      this.dispatch(k);
    } else {
      this.keys.set(id, {
        id,
        label,
        limits,
        inFlight: 0,
        starts: [],
        tokens: [],
        queues: new Map(),
        ring: [],
        pausedUntil: 0,
        timer: null,
      });
    }
    this.emit('changed');
  }

  /** A slot now if the key has one and nobody waits for it; else null (then `acquire` queues fairly). */
  tryAcquire(id: string, tokens: number): Ticket | null {
    const k = this.keys.get(id);
    if (!k) return NO_TICKET;
    if (k.ring.length > 0 || this.blockedFor(k, tokens) !== 0) return null;
    return this.admit(k, tokens);
  }

  /** A slot, when one is free for this session's turn. Rejects with AbortedError if `signal` aborts first. */
  acquire(id: string, sessionId: string, tokens: number, signal: AbortSignal): Promise<Ticket> {
    const k = this.keys.get(id);
    if (!k) return Promise.resolve(NO_TICKET);
    if (signal.aborted) return Promise.reject(new AbortedError());
    return new Promise<Ticket>((resolve, reject) => {
      const w: Waiter = { sessionId, tokens, resolve, reject };
      const q = k.queues.get(sessionId);
      if (q) q.push(w);
      else {
        k.queues.set(sessionId, [w]);
        k.ring.push(sessionId);
      }
      signal.addEventListener(
        'abort',
        () => {
          if (!this.remove(k, w)) return;
          reject(new AbortedError());
          this.announce(k);
          this.dispatch(k);
        },
        { once: true },
      );
      this.dispatch(k);
      this.announce(k);
    });
  }

  /** The provider said "too many": admit nothing on this key for `ms`. */
  pause(id: string, ms: number): void {
    const k = this.keys.get(id);
    if (!k || ms <= 0) return;
    k.pausedUntil = Math.max(k.pausedUntil, this.now() + ms);
    this.emit('changed');
    this.dispatch(k);
  }

  /** Until when the provider's own 429 pauses this key (0: not paused). */
  pausedUntil(id: string): number {
    return this.keys.get(id)?.pausedUntil ?? 0;
  }

  /** Whether a session still waits on any key. */
  hasSession(sessionId: string): boolean {
    for (const k of this.keys.values()) if (k.queues.has(sessionId)) return true;
    return false;
  }

  views(): GovernorKey[] {
    const now = this.now();
    return [...this.keys.values()].map((k) => {
      this.trim(k, now);
      return {
        key: k.label,
        limits: k.limits,
        inFlight: k.inFlight,
        rpm: k.starts.length,
        tpm: k.tokens.reduce((a, t) => a + t.n, 0),
        queued: [...k.queues.values()].reduce((a, q) => a + q.length, 0),
        pausedUntil: k.pausedUntil > now ? new Date(k.pausedUntil).toISOString() : null,
      };
    });
  }

  /** Every waiter is rejected (engine shutdown: their requests are answered by the caller). */
  close(): void {
    for (const k of this.keys.values()) {
      if (k.timer) clearTimeout(k.timer);
      k.timer = null;
      for (const q of k.queues.values()) for (const w of q) w.reject(new Error('the rate governor closed'));
      k.queues.clear();
      k.ring = [];
    }
  }

  // -------------------------------------------------------------------------------------------------------------------

  /** 0 when a request of `tokens` may start now; else how long until that may change (ms; Infinity: a slot must free). */
  private blockedFor(k: KeyState, tokens: number): number {
    const now = this.now();
    this.trim(k, now);
    const { concurrency, rpm, tpm } = k.limits;
    let wait = 0;
    if (k.pausedUntil > now) wait = Math.max(wait, k.pausedUntil - now);
    if (concurrency !== null && k.inFlight >= concurrency) wait = Math.max(wait, Infinity);
    if (rpm !== null && k.starts.length >= rpm) wait = Math.max(wait, k.starts[k.starts.length - rpm]! + this.windowMs - now);
    if (tpm !== null) {
      let used = k.tokens.reduce((a, t) => a + t.n, 0);
      // A request larger than the whole budget still goes, alone in its window.
      if (used > 0 && used + tokens > tpm) {
        let at = now;
        for (const t of k.tokens) {
          used -= t.n;
          at = t.at + this.windowMs;
          if (used + tokens <= tpm || used === 0) break;
        }
        wait = Math.max(wait, at - now);
      }
    }
    return wait === 0 ? 0 : Math.max(1, wait);
  }

  private admit(k: KeyState, tokens: number): Ticket {
    const at = this.now();
    k.inFlight++;
    k.starts.push(at);
    const entry = { at, n: tokens };
    k.tokens.push(entry);
    this.emit('changed');
    let released = false;
    return {
      release: (actual) => {
        if (released) return;
        released = true;
        k.inFlight--;
        // Raised to what it really used; never lowered (the estimate is what a provider may have counted at the start).
        if (actual !== null) entry.n = Math.max(entry.n, actual);
        this.emit('changed');
        this.dispatch(k);
      },
    };
  }

  /** Admits waiters in round-robin order while the key has room; otherwise sets the one timer for when it may. */
  private dispatch(k: KeyState): void {
    if (k.timer) {
      clearTimeout(k.timer);
      k.timer = null;
    }
    let served = false;
    while (k.ring.length > 0) {
      const sessionId = k.ring[0]!;
      const q = k.queues.get(sessionId)!;
      const w = q[0]!;
      const wait = this.blockedFor(k, w.tokens);
      if (wait !== 0) {
        if (Number.isFinite(wait)) k.timer = setTimeout(() => this.dispatch(k), wait);
        break;
      }
      q.shift();
      k.ring.shift();
      if (q.length > 0) k.ring.push(sessionId);
      else {
        k.queues.delete(sessionId);
        this.emit('queue', sessionId, null, 0);
      }
      served = true;
      w.resolve(this.admit(k, w.tokens));
    }
    if (served) this.announce(k);
  }

  private announce(k: KeyState): void {
    k.ring.forEach((sessionId, i) => this.emit('queue', sessionId, i, k.queues.get(sessionId)?.length ?? 0));
  }

  private remove(k: KeyState, w: Waiter): boolean {
    const q = k.queues.get(w.sessionId);
    const i = q?.indexOf(w) ?? -1;
    if (!q || i < 0) return false;
    q.splice(i, 1);
    if (q.length === 0) {
      k.queues.delete(w.sessionId);
      k.ring = k.ring.filter((s) => s !== w.sessionId);
      this.emit('queue', w.sessionId, null, 0);
    }
    return true;
  }

  private trim(k: KeyState, now: number): void {
    const from = now - this.windowMs;
    while (k.starts.length > 0 && k.starts[0]! <= from) k.starts.shift();
    while (k.tokens.length > 0 && k.tokens[0]!.at <= from) k.tokens.shift();
  }
}

/** For a key the governor does not know (no limits configured), or no key at all: nothing to count. */
export const NO_TICKET: Ticket = { release: () => {} };

/** How long a provider's 429 pauses its key when it says nothing more precise. */
const DEFAULT_RATE_PAUSE_MS = 1_000;

/** How long a provider's 429 asks to wait: retry-after (seconds or a date), else its rate-limit reset headers. */
export function rateLimitPauseMs(headers: http.IncomingHttpHeaders, now = Date.now()): number {
  const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v)?.trim();
  const retry = one(headers['retry-after']);
  if (retry) {
    const secs = Number(retry);
    if (Number.isFinite(secs) && secs >= 0) return Math.round(secs * 1000);
    const at = Date.parse(retry);
    if (!Number.isNaN(at)) return Math.max(0, at - now);
  }
  for (const h of ['x-ratelimit-reset-requests', 'x-ratelimit-reset-tokens', 'x-ratelimit-reset']) {
    const v = one(headers[h]);
    const ms = v ? durationMs(v) : null;
    if (ms !== null) return ms;
  }
  return DEFAULT_RATE_PAUSE_MS;
}

/** "6m0s", "1.5s", "250ms", or plain seconds. */
function durationMs(v: string): number | null {
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  let ms = 0;
  let matched = false;
  for (const m of v.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)) {
    matched = true;
    const n = Number(m[1]);
    ms += m[2] === 'h' ? n * 3_600_000 : m[2] === 'm' ? n * 60_000 : m[2] === 's' ? n * 1000 : n;
  }
  return matched ? Math.round(ms) : null;
}
