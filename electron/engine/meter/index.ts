// The meter: the per-session proxy, usage parsing, prices, the spend ledger and budgets.
export { MeterProxy, proxyUrl, errorBody } from './proxy.ts';
export type {
  MeterProxyOptions,
  ProxyRequestEvent,
  ProxyRoute,
  ProxyStyle,
  ProxyTap,
  ProxyTapContext,
  ProxyTapFactory,
  RequestDecision,
} from './proxy.ts';
export { Meter } from './meter.ts';
export type { MeteredRun, MeteredSession } from './meter.ts';
export { PriceTable, effectivePrices, loadSettings, parseSettings, saveSettings, referenceCost } from './prices.ts';
export { ProviderKeys } from './keys.ts';
export type { Settings } from './prices.ts';
export { SpendLedger } from './ledger.ts';
export { fetchBalance } from './balance.ts';
