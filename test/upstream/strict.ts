// A *strict Moonshot* stand-in: every rejection Moonshot is reported to make (k2-and-agents.md §7), with Moonshot's
// error shape and words, so each compatibility rule has a test where the real agent fails directly and succeeds through
// Flotilla. Enabled with `startUpstream({ strict: 'moonshot' })`.
export interface StrictRejection {
  status: number;
  type: string;
  message: string;
}

/** Models the strict stand-in serves (any other id is a 404, as Moonshot answers a retired or unmapped id). */
export const STRICT_MODELS = ['kimi-k2.6', 'kimi-k2.5', 'kimi-k2.7-code', 'kimi-k3', 'kimi-k3.1-pro'];

const MAX_TOOLS = 128;

function* blocks(body: any): Generator<any> {
  for (const m of Array.isArray(body?.messages) ? body.messages : []) {
    if (!Array.isArray(m?.content)) continue;
    for (const b of m.content) {
      yield b;
      if (b?.type === 'tool_result' && Array.isArray(b.content)) yield* b.content;
    }
  }
}

function hasRef(v: unknown, depth = 0): boolean {
  if (!v || typeof v !== 'object' || depth > 64) return false;
  if (Array.isArray(v)) return v.some((x) => hasRef(x, depth + 1));
  const o = v as Record<string, unknown>;
  if (typeof o.$ref === 'string' || '$defs' in o || 'definitions' in o) return true;
  return Object.values(o).some((x) => hasRef(x, depth + 1));
}

const schemaOf = (t: any): unknown => t?.input_schema ?? t?.function?.parameters ?? t?.parameters;

/** What strict Moonshot answers to this body (Anthropic surface unless `openai`), or null when it takes it. */
export function strictMoonshotRejection(body: any, models: readonly string[], surface: 'anthropic' | 'openai'): StrictRejection | null {
  const model = String(body?.model ?? '');
  if (!models.includes(model)) {
    return { status: 404, type: 'resource_not_found_error', message: `Not found the model ${model} or Permission denied` };
  }
  const tools = Array.isArray(body?.tools) ? body.tools : [];
  if (tools.length > MAX_TOOLS) {
    return {
      status: 400,
      type: 'invalid_request_error',
      message: `Invalid request: a max of ${MAX_TOOLS} tools can be supported, got ${tools.length}`,
    };
  }
  if (model.startsWith('kimi-k3') && tools.some((t: any) => hasRef(schemaOf(t)))) {
    return {
      status: 400,
      type: 'invalid_request_error',
      message: 'Invalid request: tools.function.parameters is not a valid moonshot flavored json schema, details: <$ref is not supported>',
    };
  }
  if (surface === 'openai') return strictK2ChatRejection(body, model);
  if (model.startsWith('kimi-k2.7-code') && body?.thinking?.type !== 'enabled') {
    return { status: 400, type: 'invalid_request_error', message: 'invalid thinking: only type=enabled is allowed for this model' };
  }
  for (const b of blocks(body)) {
    if (b?.type === 'tool_reference')
      return { status: 400, type: 'invalid_request_error', message: 'unsupported content type: tool_reference' };
    if (b?.type === 'document') {
      return {
        status: 400,
        type: 'invalid_request_error',
        message:
          "Input tag 'document' found using 'type' does not match any of the expected tags: 'text', 'image', 'tool_use', 'tool_result'",
      };
    }
  }
  return null;
}

const K2_ID = /^functions\.[A-Za-z0-9_.-]+:\d+$/;

/**
 * K2's rules on a Chat host (k2-and-agents.md §12): ids in K2's own form, reasoning_content back on every assistant
 * tool-call turn (kimi-k3, kimi-k2.7-code), fixed sampling (no temperature but 1), no tool_choice "required".
 */
function strictK2ChatRejection(body: any, model: string): StrictRejection | null {
  const bad = (message: string): StrictRejection => ({ status: 400, type: 'invalid_request_error', message });
  const messages: any[] = Array.isArray(body?.messages) ? body.messages : [];
  for (const [i, m] of messages.entries()) {
    for (const c of m?.role === 'assistant' && Array.isArray(m.tool_calls) ? m.tool_calls : [])
      if (!K2_ID.test(String(c?.id)))
        return bad(`Invalid request: tool call id ${JSON.stringify(c?.id)} in message ${i} is not a valid tool call id`);
    if (m?.role === 'tool' && !K2_ID.test(String(m.tool_call_id)))
      return bad(`Invalid request: tool_call_id ${JSON.stringify(m.tool_call_id)} in message ${i} is not a valid tool call id`);
    if (
      /^kimi-k3|^kimi-k2\.7-code/.test(model) &&
      m?.role === 'assistant' &&
      m.tool_calls?.length &&
      typeof m.reasoning_content !== 'string'
    )
      return bad(`thinking is enabled but reasoning_content is missing in assistant tool call message at index ${i}`);
  }
  if (/^kimi-k3|^kimi-k2\.[67]/.test(model)) {
    if (body.temperature !== undefined && body.temperature !== 1) return bad(`invalid temperature: only 1 is allowed for this model`);
    if (body.tool_choice === 'required' && !model.startsWith('kimi-k3')) return bad(`tool_choice 'required' is not supported by ${model}`);
  }
  return null;
}
