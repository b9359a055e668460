// The one typed client of the engine's API, for the renderer, the CLI, the tests and the benches. Two transports:
// `EngineClient` over the WebSocket (commands, events, terminal output with flow control) and `HttpEngineClient` over
// POST /api/<cmd> (one-shot commands from another process). Both check every reply against the contract, so a client
// and an engine of different versions fail with a sentence instead of a wrong screen. Written against structural
// WebSocket / fetch types: the browser's globals in the renderer, the `ws` package and Node's fetch elsewhere.
import {
  ACK,
  type ApiError,
  type CommandArgs,
  type CommandCaller,
  type CommandName,
  type CommandResult,
  type EngineEvent,
  type ErrorIssue,
  type SnapshotResult,
  Commands,
  EngineEvent as EngineEventSchema,
  FlowControl,
  HttpReply,
  ReplyMessage,
  decodeFrame,
  type FramePart,
} from './contract.ts';

export interface WebSocketLike {
  binaryType: string;
  readyState: number;
  send(data: string): void;
  close(): void;
  addEventListener(type: 'open' | 'close' | 'error' | 'message', listener: (ev: { data?: unknown; message?: string }) => void): void;
}
export type WebSocketCtor = new (url: string) => WebSocketLike;

export interface FetchResponseLike {
  status: number;
  json(): Promise<unknown>;
}
export type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string>; body: string },
) => Promise<FetchResponseLike>;

/** Where an engine listens: http://127.0.0.1:PORT and its API token. */
export interface EngineEndpoint {
  origin: string;
  token: string;
}

export function wsUrlOf(ep: EngineEndpoint): string {
  return `${ep.origin.replace(/^http/, 'ws')}/ws?token=${encodeURIComponent(ep.token)}`;
}

/** An error the engine answered (or the client's own: `closed`, `bad_reply`), with the contract's structured fields. */
export class EngineRequestError extends Error {
  readonly field?: string;
  readonly file?: string;
  readonly line?: number;
  readonly issues?: ErrorIssue[];
  constructor(
    readonly code: string,
    message: string,
    extra: Omit<ApiError, 'code' | 'message'> = {},
  ) {
    super(message);
    this.name = 'EngineRequestError';
    if (extra.field !== undefined) this.field = extra.field;
    if (extra.file !== undefined) this.file = extra.file;
    if (extra.line !== undefined) this.line = extra.line;
    if (extra.issues !== undefined) this.issues = extra.issues;
  }

  static of(e: ApiError): EngineRequestError {
    const { code, message, ...extra } = e;
    return new EngineRequestError(code, message, extra);
  }
}

/** The result as the contract types it, or a `bad_reply` error naming what did not match. */
function checkResult<C extends CommandName>(cmd: C, data: unknown): CommandResult<C> {
  const r = Commands[cmd].result.safeParse(data);
  if (r.success) return r.data as CommandResult<C>;
  const issue = r.error.issues[0];
  const where = issue?.path.length ? issue.path.map(String).join('.') : '(result)';
  throw new EngineRequestError(
    'bad_reply',
    `the engine's answer to ${cmd} does not match this client's contract (${where}: ${issue?.message ?? 'invalid'}) — are the app and the engine the same version? Restart the engine.`,
  );
}

type OutputListener = (part: FramePart) => void;

export interface EngineClientOptions {
  /** An event or reply that does not match the contract (it is dropped, or its call rejects). */
  onProtocolError?(message: string): void;
}

