export { MeterProxy, proxyUrl, errorBody } from './proxy.ts';
export type {
  MeterProxyOptions,
  ProxyRequestEvent,
  ProxyRoute,
  ProxyStyle,
  ProxyTap,
  ProxyTapContext,
  ProxyTapFactory,
} from './proxy.ts';
