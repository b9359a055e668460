// One timed request to a provider, in the API it serves: time to first token, output tokens per second, usage — and,
// with a tool declared, whether the tool call comes back as valid arguments for its schema (hosts of the same weights
// differ there). What `route: fastest` measures a provider with when it has no speed data yet, and what
// `flotilla probe --providers` ranks providers by.
import type { ApiStyle, TokenCounts } from '../../shared/contract.ts';
import { type CompatProfile, anthropicToChat, createResponseParser } from '../meter/index.ts';

export interface TimedTarget {
  /** The base URL of the API `style` (e.g. https://api.cerebras.ai/v1, https://api.moonshot.ai/anthropic). */
  baseUrl: string;
  style: ApiStyle;
  key: string | null;
  /** The host's model id. */
  model: string;
  /** Fields added to the body (OpenRouter's `provider` preferences). */
  bodyFields?: Record<string, unknown>;
  /** The provider's compatibility profile: the body goes through it as a session's would. */
  compat?: CompatProfile | null;
}

export interface TimedResult {
  ok: boolean;
  status: number | null;
  ttftMs: number | null;
  /** Output tokens per second after the first token (null: too few tokens to say). */
  tokensPerSec: number | null;
  usage: TokenCounts | null;
  model: string | null;
  /** For a request with a tool: whether the call came back with arguments that fit the schema; null without a tool. */
  toolCall: { valid: boolean; detail: string } | null;
  error: string | null;
}

export interface TimedOptions {
  /** Declare a tool and ask for a call (a non-streaming request: the arguments are read whole). */
  tool?: boolean;
  maxTokens?: number;
  timeoutMs?: number;
  signal?: AbortSignal;
}

// Claude Code's Write tool, as it declares it: the call a coding agent makes most.
const TOOL = {
  name: 'Write',
  description: 'Writes a file to the local filesystem.',
  input_schema: {
    type: 'object',
    properties: { file_path: { type: 'string' }, content: { type: 'string' } },
    required: ['file_path', 'content'],
  },
};
// The last line of each is the loopback stand-in's directive; a real model reads it as one more instruction.
const TOOL_PROMPT = 'Use the Write tool to write the text hi to the file a.txt. Reply with the call only.\nWRITE a.txt hi';
const SPEED_PROMPT = 'Count from 1 to 60, one number per line, and nothing else. Do not use a tool.\nLONG 240';

/** The request, in Anthropic's shape first (then translated for a Chat host, as Claude Code's would be). */
function request(t: TimedTarget, o: TimedOptions): { url: string; body: Record<string, unknown> } {
  const max = o.maxTokens ?? 256;
  const anthropic: Record<string, unknown> = {
    model: t.model,
    max_tokens: max,
    stream: !o.tool,
    messages: [{ role: 'user', content: o.tool ? TOOL_PROMPT : SPEED_PROMPT }],
    tools: [TOOL],
  };
  const base = t.baseUrl.replace(/\/+$/, '');
  if (t.style === 'anthropic') return { url: `${base}/v1/messages`, body: { ...anthropic, ...t.bodyFields } };
  const chat = anthropicToChat(anthropic, { model: t.model }).body;
  if (t.style === 'openai') return { url: `${base}/chat/completions`, body: { ...chat, ...t.bodyFields } };
  const responses = {
    model: t.model,
    input: o.tool ? TOOL_PROMPT : SPEED_PROMPT,
    max_output_tokens: max,
    stream: !o.tool,
    tools: [{ type: 'function', name: TOOL.name, parameters: TOOL.input_schema }],
  };
  return { url: `${base}/responses`, body: { ...responses, ...t.bodyFields } };
}

/** The first tool call's arguments in any of the three APIs' answers (null: no call). */
function toolArguments(style: ApiStyle, json: any): unknown {
  if (style === 'anthropic') return (json?.content ?? []).find((b: any) => b?.type === 'tool_use')?.input ?? null;
  if (style === 'openai') {
    const args = json?.choices?.[0]?.message?.tool_calls?.[0]?.function?.arguments;
    return typeof args === 'string' ? JSON.parse(args) : (args ?? null);
  }
  const call = (json?.output ?? []).find((o: any) => o?.type === 'function_call');
  return call ? JSON.parse(call.arguments ?? 'null') : null;
}

function checkTool(style: ApiStyle, text: string): { valid: boolean; detail: string } {
  let args: unknown;
  try {
    args = toolArguments(style, JSON.parse(text));
  } catch (err) {
    return { valid: false, detail: `the tool call's arguments are not JSON (${(err as Error).message})` };
  }
  if (args === null) return { valid: false, detail: 'no tool call came back' };
  const a = args as Record<string, unknown>;
  const missing = TOOL.input_schema.required.filter((k) => typeof a?.[k] !== 'string');
  if (missing.length) return { valid: false, detail: `arguments ${JSON.stringify(args).slice(0, 120)} lack ${missing.join(', ')}` };
  return { valid: true, detail: `write_file ${JSON.stringify(args).slice(0, 120)}` };
}

export async function timedRequest(t: TimedTarget, o: TimedOptions = {}): Promise<TimedResult> {
  const { url, body } = request(t, o);
  t.compat?.apply(body, t.style, t.model);
  const started = performance.now();
  let firstAt: number | null = null;
  const fail = (status: number | null, error: string): TimedResult => ({
    ok: false,
    status,
    ttftMs: null,
    tokensPerSec: null,
    usage: null,
    model: null,
    toolCall: null,
    error,
  });
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'anthropic-version': '2023-06-01',
        ...(t.key ? { authorization: `Bearer ${t.key}`, 'x-api-key': t.key } : {}),
      },
      body: JSON.stringify(body),
      signal: AbortSignal.any([AbortSignal.timeout(o.timeoutMs ?? 60_000), ...(o.signal ? [o.signal] : [])]),
    });
  } catch (err) {
    return fail(
      null,
      `cannot reach ${url}: ${(err as Error).cause ? String((err as any).cause?.code ?? (err as Error).message) : (err as Error).message}`,
    );
  }
  const parser = createResponseParser(t.style, {
    status: res.status,
    contentType: res.headers.get('content-type') ?? undefined,
    events: {
      onFirstToken: () => {
        firstAt ??= performance.now();
      },
    },
  });
  const chunks: Buffer[] = [];
  try {
    const reader = res.body?.getReader();
    for (;;) {
      const next = await reader?.read();
      if (!next || next.done) break;
      const b = Buffer.from(next.value);
      chunks.push(b);
      parser.push(b);
    }
  } catch (err) {
    return fail(res.status, `the answer from ${url} broke off: ${(err as Error).message}`);
  }
  const ended = performance.now();
  const r = parser.end();
  if (res.status >= 400 || r.error) return fail(res.status, `${res.status}: ${r.error?.message ?? 'error'}`);
  const out = r.usage?.outputTokens ?? r.estimatedOutputTokens;
  const streamSecs = firstAt !== null ? (ended - firstAt) / 1000 : 0;
  return {
    ok: true,
    status: res.status,
    ttftMs: firstAt !== null ? firstAt - started : ended - started,
    tokensPerSec: !o.tool && out > 1 && streamSecs > 0 ? out / streamSecs : null,
    usage: r.usage,
    model: r.model,
    toolCall: o.tool ? checkTool(t.style, Buffer.concat(chunks).toString('utf8')) : null,
    error: null,
  };
}
