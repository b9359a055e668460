// The models a provider offers: its own `GET /v1/models` (Moonshot serves it on the origin, beside the Anthropic surface),
// matched against the price table so the launch dialog can say which are priced, how large their context is, and which
// are retired.
import type { ModelChoice } from '../../shared/contract.ts';
import { EngineError } from '../errors.ts';
import { PriceTable } from '../meter/index.ts';

/** The shipped table's models (priced and known-unpriced), newest families first as the table lists them. */
export function shippedModels(): ModelChoice[] {
  const t = PriceTable.shipped();
  const priced = t.entries().map((e) => ({ id: e.model, priced: true, contextWindow: e.contextWindow, retiredOn: e.retiredOn ?? null }));
  const unpriced = PriceTable.unpriced().map((u) => ({ id: u.model, priced: false, contextWindow: u.contextWindow, retiredOn: null }));
  return [...priced, ...unpriced];
}

export function describeModel(id: string): ModelChoice {
  const t = PriceTable.shipped();
  const e = t.get(id);
  return { id, priced: e !== null, contextWindow: t.contextWindow(id), retiredOn: e?.retiredOn ?? null };
}

export async function fetchModels(baseUrl: string, key: string): Promise<ModelChoice[]> {
  const url = `${new URL(baseUrl).origin}/v1/models`;
  let res: Response;
  try {
    res = await fetch(url, { headers: { authorization: `Bearer ${key}` }, signal: AbortSignal.timeout(10_000) });
  } catch (err) {
    throw new EngineError('upstream', `could not reach ${url}: ${(err as Error).message}`);
  }
  const text = await res.text();
  if (!res.ok) throw new EngineError('upstream', `${url} answered ${res.status}: ${text.slice(0, 300)}`);
  let body: { data?: { id?: unknown }[] };
  try {
    body = JSON.parse(text);
  } catch {
    throw new EngineError('upstream', `${url} did not answer JSON`);
  }
  const ids = (body.data ?? []).map((m) => m?.id).filter((id): id is string => typeof id === 'string' && id.length > 0);
  return [...new Set(ids)].sort().map(describeModel);
}
