// Which of a run's providers serves a request: ordered, fastest (by the speed the meter measured, decayed) or cheapest
// (by the price of a typical Claude Code turn, cache hits included). A session sticks to the provider that served it
// (its prompt cache lives there) and moves only when that one fails; a failed provider cools down for its retry-after,
// else a backoff, and one the governor holds (its own 429) goes last. The proxy does the trying (proxy.ts failover).
import type { FailoverCause, ProviderChoice, ProxyRoute } from './proxy-types.ts';

export type RouteKind = 'ordered' | 'fastest' | 'cheapest';

export interface RoutedProvider {
  route: ProxyRoute & { provider: string };
  /** Where the provider's speed is kept: its name and the model (see speedKey). */
  speedKey: string;
  /** The governor's key for its account (null: not governed). */
  rateKey: string | null;
  /** Dollars for a typical turn at its price (null: no price). */
  turnUsd: number | null;
}

/** A provider's speed measured here: time to first token and output tokens per second, each decayed. */
export interface Speed {
  ttftMs: number;
  tokensPerSec: number;
  samples: number;
}

/** Weight of the newest sample in the decayed means: the last ~5 requests count most. */
const DECAY = 0.3;
/** A typical Claude Code turn for ranking by speed: output tokens after the first one. */
const TYPICAL_OUTPUT_TOKENS = 400;
/** Backoff after a failure with no retry-after: 1 s, doubling, at most a minute. */
const BACKOFF_MS = 1_000;
const BACKOFF_MAX_MS = 60_000;

/** A typical Claude Code turn for ranking by price: 30 000 prompt tokens (80 % from the cache) and 400 out. */
export const TYPICAL_TURN = { inputTokens: 6_000, cacheReadTokens: 24_000, cacheWriteTokens: 0, outputTokens: TYPICAL_OUTPUT_TOKENS };

export function speedKey(provider: string, model: string): string {
  return `${provider}|${model.slice(model.lastIndexOf('/') + 1).toLowerCase()}`;
}

/** Seconds a typical turn takes at this speed. */
export function turnSeconds(s: Speed): number {
  return s.ttftMs / 1000 + TYPICAL_OUTPUT_TOKENS / Math.max(s.tokensPerSec, 0.001);
}

interface Cooling {
  until: number;
  failures: number;
}

export class ProviderRouter {
  private readonly speeds = new Map<string, Speed>();
  private readonly cooling = new Map<string, Cooling>();
  private readonly sticky = new Map<string, string>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly pausedUntil: (rateKey: string) => number = () => 0,
  ) {}

  /** A request this provider served: its time to first token and output rate join the decayed means. */
  observe(key: string, ttftMs: number | null, tokensPerSec: number | null): void {
    if (ttftMs === null && tokensPerSec === null) return;
    const s = this.speeds.get(key);
    if (!s) {
      if (ttftMs === null || tokensPerSec === null) return;
      this.speeds.set(key, { ttftMs, tokensPerSec, samples: 1 });
      return;
    }
    if (ttftMs !== null) s.ttftMs += DECAY * (ttftMs - s.ttftMs);
    if (tokensPerSec !== null) s.tokensPerSec += DECAY * (tokensPerSec - s.tokensPerSec);
    s.samples += 1;
  }

  speed(key: string): Speed | null {
    const s = this.speeds.get(key);
    return s ? { ...s } : null;
  }

  /** The session ended: forget which provider it stuck to. */
  forget(sessionId: string): void {
    this.sticky.delete(sessionId);
  }

  /** The provider a session sticks to (null: none served it yet). */
  stuckTo(sessionId: string): string | null {
    return this.sticky.get(sessionId) ?? null;
  }

  /** The order to try the providers in for one request of a session. */
  order(sessionId: string, providers: readonly RoutedProvider[], kind: RouteKind): RoutedProvider[] {
    const ranked = this.rank(providers, kind);
    const stuck = this.sticky.get(sessionId);
    const at = stuck === undefined ? -1 : ranked.findIndex((p) => p.route.provider === stuck);
    if (at > 0) ranked.unshift(...ranked.splice(at, 1));
    // A provider cooling down after a failure, or held by its own 429, is tried only when the others failed.
    const now = this.now();
    const resting = (p: RoutedProvider) =>
      (this.cooling.get(p.route.provider)?.until ?? 0) > now || (p.rateKey !== null && this.pausedUntil(p.rateKey) > now);
    return [...ranked.filter((p) => !resting(p)), ...ranked.filter(resting)];
  }

  /** The proxy's view of one session's providers. */
  choice(sessionId: string, providers: readonly RoutedProvider[], kind: RouteKind): ProviderChoice {
    return {
      plan: () => this.order(sessionId, providers, kind).map((p) => p.route),
      failed: (route, cause) => this.failed(route.provider!, cause),
      served: (route) => {
        this.sticky.set(sessionId, route.provider!);
        this.cooling.delete(route.provider!);
      },
    };
  }

  private failed(provider: string, cause: FailoverCause): void {
    const c = this.cooling.get(provider) ?? { until: 0, failures: 0 };
    c.failures += 1;
    const backoff = Math.min(BACKOFF_MAX_MS, BACKOFF_MS * 2 ** (c.failures - 1));
    c.until = this.now() + (cause.retryAfterMs ?? backoff);
    this.cooling.set(provider, c);
  }

  private rank(providers: readonly RoutedProvider[], kind: RouteKind): RoutedProvider[] {
    const list = [...providers];
    if (kind === 'fastest') {
      // Measured ones by the time of a typical turn; unmeasured ones after them, in template order.
      const t = (p: RoutedProvider) => {
        const s = this.speeds.get(p.speedKey);
        return s ? turnSeconds(s) : Number.POSITIVE_INFINITY;
      };
      return list.sort((a, b) => t(a) - t(b));
    }
    if (kind === 'cheapest') return list.sort((a, b) => (a.turnUsd ?? Number.POSITIVE_INFINITY) - (b.turnUsd ?? Number.POSITIVE_INFINITY));
    return list;
  }
}
