// Who served a run of several providers, from its ledger: per provider, the requests it answered, its time to first
// token and output rate (medians), its dollars, its errors and the requests it passed on to another provider. The Spend
// panel's table and `flotilla run`'s report both read it.
import type { LedgerRow } from './spend.ts';

export interface ProviderFigures {
  provider: string;
  /** Requests it answered (passed-on attempts not counted). */
  requests: number;
  ttftP50Ms: number | null;
  tokensPerSecP50: number | null;
  usd: number;
  /** Answers that were errors the agent saw. */
  errors: number;
  /** Attempts that failed before the first byte and went on to another provider. */
  failovers: number;
}

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** One row per provider that appears in the ledger, in the order each first served; [] for a run of one provider. */
export function providerTable(rows: readonly LedgerRow[]): ProviderFigures[] {
  const by = new Map<string, { rows: LedgerRow[] }>();
  for (const r of rows) {
    if (r.provider === null || r.state === 'open' || r.state === 'refused') continue;
    const e = by.get(r.provider) ?? { rows: [] };
    e.rows.push(r);
    by.set(r.provider, e);
  }
  return [...by].map(([provider, { rows: list }]) => {
    const answered = list.filter((r) => !r.failedOver);
    const ok = answered.filter((r) => r.state === 'exact');
    const rates = ok
      .filter((r) => r.outputTokens > 0 && r.durationMs !== null && r.ttftMs !== null && r.durationMs > r.ttftMs)
      .map((r) => r.outputTokens / ((r.durationMs! - r.ttftMs!) / 1000));
    return {
      provider,
      requests: answered.length,
      ttftP50Ms: median(ok.flatMap((r) => (r.ttftMs === null ? [] : [r.ttftMs]))),
      tokensPerSecP50: median(rates),
      usd: list.reduce((a, r) => a + r.usd, 0),
      errors: answered.filter((r) => r.state === 'error').length,
      failovers: list.length - answered.length,
    };
  });
}
