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
  if (surface === 'openai') return null;
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
