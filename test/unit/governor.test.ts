// The rate governor on its own, on vitest's fake clock: limits per key, the fair queue, windows moving on, pauses the
// provider asks for, waits abandoned. Plus the budget reservation math and how a 429's headers become a pause.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { effectiveLimits, MOONSHOT_TIERS, type EffectiveLimits } from '../../electron/shared/contract.ts';
import { Governor, PriceTable, RESERVE_OUTPUT_CAP, rateLimitPauseMs, type Ticket } from '../../electron/engine/meter/index.ts';
import { reservationUsd } from '../../electron/engine/meter/budget.ts';
import type { RunState } from '../../electron/engine/meter/figures.ts';
import { bodyError, parseBody } from '../fixtures/templates.ts';

const limits = (l: Partial<EffectiveLimits>): EffectiveLimits => ({ concurrency: null, rpm: null, tpm: null, ...l });

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** Queues `n` requests of a session; records the order they are admitted in. */
function queue(g: Governor, sessionId: string, n: number, order: string[], tickets: Ticket[], tokens = 10) {
  const ac = new AbortController();
  const all = Array.from({ length: n }, (_, i) =>
    g.acquire('k', sessionId, tokens, ac.signal).then((t) => {
      order.push(`${sessionId}${i + 1}`);
      tickets.push(t);
      return t;
    }),
  );
  return { all, abort: () => ac.abort() };
}

const flush = () => vi.advanceTimersByTimeAsync(0);

describe('governor', () => {
  it('keeps requests in flight at the concurrency limit; a slot freed admits the next', async () => {
    const g = new Governor();
    g.configure('k', 'MOONSHOT_API_KEY', limits({ concurrency: 2 }));
    const a = g.tryAcquire('k', 10)!;
    const b = g.tryAcquire('k', 10)!;
    expect(a).not.toBeNull();
    expect(b).not.toBeNull();
    expect(g.tryAcquire('k', 10)).toBeNull();
    const order: string[] = [];
    const tickets: Ticket[] = [];
    queue(g, 's', 1, order, tickets);
    await flush();
    expect(order).toEqual([]);
    expect(g.views()[0]).toMatchObject({ key: 'MOONSHOT_API_KEY', inFlight: 2, queued: 1 });
    a.release(50);
    await flush();
    expect(order).toEqual(['s1']);
    expect(g.views()[0]).toMatchObject({ inFlight: 2, queued: 0, rpm: 3 });
  });

  it('is fair: a session looping on requests delays another session’s one request by at most one slot', async () => {
    const g = new Governor();
    g.configure('k', 'K', limits({ concurrency: 1 }));
    const first = g.tryAcquire('k', 10)!;
    const order: string[] = [];
    const tickets: Ticket[] = [first];
    queue(g, 'chatty', 10, order, tickets);
    await flush();
    queue(g, 'quiet', 1, order, tickets);
    await flush();
    // Each admitted request ends at once; the queue drains one slot at a time.
    for (let i = 0; i < 11; i++) {
      tickets[i]!.release(10);
      await flush();
    }
    expect(order.indexOf('quiet1')).toBeLessThanOrEqual(1);
    expect(order).toEqual([
      'chatty1',
      'quiet1',
      'chatty2',
      'chatty3',
      'chatty4',
      'chatty5',
      'chatty6',
      'chatty7',
      'chatty8',
      'chatty9',
      'chatty10',
    ]);
  });

  it('counts requests per minute over a moving window, and admits again when the oldest leaves it', async () => {
    const g = new Governor({ windowMs: 60_000, marginMs: 0 });
    g.configure('k', 'K', limits({ rpm: 3 }));
    for (let i = 0; i < 3; i++) g.tryAcquire('k', 1)!.release(1);
    expect(g.tryAcquire('k', 1)).toBeNull();
    const order: string[] = [];
    queue(g, 's', 1, order, []);
    await vi.advanceTimersByTimeAsync(59_000);
    expect(order).toEqual([]);
    await vi.advanceTimersByTimeAsync(1_001);
    expect(order).toEqual(['s1']);
  });

  it('counts tokens per minute, corrected by what the request really used; a request bigger than the budget goes alone', async () => {
    const g = new Governor({ windowMs: 60_000, marginMs: 0 });
    g.configure('k', 'K', limits({ tpm: 1_000 }));
    const t = g.tryAcquire('k', 100)!;
    t.release(900); // it used 900, not the 100 estimated
    expect(g.views()[0]!.tpm).toBe(900);
    g.tryAcquire('k', 50)!.release(10); // never lowered below what was counted at the start
    expect(g.views()[0]!.tpm).toBe(950);
    expect(g.tryAcquire('k', 100)).toBeNull();
    expect(g.tryAcquire('k', 50)).not.toBeNull();
    vi.advanceTimersByTime(60_001);
    // Alone in its window, a request over the whole limit is not stuck forever.
    expect(g.tryAcquire('k', 5_000)).not.toBeNull();
  });

  it('counts a request a little longer than the provider’s window (its clock starts when the request arrives there)', () => {
    const g = new Governor({ windowMs: 60_000 });
    g.configure('k', 'K', limits({ rpm: 1 }));
    g.tryAcquire('k', 1)!.release(1);
    vi.advanceTimersByTime(60_500);
    expect(g.tryAcquire('k', 1)).toBeNull();
    vi.advanceTimersByTime(600);
    expect(g.tryAcquire('k', 1)).not.toBeNull();
  });

  it('pauses a key when the provider says so, then carries on', async () => {
    const g = new Governor();
    g.configure('k', 'K', limits({}));
    g.pause('k', 5_000);
    expect(g.tryAcquire('k', 1)).toBeNull();
    expect(g.views()[0]!.pausedUntil).not.toBeNull();
    const order: string[] = [];
    queue(g, 's', 1, order, []);
    await vi.advanceTimersByTimeAsync(4_900);
    expect(order).toEqual([]);
    await vi.advanceTimersByTimeAsync(200);
    expect(order).toEqual(['s1']);
  });

  it('a wait abandoned by its client leaves the queue; close rejects every waiter', async () => {
    const g = new Governor();
    g.configure('k', 'K', limits({ concurrency: 1 }));
    const held = g.tryAcquire('k', 1)!;
    const positions: (number | null)[] = [];
    g.on('queue', (id, ahead) => id === 'a' && positions.push(ahead));
    const a = queue(g, 'a', 1, [], []);
    const b = queue(g, 'b', 1, [], []);
    a.abort();
    await expect(a.all[0]).rejects.toThrow(/went away/);
    expect(positions).toEqual([0, 0, null]);
    expect(g.views()[0]!.queued).toBe(1);
    g.close();
    await expect(b.all[0]).rejects.toThrow(/closed/);
    held.release(null);
  });

  it('a key without limits admits everything; Moonshot tiers are named limits', () => {
    const g = new Governor();
    g.configure('k', 'K', effectiveLimits(undefined));
    for (let i = 0; i < 100; i++) expect(g.tryAcquire('k', 1_000_000)).not.toBeNull();
    expect(effectiveLimits({ tier: 1 })).toEqual({ concurrency: 50, rpm: 200, tpm: 2_000_000 });
    expect(effectiveLimits({ tier: 0, rpm: 10 })).toEqual({ concurrency: 1, rpm: 10, tpm: 500_000 });
    expect(Object.keys(MOONSHOT_TIERS)).toEqual(['0', '1', '2', '3', '4', '5']);
  });
});

