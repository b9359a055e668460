// A simulated K2 provider for the demo: a small Anthropic-Messages-compatible server on 127.0.0.1 (random port).
//
// It is NOT a model. It plays a fixed script per demo slot (see project.ts): read a file → edit it → (ask the user) →
// write a new file → summarise, streaming the way Kimi K2 does over Moonshot's Anthropic surface: message_start with
// usage, text deltas paced at ~60–100 tokens/s, tool_use blocks (input_json_delta), message_delta with cumulative usage,
// message_stop. Token counts grow with the conversation; later turns read the earlier prefix from the cache. Every text
// it produces starts with "[simulated K2]" so nobody mistakes it for the real thing.
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { DEMO_MODEL, DEMO_QUESTION, SIM_LABEL, demoJob } from './project.ts';

export interface ServedUsage {
  inputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  outputTokens: number;
}

export interface SimulatedProvider {
  /** http://127.0.0.1:<port> (the Anthropic routes are /v1/messages). */
  url: string;
  /** The key it accepts (Authorization: Bearer or x-api-key). */
  apiKey: string;
  /** The usage of every /v1/messages answer it streamed, in order. */
  readonly served: ServedUsage[];
  close(): Promise<void>;
}

export interface SimulatedProviderOptions {
  /** Tokens per second of streamed output (default: a random 60–100 per answer, like K2). */
  tokensPerSecond?: number;
  /** Time to first token, ms (default 350–900). */
  ttftMs?: number;
  apiKey?: string;
}

interface Block {
  type: string;
  text?: string;
  content?: unknown;
  input?: unknown;
}
interface Message {
  role: 'user' | 'assistant';
  content: string | Block[];
}
interface RequestBody {
  model?: string;
  system?: string | { text?: string }[];
  messages?: Message[];
  tools?: { name: string }[];
  stream?: boolean;
}

