// The compatibility rules: each makes one thing Claude Code (or another agent) sends fit a model that is reported to
// refuse it. A rule is data — an id, the models and wire styles it applies to, what it changes, the public report it
// answers, the provider's words it is the fix for — plus one function over the parsed request body. A rule changes only
// what it names; nothing is stripped blindly. Rules run on the proxy's path: they look before they touch, and a body
// none of them touches is forwarded byte for byte.
import type { ApiStyle } from '../../../shared/contract.ts';
import { CACHE_RULES } from './cache-rules.ts';
import { K2_CHAT_RULES } from './k2-chat-rules.ts';

export type { Body, CompatOptions, CompatRule, RuleContext } from './types.ts';
import type { Body, CompatRule } from './types.ts';

const ALL: readonly ApiStyle[] = ['anthropic', 'openai', 'responses'];

// ---------------------------------------------------------------------------------------------------------------------
// thinking-enabled

const thinkingEnabled: CompatRule = {
  id: 'thinking-enabled',
  member: 'thinking',
  summary: 'thinking set to {"type":"enabled"} (Claude Code sends "adaptive", and none on side requests)',
  report: 'MoonshotAI/Kimi-K2#141 — kimi-k2.7-code: "invalid thinking: only type=enabled is allowed for this model"',
  models: /^kimi-k2\.7-code/,
  styles: ['anthropic'],
  fixes: /only type=enabled|invalid thinking/i,
  apply(body, ctx) {
    const before = body.thinking;
    const budget = ctx.options.thinkingBudgetTokens;
    if (before && typeof before === 'object' && before.type === 'enabled' && (budget === null || typeof before.budget_tokens === 'number'))
      return null;
    const next: Record<string, unknown> = { type: 'enabled' };
    if (budget !== null) {
      const max = typeof body.max_tokens === 'number' ? body.max_tokens : budget + 1;
      next.budget_tokens = Math.max(1024, Math.min(budget, max - 1));
    }
    body.thinking = next;
    const was = before && typeof before === 'object' && typeof before.type === 'string' ? `"${before.type}"` : 'none';
    return `thinking ${was} → "enabled"`;
  },
};

// ---------------------------------------------------------------------------------------------------------------------
// Content blocks the model cannot take, as text it can read

/** Every content-block array of an Anthropic body: each message's content and the content of its tool_results. */
function* blockArrays(body: Body): Generator<any[]> {
  if (!Array.isArray(body.messages)) return;
  for (const m of body.messages) {
    if (!Array.isArray(m?.content)) continue;
    yield m.content;
    for (const b of m.content) if (b?.type === 'tool_result' && Array.isArray(b.content)) yield b.content;
  }
}

/** Replaces the blocks of `type` with what `toText` makes of each; returns how many it replaced. */
function replaceBlocks(body: Body, type: string, toText: (block: any) => string): number {
  let n = 0;
  for (const blocks of blockArrays(body)) {
    for (let i = 0; i < blocks.length; i++) {
      const b = blocks[i];
      if (b?.type !== type) continue;
      blocks[i] = { type: 'text', text: toText(b) };
      n++;
    }
  }
  return n;
}

const toolReferenceAsText: CompatRule = {
  id: 'tool-reference-as-text',
  summary: 'tool_reference blocks (tool search) replaced by a line naming the tool',
  report: 'MoonshotAI/Kimi-K2#118 — "unsupported content type: tool_reference" (tool search with deferred MCP tools)',
  models: /^kimi-/,
  styles: ['anthropic'],
  fixes: /tool_reference/i,
  apply(body) {
    const n = replaceBlocks(body, 'tool_reference', (b) => `Tool available: ${typeof b.tool_name === 'string' ? b.tool_name : 'unknown'}`);
    return n ? `${n} tool_reference block(s) → text` : null;
  },
};

function kb(base64: unknown): string {
  return typeof base64 === 'string' ? `${Math.round((base64.length * 3) / 4 / 1024)} KB` : 'size unknown';
}

