// The provider account's balance. Moonshot has `GET /v1/users/me/balance` on its OpenAI surface; the Anthropic-compatible
// base URL (…/anthropic) shares the host, so the endpoint is found from the origin.
import type { Balance } from '../../shared/contract.ts';
import { EngineError } from '../errors.ts';
import { getProviderJson } from './provider-http.ts';

const SUPPORTED = new Set(['moonshot', 'moonshot-openai', 'custom']);

export async function fetchBalance(baseUrl: string, key: string, preset: string): Promise<Balance> {
  if (!SUPPORTED.has(preset)) throw new EngineError('unsupported', `provider ${preset} has no balance endpoint Flotilla knows`);
  const { url, body } = (await getProviderJson(baseUrl, '/v1/users/me/balance', key)) as {
    url: string;
    body: { data?: { available_balance?: unknown; cash_balance?: unknown; voucher_balance?: unknown } } | null;
  };
  const num = (v: unknown) => (typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : null);
  const available = num(body?.data?.available_balance);
  if (available === null || Number.isNaN(available)) throw new EngineError('upstream', `${url} answered without data.available_balance`);
  return { availableUsd: available, cashUsd: num(body?.data?.cash_balance), voucherUsd: num(body?.data?.voucher_balance) };
}