/** The WebSocket client: typed commands, engine events, and subscriptions to terminal output. */
export class EngineClient implements CommandCaller {
  private nextId = 1;
  private readonly pending = new Map<number, { cmd: CommandName; resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly outputListeners = new Map<string, Set<OutputListener>>();
  private readonly eventListeners = new Set<(e: EngineEvent) => void>();
  private readonly closeListeners = new Set<() => void>();
  private readonly unacked = new Map<string, number>();
  private closed = false;

  private constructor(
    private readonly ws: WebSocketLike,
    private readonly opts: EngineClientOptions,
  ) {
    ws.binaryType = 'arraybuffer';
    ws.addEventListener('message', (ev) => this.onMessage(ev.data));
    ws.addEventListener('close', () => {
      this.closed = true;
      for (const p of this.pending.values()) p.reject(new EngineRequestError('closed', 'connection to the engine closed'));
      this.pending.clear();
      for (const l of this.closeListeners) l();
    });
  }

  /** `wsUrl` like ws://127.0.0.1:PORT/ws?token=… */
  static connect(wsUrl: string, Ctor: WebSocketCtor, opts: EngineClientOptions = {}): Promise<EngineClient> {
    return new Promise((resolve, reject) => {
      const ws = new Ctor(wsUrl);
      const client = new EngineClient(ws, opts);
      ws.addEventListener('open', () => resolve(client));
      ws.addEventListener('error', (ev) =>
        reject(new Error(`cannot connect to ${wsUrl.replace(/token=[^&]+/, 'token=…')}: ${ev?.message ?? 'error'}`)),
      );
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  call<C extends CommandName>(cmd: C, args: CommandArgs<C>): Promise<CommandResult<C>> {
    if (this.closed) return Promise.reject(new EngineRequestError('closed', 'connection to the engine closed'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { cmd, resolve: resolve as (v: unknown) => void, reject });
      this.ws.send(JSON.stringify({ id, cmd, args }));
    });
  }

  /** Sends a command without waiting for (or getting) its answer: keystrokes, which must never queue behind replies. */
  send<C extends CommandName>(cmd: C, args: CommandArgs<C>): void {
    if (!this.closed) this.ws.send(JSON.stringify({ id: 0, cmd, args }));
  }

  onEvent(listener: (e: EngineEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  onClose(listener: () => void): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  /**
   * Subscribes to a session's output. `onSnapshot` gets the screen as it was when the subscription began (serialized
   * mirror), then `onData` every later chunk, with no gap and no overlap. `onData` must call `consumed(bytes)` once it
   * has really used the data (for xterm: in the write callback), so "acked" means "parsed" and a slow consumer slows
   * the producer. A quiet subscription that gets more than it can draw is sent screens instead (`onScreen`, or
   * `onSnapshot` without it): each replaces the terminal's content, `bytes` is the output it stands for; the stream
   * comes back after one more snapshot.
   */
  async subscribe(
    sessionId: string,
    handlers: {
      onSnapshot?: (snap: SnapshotResult) => void;
      onScreen?: (snap: SnapshotResult, bytes: number) => void;
      onData: (data: Uint8Array, consumed: (bytes: number) => void) => void;
    },
    opts: { quiet?: boolean; refreshMs?: number } = {},
  ): Promise<() => Promise<void>> {
    const consumed = (bytes: number) => this.consumed(sessionId, bytes);
    const deliver = (p: FramePart) => {
      if (!p.screen) return handlers.onData(p.data, consumed);
      const snap = { sessionId, cols: p.screen.cols, rows: p.screen.rows, data: p.screen.data };
      if (handlers.onScreen) handlers.onScreen(snap, p.screen.bytes);
      else handlers.onSnapshot?.(snap);
    };
    // Frames that race ahead of the reply wait until the snapshot has been handed over.
    let early: FramePart[] | null = [];
    const wrapped: OutputListener = (p) => (early ? early.push(p) : deliver(p));
    let set = this.outputListeners.get(sessionId);
    if (!set) this.outputListeners.set(sessionId, (set = new Set()));
    set.add(wrapped);
    try {
      const args: CommandArgs<'subscribe'> = { sessionId };
      if (opts.quiet) args.quiet = true;
      if (opts.refreshMs !== undefined) args.refreshMs = opts.refreshMs;
      const snap = await this.call('subscribe', args);
      handlers.onSnapshot?.(snap);
    } catch (err) {
      set.delete(wrapped);
      throw err;
    }
    const pending = early;
    early = null;
    for (const p of pending) deliver(p);
    return async () => {
      set!.delete(wrapped);
      if (set!.size === 0) {
        this.outputListeners.delete(sessionId);
        this.unacked.delete(sessionId);
        if (!this.closed) await this.call('unsubscribe', { sessionId });
      }
    };
  }

  close(): void {
    this.ws.close();
  }

  private consumed(sessionId: string, bytes: number): void {
    const n = (this.unacked.get(sessionId) ?? 0) + bytes;
    if (n >= FlowControl.AckSize) {
      this.unacked.set(sessionId, 0);
      if (!this.closed) this.ws.send(JSON.stringify({ id: 0, cmd: ACK, args: { sessionId, bytes: n } }));
    } else {
      this.unacked.set(sessionId, n);
    }
  }

  private protocolError(message: string): void {
    this.opts.onProtocolError?.(message);
  }

  private onMessage(data: unknown): void {
    if (typeof data !== 'string') {
      for (const part of decodeFrame(new Uint8Array(data as ArrayBuffer))) {
        const set = this.outputListeners.get(part.sessionId);
        if (set) for (const l of set) l(part);
      }
      return;
    }
    const msg = JSON.parse(data) as { type?: unknown };
    if (msg.type === 'reply') {
      const parsed = ReplyMessage.safeParse(msg);
      if (!parsed.success) return this.protocolError(`a reply that does not match the contract: ${parsed.error.message}`);
      const reply = parsed.data;
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.pending.delete(reply.id);
      if (!reply.ok) return p.reject(EngineRequestError.of(reply.error));
      try {
        p.resolve(checkResult(p.cmd, reply.data));
      } catch (err) {
        this.protocolError((err as Error).message);
        p.reject(err as Error);
      }
      return;
    }
    const event = EngineEventSchema.safeParse(msg);
    if (!event.success) return this.protocolError(`an event that does not match the contract: ${event.error.message.slice(0, 300)}`);
    for (const l of this.eventListeners) l(event.data);
  }
}

/** Commands over HTTP (POST /api/<cmd>, bearer token): the CLI talking to a running engine. No events, no streams. */
export class HttpEngineClient implements CommandCaller {
  constructor(
    private readonly endpoint: EngineEndpoint,
    private readonly fetchImpl: FetchLike,
  ) {}

  async call<C extends CommandName>(cmd: C, args: CommandArgs<C>): Promise<CommandResult<C>> {
    let res: FetchResponseLike;
    try {
      res = await this.fetchImpl(`${this.endpoint.origin}/api/${cmd}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${this.endpoint.token}`, 'content-type': 'application/json' },
        body: JSON.stringify(args),
      });
    } catch (err) {
      throw new EngineRequestError('unreachable', `cannot reach the engine at ${this.endpoint.origin}: ${(err as Error).message}`);
    }
    const body = HttpReply.safeParse(await res.json().catch(() => null));
    if (!body.success)
      throw new EngineRequestError('bad_reply', `the engine answered ${cmd} with HTTP ${res.status} and no reply this client understands`);
    if (!body.data.ok) throw EngineRequestError.of(body.data.error);
    return checkResult(cmd, body.data.data);
  }
}
