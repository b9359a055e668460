// Requests: which calls are billable, and what a request body says (model, stream, prompt size); the include_usage rewrite.
import { isCompactionRequest } from '../window.ts';
import type { RequestInfo, ApiStyle } from './types.ts';

function bare(path: string): string {
  let p = path;
  const q = p.search(/[?#]/);
  if (q >= 0) p = p.slice(0, q);
  while (p.length > 1 && p.endsWith('/')) p = p.slice(0, -1);
  return p;
}

/** The wire format a model-call path speaks, or null for any other path (models, balance, count_tokens, hello …). */
export function wireStyleForPath(path: string): ApiStyle | null {
  const p = bare(path);
  if (p.endsWith('/messages') || p === 'messages') return 'anthropic';
  if (p.endsWith('/chat/completions')) return 'openai';
  if (p.endsWith('/responses')) return 'responses';
  return null;
}

/**
 * POST …/messages (not …/messages/count_tokens), …/chat/completions, …/responses (not …/responses/{id}/…) → true; any
 * other method or path → false. Any prefix and query are allowed. The route's style does not restrict the path: a call
 * to any of the three model endpoints consumes tokens.
 */
export function isBillable(_style: ApiStyle, method: string, path: string): boolean {
  return method.toUpperCase() === 'POST' && wireStyleForPath(path) !== null;
}

const INCLUDE_USAGE = '"stream_options":{"include_usage":true}';

/**
 * Tolerant: a body that is not a JSON object gives {model: null, stream: false, rewritten: null, promptChars: 0}.
 * `rewrite` (the compatibility layer) may change the parsed body in place and return true; the body is then sent
 * re-serialised. The include_usage rewrite applies to OpenAI chat streams (style 'openai', or a …/chat/completions path)
 * that do not already ask for it. When nothing else changed and the body has no `stream_options` key, the member is
 * inserted textually after the opening brace, so every other byte stays as the agent sent it; otherwise the parsed body
 * is re-serialised with stream_options.include_usage = true (other options kept).
 */
/**
 * What a rewrite did: nothing (false), something anywhere (true: the body is re-serialised), or only replaced these
 * top-level members (their values before), which are spliced into the agent's own bytes when that can be done safely.
 */
export type RewriteOutcome = boolean | { members: { key: string; before: unknown }[] };

/**
 * `"key":<value>` replaced in the bytes of a compact JSON object (what agents send), or inserted after its opening
 * brace when it was absent; null when the old member cannot be found exactly once as written (then re-serialise).
 */
export function spliceMember(raw: Buffer, key: string, before: unknown, after: unknown): Buffer | null {
  const next = Buffer.from(`${JSON.stringify(key)}:${JSON.stringify(after)}`);
  if (before === undefined) {
    const brace = raw.indexOf(0x7b);
    if (brace < 0) return null;
    const rest = raw.subarray(brace + 1);
    const empty = rest.toString('latin1').trim() === '}';
    return Buffer.concat([raw.subarray(0, brace + 1), next, Buffer.from(empty ? '' : ','), rest]);
  }
  const old = Buffer.from(`${JSON.stringify(key)}:${JSON.stringify(before)}`);
  const at = raw.indexOf(old);
  if (at < 1 || raw.indexOf(old, at + 1) >= 0) return null;
  const prev = raw[at - 1];
  if (prev !== 0x7b && prev !== 0x2c) return null; // `{` or `,`: a member, not text inside a string
  return Buffer.concat([raw.subarray(0, at), next, raw.subarray(at + old.length)]);
}

export function inspectRequest(
  style: ApiStyle,
  path: string,
  body: Buffer,
  rewrite?: (o: Record<string, any>) => RewriteOutcome,
): RequestInfo {
  let o: any;
  try {
    o = JSON.parse(body.toString('utf8'));
  } catch {
    return { model: null, stream: false, rewritten: null, promptChars: 0, maxTokens: null };
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o))
    return { model: null, stream: false, rewritten: null, promptChars: 0, maxTokens: null };
  const outcome = rewrite ? rewrite(o) : false;
  const changed = outcome !== false;
  const model = typeof o.model === 'string' && o.model ? o.model : null;
  const stream = o.stream === true;
  const wire = wireStyleForPath(path) ?? style;
  let rewritten: Buffer | null = null;
  if (typeof outcome === 'object') {
    let b: Buffer | null = body;
    for (const m of outcome.members) b = b && spliceMember(b, m.key, m.before, o[m.key]);
    rewritten = b;
  }
  if (changed && rewritten === null) rewritten = Buffer.from(JSON.stringify(o));
  if (wire === 'openai' && stream) {
    const so = o.stream_options;
    if (!(so && typeof so === 'object' && so.include_usage === true)) {
      if (!changed && !Object.hasOwn(o, 'stream_options')) {
        const brace = body.indexOf(0x7b); // `{`: the first non-space byte of a JSON object
        const empty = Object.keys(o).length === 0;
        rewritten = Buffer.concat([
          body.subarray(0, brace + 1),
          Buffer.from(empty ? INCLUDE_USAGE : INCLUDE_USAGE + ','),
          body.subarray(brace + 1),
        ]);
      } else {
        const opts = so && typeof so === 'object' && !Array.isArray(so) ? so : {};
        rewritten = Buffer.from(JSON.stringify({ ...o, stream_options: { ...opts, include_usage: true } }));
      }
    }
  }
  const limit = o.max_tokens ?? o.max_output_tokens ?? o.max_completion_tokens;
  const maxTokens = typeof limit === 'number' && Number.isFinite(limit) && limit > 0 ? limit : null;
  return { model, stream, rewritten, promptChars: promptChars(wire, o), maxTokens, compaction: isCompactionRequest(o) };
}

/** Characters of the prompt's text: string values under the prompt keys, without inline base64 data (images, files). */
function promptChars(style: ApiStyle, o: Record<string, any>): number {
  const keys =
    style === 'anthropic'
      ? ['system', 'messages', 'tools']
      : style === 'openai'
        ? ['messages', 'tools', 'functions']
        : ['instructions', 'input', 'tools'];
  let n = 0;
  for (const k of keys) if (k in o) n += textChars(o[k], 0);
  return n;
}

function textChars(v: unknown, depth: number): number {
  if (typeof v === 'string') return v.length;
  if (depth > 64 || v === null || typeof v !== 'object') return 0;
  let n = 0;
  if (Array.isArray(v)) {
    for (const x of v) n += textChars(x, depth + 1);
    return n;
  }
  const obj = v as Record<string, unknown>;
  for (const k in obj) {
    const x = obj[k];
    if (typeof x === 'string') {
      // Inline binary (base64 images/documents, data: URLs) is not text; it is tokenised very differently.
      if ((k === 'data' && obj.type === 'base64') || x.startsWith('data:')) continue;
      n += x.length;
    } else if (x !== null && typeof x === 'object') n += textChars(x, depth + 1);
  }
  return n;
}