describe('429 pauses', () => {
  it('reads retry-after (seconds or a date), then the rate-limit reset headers, else a second', () => {
    const now = Date.parse('2026-12-01T10:00:00Z');
    expect(rateLimitPauseMs({ 'retry-after': '5' }, now)).toBe(5_000);
    expect(rateLimitPauseMs({ 'retry-after': 'Tue, 01 Dec 2026 10:00:07 GMT' }, now)).toBe(7_000);
    expect(rateLimitPauseMs({ 'x-ratelimit-reset-requests': '1m30s' }, now)).toBe(90_000);
    expect(rateLimitPauseMs({ 'x-ratelimit-reset-tokens': '250ms' }, now)).toBe(250);
    expect(rateLimitPauseMs({}, now)).toBe(1_000);
  });
});

describe('budget reservations', () => {
  const run = { info: { prices: PriceTable.shipped() } } as unknown as RunState;
  const k26 = PriceTable.shipped().get('kimi-k2.6')!;

  it('reserve the prompt at the uncached input price and the output limit, capped, at the output price', () => {
    expect(reservationUsd(run, 'kimi-k2.6', 10_000, 1_000)).toBeCloseTo((10_000 * k26.inputUsd + 1_000 * k26.outputUsd) / 1e6, 12);
    // Claude Code's max_tokens 32 000 is capped; no limit at all counts the cap.
    expect(reservationUsd(run, 'kimi-k2.6', 0, 32_000)).toBeCloseTo((RESERVE_OUTPUT_CAP * k26.outputUsd) / 1e6, 12);
    expect(reservationUsd(run, 'kimi-k2.6', 0, null)).toBeCloseTo((RESERVE_OUTPUT_CAP * k26.outputUsd) / 1e6, 12);
    // An unpriced model reserves nothing (its spend is tokens, not dollars).
    expect(reservationUsd(run, 'mystery-model', 10_000, 1_000)).toBe(0);
  });
});

describe('provider.limits in templates', () => {
  const parse = parseBody;
  const message = (yaml: string) => bodyError(yaml).message;

  it('a tier and/or numbers; kept as written, resolved by effectiveLimits', () => {
    expect(parse('provider:\n  limits: { tier: 1, concurrency: 8 }\n').provider.limits).toEqual({ tier: 1, concurrency: 8 });
    expect(effectiveLimits(parse('provider:\n  limits: { tier: 1, concurrency: 8 }\n').provider.limits)).toEqual({
      concurrency: 8,
      rpm: 200,
      tpm: 2_000_000,
    });
    expect(parse('').provider.limits).toBeUndefined();
  });

  it('zero, negative or fractional limits and an unknown tier are refused by field and line', () => {
    expect(message('provider:\n  limits: { rpm: 0 }\n')).toBe(
      'run.yaml:3: provider.limits.rpm: must be a whole number of requests per minute, at least 1 (got 0)',
    );
    expect(message('provider:\n  limits: { concurrency: -2 }\n')).toMatch(
      /provider\.limits\.concurrency: must be a whole number of requests in flight, at least 1 \(got -2\)/,
    );
    expect(message('provider:\n  limits: { tpm: 1.5 }\n')).toMatch(/provider\.limits\.tpm: must be a whole number of tokens per minute/);
    expect(message('provider:\n  limits: { tier: 7 }\n')).toMatch(
      /provider\.limits\.tier: must be a Moonshot tier: one of 0, 1, 2, 3, 4, 5 \(got 7\)/,
    );
    expect(message('provider:\n  limits: { rpn: 5 }\n')).toMatch(/unknown field 'rpn' — did you mean 'rpm'\?/);
  });
});