const documentAsText: CompatRule = {
  id: 'document-as-text',
  summary: 'document blocks (PDF reads) replaced by their text, or by a note saying what was dropped',
  report: "MoonshotAI/Kimi-K2.5#27 — \"Input tag 'document' found using 'type' does not match any of the expected tags\"",
  models: /^kimi-/,
  styles: ['anthropic'],
  fixes: /'document'|document.*does not match/i,
  apply(body, ctx) {
    const dropped: string[] = [];
    const n = replaceBlocks(body, 'document', (b) => {
      const src = b.source ?? {};
      const title = typeof b.title === 'string' ? b.title : 'document';
      if (src.type === 'text' && typeof src.data === 'string') return `[document: ${title}]\n${src.data}`;
      if (src.type === 'content' && Array.isArray(src.content))
        return `[document: ${title}]\n${src.content.map((c: any) => (typeof c?.text === 'string' ? c.text : '')).join('\n')}`;
      const what = src.type === 'url' ? `at ${src.url}` : `${src.media_type ?? 'binary'}, ${kb(src.data)}`;
      dropped.push(title);
      return `[Flotilla removed a document here (${title}, ${what}): ${ctx.model} does not take document blocks. Read the file as text instead, e.g. with pdftotext.]`;
    });
    if (!n) return null;
    return dropped.length
      ? `${n} document block(s) → text (${dropped.length} binary dropped: ${dropped.join(', ')})`
      : `${n} document block(s) → text`;
  },
};

// ---------------------------------------------------------------------------------------------------------------------
// tools-max

function toolName(t: any): string {
  return typeof t?.name === 'string' ? t.name : typeof t?.function?.name === 'string' ? t.function.name : '';
}

/** Claude Code's stand-in for tools it will load later; and tools it marks to load on demand. */
const isDeferred = (t: any): boolean => toolName(t) === 'DeferredToolPlaceholder' || t?.defer_loading === true;
/** `mcp__<server>__<tool>` → server. */
const mcpServer = (name: string): string | null => /^mcp__(.+?)__/.exec(name)?.[1] ?? null;

const toolsMax: CompatRule = {
  id: 'tools-max',
  summary: 'more tools than the provider takes: deferred placeholders dropped first, then the last MCP tools (their servers named)',
  report: 'MoonshotAI/Kimi-K2#90 — "a max of 128 tools can be supported" (many MCP servers)',
  models: null,
  styles: ALL,
  fixes: /max of \d+ tools/i,
  apply(body, ctx) {
    const tools = body.tools;
    const max = ctx.options.maxTools;
    if (!Array.isArray(tools) || tools.length <= max) return null;
    const before = tools.length;
    let kept = tools.filter((t) => !isDeferred(t));
    const deferred = before - kept.length;
    const servers = new Set<string>();
    if (kept.length > max) {
      // Drop MCP tools from the end (the built-in tools come first in every agent we know): the session keeps working.
      const out = [...kept];
      for (let i = out.length - 1; i >= 0 && out.length > max; i--) {
        const server = mcpServer(toolName(out[i]));
        if (server === null) continue;
        servers.add(server);
        out.splice(i, 1);
      }
      kept = out.length > max ? out.slice(0, max) : out;
    }
    body.tools = kept;
    const parts = [`${before} tools → ${kept.length}`];
    if (deferred) parts.push(`${deferred} deferred placeholder(s) dropped`);
    if (servers.size) parts.push(`tools of MCP server(s) ${[...servers].sort().join(', ')} dropped — fewer servers keep every tool`);
    return parts.join('; ');
  },
};

// ---------------------------------------------------------------------------------------------------------------------
// inline-schema-refs

/** A tool's JSON schema, where each wire style keeps it. */
function schemaHolders(body: Body): { holder: any; key: string }[] {
  if (!Array.isArray(body.tools)) return [];
  const out: { holder: any; key: string }[] = [];
  for (const t of body.tools) {
    if (t?.input_schema && typeof t.input_schema === 'object') out.push({ holder: t, key: 'input_schema' });
    else if (t?.function?.parameters && typeof t.function.parameters === 'object') out.push({ holder: t.function, key: 'parameters' });
    else if (t?.parameters && typeof t.parameters === 'object') out.push({ holder: t, key: 'parameters' });
  }
  return out;
}

const REF_DEPTH = 8;

