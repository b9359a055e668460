// The translation stage: an agent that speaks Anthropic Messages (Claude Code) on a host that serves OpenAI Chat
// Completions. Requests are translated before compat, budget and governor see them (they see what goes upstream);
// responses after the meter has read them (it bills what the host reported). The public face of the folder.
export { anthropicToChat, type TranslatedRequest, type TranslateRequestOptions } from './request.ts';
export { ChatToAnthropicStream, anthropicErrorType, stopReason } from './stream.ts';
export { chatErrorToAnthropic, chatJsonToAnthropic } from './response.ts';
export { anthropicUsage, estimateTokensOfJson, type AnthropicUsage } from './usage.ts';
export {
  answerLocally,
  translateBody,
  translatePath,
  translatingWriter,
  type ResponseWriter,
  type TranslatedBody,
  type TranslatedPath,
} from './exchange.ts';
