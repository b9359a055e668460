// The meter: the per-session proxy, usage parsing, prices, the spend ledger, budgets and the rate governor. The public
// face of the folder.
export { MeterProxy, proxyUrl } from './proxy.ts';
export { errorBody } from './proxy-wire.ts';
export type {
  FailoverCause,
  MeterProxyOptions,
  ProviderChoice,
  ProxyRequestEvent,
  ProxyRoute,
  ProxyTap,
  ProxyTapContext,
  ProxyTapFactory,
  RequestDecision,
} from './proxy-types.ts';
export { DEFAULT_HOLD_MS, Meter } from './meter.ts';
export { Governor, rateLimitPauseMs, type GovernorOptions, type Ticket } from './governor.ts';
export { RESERVE_OUTPUT_CAP } from './budget.ts';
export type { MeteredRun, MeteredSession, MeterOptions } from './meter.ts';
export { RejectedRequests, curlOf, type RejectedRecord } from './rejected.ts';
export {
  DEFAULT_REFERENCE_MODEL,
  PriceError,
  PriceTable,
  SHIPPED_PRICES_AS_OF,
  SHIPPED_PRICES_SOURCES,
  effectivePrices,
  effectiveReferenceModel,
  referenceCost,
} from './prices.ts';
export { SpendLedger } from './ledger.ts';
export {
  ProviderRouter,
  TYPICAL_TURN,
  speedKey,
  turnSeconds,
  type RouteKind,
  type RoutedProvider,
  type Speed,
} from './routing.ts';
export { createResponseParser } from './usage/index.ts';
export { anthropicToChat } from './translate/index.ts';
export {
  COMPAT_PROFILES,
  CompatProfile,
  RULES,
  RULE_IDS,
  compatProfile,
  ruleById,
  ruleForRejection,
  type CompatRule,
  type RuleFire,
  type RuleTweak,
} from './compat/index.ts';