function hasRefs(v: unknown, depth = 0): boolean {
  if (!v || typeof v !== 'object' || depth > 64) return false;
  if (Array.isArray(v)) return v.some((x) => hasRefs(x, depth + 1));
  const o = v as Record<string, unknown>;
  if (typeof o.$ref === 'string' || '$defs' in o || 'definitions' in o) return true;
  for (const k in o) if (hasRefs(o[k], depth + 1)) return true;
  return false;
}

/** The schema with local `#/$defs/…` and `#/definitions/…` references replaced by what they point to. */
function inline(schema: any, defs: Record<string, any>, depth: number): any {
  if (Array.isArray(schema)) return schema.map((x) => inline(x, defs, depth));
  if (!schema || typeof schema !== 'object') return schema;
  if (typeof schema.$ref === 'string') {
    const m = /^#\/(?:\$defs|definitions)\/(.+)$/.exec(schema.$ref);
    const target = m ? defs[decodeURIComponent(m[1]!)] : undefined;
    const { $ref: _ref, ...rest } = schema;
    // A recursive schema cannot be inlined forever: past a depth, say what was cut.
    if (target === undefined || depth >= REF_DEPTH)
      return { ...rest, description: `${rest.description ?? ''} (schema ${schema.$ref} not expanded)`.trim() };
    return { ...inline(target, defs, depth + 1), ...inline(rest, defs, depth) };
  }
  const out: Record<string, any> = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k === '$defs' || k === 'definitions') continue;
    out[k] = inline(v, defs, depth);
  }
  return out;
}

const inlineSchemaRefs: CompatRule = {
  id: 'inline-schema-refs',
  summary: 'tool schemas with $ref/$defs inlined (the provider wants self-contained schemas)',
  report: 'CommandCodeAI/command-code#594 — K3: "tools.function.parameters is not a valid moonshot flavored json schema"',
  models: /^kimi-k3/,
  styles: ALL,
  fixes: /moonshot flavored json schema|\$ref|\$defs/i,
  apply(body) {
    let n = 0;
    for (const { holder, key } of schemaHolders(body)) {
      const schema = holder[key];
      if (!hasRefs(schema)) continue;
      holder[key] = inline(schema, { ...(schema.definitions ?? {}), ...(schema.$defs ?? {}) }, 0);
      n++;
    }
    return n ? `${n} tool schema(s) inlined` : null;
  },
};

// ---------------------------------------------------------------------------------------------------------------------
// fold-system-messages

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((b: any) => (typeof b?.text === 'string' ? b.text : ''))
    .filter(Boolean)
    .join('\n');
}

const foldSystemMessages: CompatRule = {
  id: 'fold-system-messages',
  summary: 'role "system" messages inside messages moved into the top-level system prompt',
  report: 'anthropics/claude-code#63469 — strict Anthropic-compatible servers refuse role "system" in messages (unverified for Moonshot)',
  models: null,
  styles: ['anthropic'],
  fixes: /role.{0,20}system|system.{0,20}role|Unexpected role/i,
  apply(body) {
    if (!Array.isArray(body.messages)) return null;
    const folded = body.messages.filter((m: any) => m?.role === 'system');
    if (!folded.length) return null;
    body.messages = body.messages.filter((m: any) => m?.role !== 'system');
    const text = folded
      .map((m: any) => textOf(m.content))
      .filter(Boolean)
      .join('\n\n');
    if (text) {
      if (Array.isArray(body.system)) body.system = [...body.system, { type: 'text', text }];
      else body.system = typeof body.system === 'string' && body.system ? `${body.system}\n\n${text}` : text;
    }
    return `${folded.length} system message(s) folded into system`;
  },
};

/** Every rule, in the order they run. */
export const RULES: readonly CompatRule[] = [
  thinkingEnabled,
  toolReferenceAsText,
  documentAsText,
  toolsMax,
  inlineSchemaRefs,
  foldSystemMessages,
  ...K2_CHAT_RULES,
  ...CACHE_RULES,
];

export const RULE_IDS: readonly string[] = RULES.map((r) => r.id);

export function ruleById(id: string): CompatRule | undefined {
  return RULES.find((r) => r.id === id);
}
