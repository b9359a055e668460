// The models a provider offers: its own `GET /v1/models` (Moonshot serves it on the origin, beside the Anthropic surface),
// matched against the price table so the launch dialog can say which are priced, how large their context is, and which
// are retired.
import type { ModelChoice } from '../../shared/contract.ts';
import { PriceTable } from '../meter/index.ts';
import { getProviderJson } from './provider-http.ts';

/** The shipped table's models (priced and known-unpriced), newest families first as the table lists them. */
export function shippedModels(): ModelChoice[] {
  const t = PriceTable.shipped();
  // A host's own price (`groq:…`) is not a model to pick.
  const priced = t
    .entries()
    .filter((e) => !e.model.includes(':'))
    .map((e) => ({ id: e.model, priced: true, contextWindow: e.contextWindow, retiredOn: e.retiredOn ?? null }));
  const unpriced = PriceTable.unpriced().map((u) => ({ id: u.model, priced: false, contextWindow: u.contextWindow, retiredOn: null }));
  return [...priced, ...unpriced];
}

export function describeModel(id: string): ModelChoice {
  const t = PriceTable.shipped();
  const e = t.get(id);
  return { id, priced: e !== null, contextWindow: t.contextWindow(id), retiredOn: e?.retiredOn ?? null };
}

export async function fetchModels(baseUrl: string, key: string): Promise<ModelChoice[]> {
  const body = (await getProviderJson(baseUrl, '/v1/models', key)).body as { data?: { id?: unknown }[] } | null;
  const ids = (body?.data ?? []).map((m) => m?.id).filter((id): id is string => typeof id === 'string' && id.length > 0);
  return [...new Set(ids)].sort().map(describeModel);
}
