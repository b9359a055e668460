// One authenticated GET to a provider's own API on the base URL's origin (Moonshot serves /v1/models and
// /v1/users/me/balance there, beside the Anthropic surface): every failure is an 'upstream' error naming the URL.
import { EngineError } from '../errors.ts';

export async function getProviderJson(baseUrl: string, path: string, key: string): Promise<{ url: string; body: unknown }> {
  const url = `${new URL(baseUrl).origin}${path}`;
  let res: Response;
  try {
    res = await fetch(url, { headers: { authorization: `Bearer ${key}` }, signal: AbortSignal.timeout(10_000) });
  } catch (err) {
    throw new EngineError('upstream', `could not reach ${url}: ${(err as Error).message}`);
  }
  const text = await res.text();
  if (!res.ok) throw new EngineError('upstream', `${url} answered ${res.status}: ${text.slice(0, 300)}`);
  try {
    return { url, body: JSON.parse(text) };
  } catch {
    throw new EngineError('upstream', `${url} did not answer JSON`);
  }
}
