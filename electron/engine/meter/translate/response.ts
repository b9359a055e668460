// A whole Chat Completions answer (not streamed) or a host's error, in Anthropic's shape.
import { describeBody } from '../body-text.ts';
import { TRANSLATED_SIGNATURE, anthropicErrorType, stopReason } from './stream.ts';
import { anthropicUsage } from './usage.ts';

type Json = Record<string, any>;

export function chatJsonToAnthropic(chat: Json, model: string): Json {
  const choice = (chat.choices?.[0] ?? {}) as Json;
  const m = (choice.message ?? {}) as Json;
  const content: Json[] = [];
  const reasoning = m.reasoning_content ?? m.reasoning;
  if (typeof reasoning === 'string' && reasoning) content.push({ type: 'thinking', thinking: reasoning, signature: TRANSLATED_SIGNATURE });
  if (typeof m.content === 'string' && m.content) content.push({ type: 'text', text: m.content });
  let n = 0;
  for (const c of (Array.isArray(m.tool_calls) ? m.tool_calls : []) as Json[]) {
    const name = String(c.function?.name ?? '');
    let input: unknown = {};
    try {
      input = JSON.parse(String(c.function?.arguments ?? '{}') || '{}');
    } catch {
      // Arguments that are not JSON reach the agent as they came: its own validation says what is wrong.
      input = { _raw: String(c.function?.arguments ?? '') };
    }
    content.push({ type: 'tool_use', id: typeof c.id === 'string' && c.id ? c.id : `functions.${name}:${n}`, name, input });
    n++;
  }
  if (content.length === 0) content.push({ type: 'text', text: '' });
  return {
    id: `msg_${String(chat.id ?? '').replace(/[^A-Za-z0-9_-]/g, '') || Date.now().toString(36)}`,
    type: 'message',
    role: 'assistant',
    model: typeof chat.model === 'string' ? chat.model : model,
    content,
    stop_reason: stopReason(choice.finish_reason),
    stop_sequence: null,
    usage: anthropicUsage(chat.usage ?? choice.usage),
  };
}

// Context overflows in the hosts' words (Moonshot, vLLM, SGLang, OpenAI): Claude Code compacts on "prompt is too long".
const CONTEXT_OVERFLOW =
  /exceeded model token limit|maximum context length|context length|context_length_exceeded|too many tokens|prompt is too long/i;

/** A host's error body (any shape) as Anthropic's error envelope, for the status it came with. */
export function chatErrorToAnthropic(status: number, bodyText: string): Json {
  let type: unknown = null;
  let message = bodyText.trim().slice(0, 2000) || `HTTP ${status}`;
  try {
    const j = JSON.parse(bodyText) as Json;
    const e = (j.error ?? j) as Json;
    if (typeof e === 'string') message = e;
    else {
      if (typeof e.message === 'string') message = e.message;
      type = e.type ?? e.code ?? null;
    }
  } catch {
    // Not JSON: the text is the message; an HTML page (a load balancer's) says only its title.
    if (/<html|<!doctype/i.test(bodyText)) message = `the host answered ${status} with ${describeBody(bodyText)} instead of an API error`;
  }
  if (CONTEXT_OVERFLOW.test(message) && !/prompt is too long/i.test(message)) message = `prompt is too long: ${message}`;
  return { type: 'error', error: { type: anthropicErrorType(status, type, message), message } };
}