/** ~3.6 characters per token: close enough to K2's tokenizer on English and code. */
const tokens = (s: string): number => Math.max(1, Math.ceil(s.length / 3.6));
/** What a real coding agent's request carries beyond what the demo agent sends (tool schemas, policies). */
const HIDDEN_PROMPT_TOKENS = 2400;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function startSimulatedProvider(opts: SimulatedProviderOptions = {}): Promise<SimulatedProvider> {
  const apiKey = opts.apiKey ?? `sim-${randomBytes(12).toString('hex')}`;
  const served: ServedUsage[] = [];
  const sockets = new Set<import('node:net').Socket>();

  const server = http.createServer((req, res) => {
    void handle(req, res).catch((err: Error) => {
      if (!res.headersSent) sendError(res, 500, 'api_error', `[simulated K2] ${err.message}`);
      else res.destroy();
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!.replace(/^\/anthropic/, '');
    if (req.method === 'HEAD' || (req.method === 'GET' && path === '/api/hello')) {
      res.writeHead(200).end();
      return;
    }
    const auth = req.headers['authorization'];
    const given = typeof auth === 'string' && auth.startsWith('Bearer ') ? auth.slice(7) : req.headers['x-api-key'];
    if (given !== apiKey) {
      req.resume();
      sendError(res, 401, 'authentication_error', '[simulated K2] Invalid Authentication');
      return;
    }
    if (req.method === 'GET' && path === '/v1/models') {
      sendJson(res, 200, {
        data: [{ type: 'model', id: DEMO_MODEL, display_name: 'Kimi K2.6 (simulated)', created_at: '2026-01-01T00:00:00Z' }],
        has_more: false,
      });
      return;
    }
    if (req.method !== 'POST' || (path !== '/v1/messages' && path !== '/v1/messages/count_tokens')) {
      req.resume();
      sendError(res, 404, 'not_found_error', `[simulated K2] no route ${req.method} ${path}`);
      return;
    }
    const raw = await readBody(req);
    let body: RequestBody;
    try {
      body = JSON.parse(raw) as RequestBody;
    } catch {
      sendError(res, 400, 'invalid_request_error', '[simulated K2] the body is not JSON');
      return;
    }
    if (path === '/v1/messages/count_tokens') {
      sendJson(res, 200, { input_tokens: tokens(raw) + HIDDEN_PROMPT_TOKENS });
      return;
    }
    if (body.model && body.model !== DEMO_MODEL) {
      sendError(res, 404, 'not_found_error', `[simulated K2] Not found the model ${body.model} or Permission denied`);
      return;
    }
    await answer(body, raw, res);
  }

  async function answer(body: RequestBody, raw: string, res: http.ServerResponse): Promise<void> {
    const messages = body.messages ?? [];
    const reply = planReply(body);

    // Usage: the whole prompt; on later turns everything but the newest exchange comes from the cache.
    const prompt = tokens(raw) + HIDDEN_PROMPT_TOKENS;
    const turn = messages.filter((m) => m.role === 'assistant').length;
    let cacheRead = 0;
    if (turn > 0) {
      const prefix = JSON.stringify({ ...body, messages: messages.slice(0, -2) });
      cacheRead = Math.min(prompt - 1, Math.floor((tokens(prefix) + HIDDEN_PROMPT_TOKENS) / 64) * 64);
    }
    const input = prompt - cacheRead;
    const textTokens = tokens(reply.text);
    const toolTokens = reply.tool ? tokens(JSON.stringify(reply.tool.input)) + 12 : 0;
    const output = textTokens + toolTokens;
    const usage: ServedUsage = { inputTokens: input, cacheReadTokens: cacheRead, cacheWriteTokens: 0, outputTokens: output };

    const id = `msg_sim_${randomBytes(8).toString('hex')}`;
    const startUsage = { input_tokens: input, cache_read_input_tokens: cacheRead, cache_creation_input_tokens: 0, output_tokens: 1 };
    const rate = opts.tokensPerSecond ?? 60 + Math.random() * 40;
    const stopReason = reply.tool ? 'tool_use' : 'end_turn';

    if (body.stream !== true) {
      const content: unknown[] = [{ type: 'text', text: reply.text }];
      if (reply.tool) content.push({ type: 'tool_use', id: reply.tool.id, name: reply.tool.name, input: reply.tool.input });
      await sleep(opts.ttftMs ?? 400);
      served.push(usage);
      sendJson(res, 200, {
        id,
        type: 'message',
        role: 'assistant',
        model: DEMO_MODEL,
        content,
        stop_reason: stopReason,
        stop_sequence: null,
        usage: { input_tokens: input, cache_read_input_tokens: cacheRead, cache_creation_input_tokens: 0, output_tokens: output },
      });
      return;
    }

    let closed = false;
    res.on('close', () => (closed = true));
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const send = (event: string, data: unknown) => {
      if (!closed) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    await sleep(opts.ttftMs ?? 350 + Math.random() * 550);
    send('message_start', {
      type: 'message_start',
      message: {
        id,
        type: 'message',
        role: 'assistant',
        model: DEMO_MODEL,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: startUsage,
      },
    });
    send('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
    send('ping', { type: 'ping' });
    // Text in small pieces (a word or two, ~2–4 tokens each), paced at the answer's rate.
    for (const piece of reply.text.match(/\S+\s*|\s+/g) ?? []) {
      if (closed) return;
      send('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: piece } });
      await sleep((tokens(piece) / rate) * 1000);
    }
    send('content_block_stop', { type: 'content_block_stop', index: 0 });
    if (reply.tool) {
      send('content_block_start', {
        type: 'content_block_start',
        index: 1,
        content_block: { type: 'tool_use', id: reply.tool.id, name: reply.tool.name, input: {} },
      });
      const json = JSON.stringify(reply.tool.input);
      const chunk = 48;
      for (let i = 0; i < json.length; i += chunk) {
        if (closed) return;
        const part = json.slice(i, i + chunk);
        send('content_block_delta', { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: part } });
        await sleep((tokens(part) / (rate * 2)) * 1000);
      }
      send('content_block_stop', { type: 'content_block_stop', index: 1 });
    }
    send('message_delta', {
      type: 'message_delta',
      delta: { stop_reason: stopReason, stop_sequence: null },
      usage: { input_tokens: input, cache_read_input_tokens: cacheRead, cache_creation_input_tokens: 0, output_tokens: output },
    });
    send('message_stop', { type: 'message_stop' });
    served.push(usage);
    res.end();
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    apiKey,
    served,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

interface Reply {
  text: string;
  tool: { id: string; name: string; input: Record<string, unknown> } | null;
}

/** The next step of the slot's script, from how many turns the conversation already has. */
export function planReply(body: RequestBody): Reply {
  const system = typeof body.system === 'string' ? body.system : (body.system ?? []).map((b) => b.text ?? '').join('\n');
  const slot = Number(/demo agent #(\d+)/.exec(system)?.[1] ?? '1');
  const cwd = /Working directory: (.+)/.exec(system)?.[1]?.trim() ?? '.';
  const job = demoJob(slot);
  const messages = body.messages ?? [];
  const turn = messages.filter((m) => m.role === 'assistant').length;
  const declared = new Set((body.tools ?? []).map((t) => t.name));
  const abs = (rel: string) => `${cwd.replace(/\/+$/, '')}/${rel}`;
  const toolId = () => `toolu_sim_${randomBytes(6).toString('hex')}`;
  const lastUser = messages.at(-1);
  const lastText =
    lastUser && typeof lastUser.content === 'string'
      ? lastUser.content
      : ((lastUser?.content as Block[] | undefined) ?? []).map((b) => (b.type === 'text' ? (b.text ?? '') : '')).join(' ');

  type Step = () => Reply;
  const steps: Step[] = [
    () => ({
      text: `${SIM_LABEL} I'll start by reading ${job.read} to see how it is put together before I change anything.`,
      tool: declared.has('Read') ? { id: toolId(), name: 'Read', input: { file_path: abs(job.read) } } : null,
    }),
  ];
  if (job.edit) {
    const edit = job.edit;
    steps.push(() => ({
      text: `${SIM_LABEL} Got it. The change belongs in ${edit.path}: I'll ${edit.why}.`,
      tool: { id: toolId(), name: 'Edit', input: { file_path: abs(edit.path), old_string: edit.old, new_string: edit.new } },
    }));
  }
  if (job.ask) {
    steps.push(() => ({
      text: `${SIM_LABEL} That part is done. Next I would add ${job.write.path} (${job.write.why}), which restructures a bit of the module.\n${DEMO_QUESTION}`,
      tool: null,
    }));
  }
  steps.push(() => {
    const answeredNo = job.ask && /^\s*n/i.test(lastText);
    return {
      text: answeredNo
        ? `${SIM_LABEL} Understood — I'll keep it minimal and only add ${job.write.path}, ${job.write.why}.`
        : `${SIM_LABEL} Now ${job.write.why}: writing ${job.write.path}.`,
      tool: { id: toolId(), name: 'Write', input: { file_path: abs(job.write.path), content: job.write.content } },
    };
  });
  steps.push(() => ({
    text:
      `${SIM_LABEL} Done with "${job.task}". Summary:\n` +
      (job.edit ? `- ${job.edit.path}: ${job.edit.why}\n` : '') +
      `- ${job.write.path}: ${job.write.why}\n` +
      `(This answer came from Flotilla's built-in simulation, not a real model.)`,
    tool: null,
  }));
  const step = steps[Math.min(turn, steps.length - 1)]!;
  return step();
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendError(res: http.ServerResponse, status: number, type: string, message: string): void {
  sendJson(res, status, { type: 'error', error: { type, message } });
}
