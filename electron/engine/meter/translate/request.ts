// Anthropic Messages → OpenAI Chat Completions, for an agent that speaks only Anthropic (Claude Code) on a host that
// serves only OpenAI-style chat (most of K2's fast hosts). What each part becomes:
//   system (string or blocks), and role "system" turns inside messages → system messages, in place;
//   text → content; image (base64 or url) → image_url parts; tool_use → tool_calls (ids kept as they are: Claude Code
//   echoes the ids the host gave it, so K2's own `functions.<name>:<n>` ids survive the round trip — llxprt-code #712);
//   tool_result → a `tool` message right after the assistant turn; thinking → reasoning_content (kimi-k3 and
//   kimi-k2.7-code want it back on later turns: cc-switch #3219); tools → functions; tool_choice; stop_sequences → stop.
// Dropped, because Chat has no place for them: cache_control marks (hosts with automatic prefix caching need none),
// metadata, context_management, output_config, server tools (web search …) and redacted thinking.
import { estimateTokensOfJson } from './usage.ts';

type Json = Record<string, any>;

export interface TranslateRequestOptions {
  /** The host's id for the model (a provider entry maps the template's model to it); default: the body's model. */
  model?: string;
}

export interface TranslatedRequest {
  body: Json;
  /** Whether the agent asked for a stream (the response is translated as one). */
  stream: boolean;
  /** A rough count of the prompt's tokens (message_start's usage until the host reports the real one). */
  promptTokensEstimate: number;
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((b: Json) => (b?.type === 'text' ? String(b.text ?? '') : b?.type === 'tool_reference' ? `[tool ${b.tool_name ?? ''}]` : ''))
    .filter(Boolean)
    .join('\n');
}

function imagePart(b: Json): Json | null {
  const src = b.source;
  if (src?.type === 'base64' && typeof src.data === 'string')
    return { type: 'image_url', image_url: { url: `data:${src.media_type};base64,${src.data}` } };
  if (src?.type === 'url' && typeof src.url === 'string') return { type: 'image_url', image_url: { url: src.url } };
  return null;
}

/** A user turn: its tool results become `tool` messages (first, as Chat wants them next to the calls), the rest one user message. */
function userMessages(content: unknown): Json[] {
  if (typeof content === 'string') return [{ role: 'user', content }];
  if (!Array.isArray(content)) return [];
  const out: Json[] = [];
  const parts: Json[] = [];
  for (const b of content as Json[]) {
    if (b?.type === 'tool_result') {
      const text = textOf(b.content);
      out.push({ role: 'tool', tool_call_id: String(b.tool_use_id ?? ''), content: b.is_error ? `Error: ${text}` : text });
      // An image a tool returned (a screenshot, a PDF page) goes to the model as a user part after the results.
      if (Array.isArray(b.content))
        for (const x of b.content as Json[]) if (x?.type === 'image') parts.push(imagePart(x) ?? { type: 'text', text: '[image]' });
    } else if (b?.type === 'text') parts.push({ type: 'text', text: String(b.text ?? '') });
    else if (b?.type === 'image') {
      const img = imagePart(b);
      if (img) parts.push(img);
    } else if (b?.type === 'document') parts.push({ type: 'text', text: textOf(b.source?.content) || String(b.source?.data ?? '') });
  }
  if (parts.length) {
    const onlyText = parts.every((p) => p.type === 'text');
    out.push({ role: 'user', content: onlyText ? parts.map((p) => p.text).join('\n') : parts });
  }
  return out;
}

function assistantMessage(content: unknown): Json {
  if (typeof content === 'string') return { role: 'assistant', content };
  const texts: string[] = [];
  const reasoning: string[] = [];
  const calls: Json[] = [];
  for (const b of (Array.isArray(content) ? content : []) as Json[]) {
    if (b?.type === 'text') texts.push(String(b.text ?? ''));
    else if (b?.type === 'thinking') reasoning.push(String(b.thinking ?? ''));
    else if (b?.type === 'tool_use')
      calls.push({
        id: String(b.id ?? ''),
        type: 'function',
        function: { name: String(b.name ?? ''), arguments: JSON.stringify(b.input ?? {}) },
      });
  }
  const m: Json = { role: 'assistant', content: texts.length ? texts.join('\n') : null };
  if (reasoning.length) m.reasoning_content = reasoning.join('\n');
  if (calls.length) m.tool_calls = calls;
  return m;
}

function toolChoice(tc: Json | undefined): unknown {
  switch (tc?.type) {
    case 'auto':
      return 'auto';
    case 'any':
      return 'required';
    case 'none':
      return 'none';
    case 'tool':
      return { type: 'function', function: { name: tc.name } };
    default:
      return undefined;
  }
}

export function anthropicToChat(body: Json, opts: TranslateRequestOptions = {}): TranslatedRequest {
  const messages: Json[] = [];
  const system = textOf(body.system);
  if (system) messages.push({ role: 'system', content: system });
  for (const m of (Array.isArray(body.messages) ? body.messages : []) as Json[]) {
    if (m?.role === 'system') {
      const text = textOf(m.content);
      if (text) messages.push({ role: 'system', content: text });
    } else if (m?.role === 'assistant') messages.push(assistantMessage(m.content));
    else messages.push(...userMessages(m?.content));
  }
  const out: Json = { model: opts.model ?? body.model, messages };
  // Only the agent's own tools: server tools (web_search_…, code_execution_…) have no Chat equivalent.
  const tools = (Array.isArray(body.tools) ? body.tools : []).filter(
    (t: Json) => t && (t.type === undefined || t.type === 'custom') && t.name,
  );
  if (tools.length)
    out.tools = tools.map((t: Json) => ({
      type: 'function',
      function: {
        name: t.name,
        ...(t.description ? { description: t.description } : {}),
        parameters: t.input_schema ?? { type: 'object' },
      },
    }));
  const choice = tools.length ? toolChoice(body.tool_choice) : undefined;
  if (choice !== undefined) out.tool_choice = choice;
  if (body.tool_choice?.disable_parallel_tool_use === true && tools.length) out.parallel_tool_calls = false;
  if (typeof body.max_tokens === 'number') out.max_tokens = body.max_tokens;
  for (const k of ['temperature', 'top_p'] as const) if (typeof body[k] === 'number') out[k] = body[k];
  if (Array.isArray(body.stop_sequences) && body.stop_sequences.length) out.stop = body.stop_sequences;
  const stream = body.stream === true;
  if (stream) {
    out.stream = true;
    out.stream_options = { include_usage: true };
  }
  return { body: out, stream, promptTokensEstimate: estimateTokensOfJson([body.system, body.messages, body.tools]) };
}
