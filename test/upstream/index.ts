export { startAnthropicUpstream, planResponse, parseSse } from './anthropic.ts';
export type { AnthropicUpstream, AnthropicUpstreamOptions, RecordedRequest } from './anthropic.ts';
