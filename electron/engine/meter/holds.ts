// Requests held because a budget cannot cover them. Nothing goes upstream and the agent's connection stays open (its
// timeout is long), so a raise lets the very request through and the agent carries on by itself. Declining, stopping
// the session, shutdown or the hold timeout answer it instead, with an error the agent shows and does not retry. If
// the agent gives up the connection, the hold simply ends: its next request is held the same way.
import type { HeldInfo } from '../../shared/contract.ts';
import type { BudgetBlock, HoldEnd } from './budget.ts';
import { AbortedError } from './governor.ts';
import type { RequestDecision } from './proxy-types.ts';

interface Hold {
  sessionId: string;
  block: BudgetBlock;
  since: number;
  until: number;
  timer: NodeJS.Timeout;
  done: (r: 'retry' | RequestDecision) => void;
}

export interface HoldsDeps {
  /** How long a hold waits for a raise (settings: budgetHoldMinutes). */
  timeoutMs: () => number;
  /** The answer for a hold that ends without a raise (the meter records the refusal). */
  answer: (sessionId: string, block: BudgetBlock, end: HoldEnd) => RequestDecision;
  /** A session's holds changed (its status and spend are re-sent). */
  changed: (sessionId: string, held: HeldInfo | null, first: BudgetBlock | null) => void;
}

export class BudgetHolds {
  private readonly bySession = new Map<string, Set<Hold>>();

  constructor(private readonly d: HoldsDeps) {}

  /** Holds a request: 'retry' when a raise may let it through, or the answer that ends it. Rejects on `signal`. */
  wait(sessionId: string, block: BudgetBlock, signal: AbortSignal): Promise<'retry' | RequestDecision> {
    if (signal.aborted) return Promise.reject(new AbortedError());
    return new Promise((resolve, reject) => {
      const ms = this.d.timeoutMs();
      const now = Date.now();
      const set = this.bySession.get(sessionId) ?? new Set<Hold>();
      const first = set.size === 0;
      this.bySession.set(sessionId, set);
      const h: Hold = {
        sessionId,
        block,
        since: now,
        until: now + ms,
        timer: setTimeout(() => this.end(h, 'timeout'), ms),
        done: resolve,
      };
      set.add(h);
      signal.addEventListener(
        'abort',
        () => {
          if (!this.drop(h)) return;
          reject(new AbortedError());
          this.notify(sessionId);
        },
        { once: true },
      );
      this.d.changed(sessionId, this.info(sessionId), first ? block : null);
    });
  }

  /** A budget went up (or away): every hold of these sessions is tried again. */
  release(sessionIds: Iterable<string>): void {
    for (const id of sessionIds) {
      const set = this.bySession.get(id);
      if (!set) continue;
      for (const h of [...set]) {
        this.drop(h);
        h.done('retry');
      }
      this.notify(id);
    }
  }

  /** Answers the holds of one session (or of all, with null) without a raise. Returns how many were answered. */
  answer(sessionId: string | null, end: HoldEnd): number {
    let n = 0;
    for (const [id, set] of [...this.bySession]) {
      if (sessionId !== null && id !== sessionId) continue;
      for (const h of [...set]) {
        this.end(h, end);
        n++;
      }
    }
    return n;
  }

  info(sessionId: string): HeldInfo | null {
    const set = this.bySession.get(sessionId);
    if (!set || set.size === 0) return null;
    const holds = [...set];
    const first = holds[0]!;
    return {
      ...first.block,
      since: new Date(first.since).toISOString(),
      until: new Date(Math.min(...holds.map((h) => h.until))).toISOString(),
      requests: holds.length,
    };
  }

  private end(h: Hold, end: HoldEnd): void {
    if (!this.drop(h)) return;
    h.done(this.d.answer(h.sessionId, h.block, end));
    this.notify(h.sessionId);
  }

  private drop(h: Hold): boolean {
    const set = this.bySession.get(h.sessionId);
    if (!set?.delete(h)) return false;
    clearTimeout(h.timer);
    if (set.size === 0) this.bySession.delete(h.sessionId);
    return true;
  }

  private notify(sessionId: string): void {
    this.d.changed(sessionId, this.info(sessionId), null);
  }
}
