// A client of the engine's WebSocket API, written against the browser WebSocket interface so the renderer, the CLI,
// tests and benches share it (in Node, pass the `ws` package's WebSocket as the constructor).
import {
  type CommandArgs,
  type CommandName,
  type EngineEvent,
  type ReplyMessage,
  type SnapshotResult,
  decodeOutputFrame,
  FlowControl,
} from './contract.ts';

export interface WebSocketLike {
  binaryType: string;
  readyState: number;
  send(data: string): void;
  close(): void;
  addEventListener(type: 'open' | 'close' | 'error' | 'message', listener: (ev: any) => void): void;
}
export type WebSocketCtor = new (url: string) => WebSocketLike;

export class EngineRequestError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'EngineRequestError';
  }
}

type OutputListener = (data: Uint8Array) => void;

export class EngineClient {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly outputListeners = new Map<string, Set<OutputListener>>();
  private readonly eventListeners = new Set<(e: EngineEvent) => void>();
  private readonly unacked = new Map<string, number>();
  private closed = false;

  private constructor(private readonly ws: WebSocketLike) {
    ws.binaryType = 'arraybuffer';
    ws.addEventListener('message', (ev) => this.onMessage(ev.data));
    ws.addEventListener('close', () => {
      this.closed = true;
      for (const p of this.pending.values()) p.reject(new EngineRequestError('closed', 'connection to the engine closed'));
      this.pending.clear();
    });
  }

  /** `wsUrl` like ws://127.0.0.1:PORT/ws?token=… */
  static connect(wsUrl: string, Ctor: WebSocketCtor): Promise<EngineClient> {
    return new Promise((resolve, reject) => {
      const ws = new Ctor(wsUrl);
      const client = new EngineClient(ws);
      ws.addEventListener('open', () => resolve(client));
      ws.addEventListener('error', (ev) => reject(new Error(`cannot connect to ${wsUrl.replace(/token=[^&]+/, 'token=…')}: ${ev?.message ?? 'error'}`)));
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  call<C extends CommandName>(cmd: C, args: CommandArgs<C>): Promise<any> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.ws.send(JSON.stringify({ id, cmd, args }));
    });
  }

  onEvent(listener: (e: EngineEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  /**
   * Subscribes to a session's output. `onSnapshot` gets the screen as it was when the subscription began (serialized
   * mirror), then `onData` every later chunk, with no gap and no overlap. `onData` must call `consumed(bytes)` once it
   * has really used the data (for xterm: in the write callback), so "acked" means "parsed" and a slow consumer slows
   * the producer.
   */
  async subscribe(
    sessionId: string,
    handlers: {
      onSnapshot?: (snap: SnapshotResult) => void;
      onData: (data: Uint8Array, consumed: (bytes: number) => void) => void;
    },
  ): Promise<() => Promise<void>> {
    const consumed = (bytes: number) => this.consumed(sessionId, bytes);
    // Frames that race ahead of the reply wait until the snapshot has been handed over.
    let early: Uint8Array[] | null = [];
    const wrapped: OutputListener = (data) => (early ? early.push(data) : handlers.onData(data, consumed));
    let set = this.outputListeners.get(sessionId);
    if (!set) this.outputListeners.set(sessionId, (set = new Set()));
    set.add(wrapped);
    try {
      const snap = (await this.call('subscribe', { sessionId })) as SnapshotResult;
      handlers.onSnapshot?.(snap);
    } catch (err) {
      set.delete(wrapped);
      throw err;
    }
    const pending = early;
    early = null;
    for (const data of pending) handlers.onData(data, consumed);
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
      if (!this.closed) this.ws.send(JSON.stringify({ id: 0, cmd: 'ack', args: { sessionId, bytes: n } }));
    } else {
      this.unacked.set(sessionId, n);
    }
  }

  private onMessage(data: unknown): void {
    if (typeof data !== 'string') {
      const { sessionId, data: bytes } = decodeOutputFrame(new Uint8Array(data as ArrayBuffer));
      const set = this.outputListeners.get(sessionId);
      if (set) for (const l of set) l(bytes);
      return;
    }
    const msg = JSON.parse(data) as ReplyMessage | EngineEvent;
    if (msg.type === 'reply') {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.ok) p.resolve(msg.data);
      else p.reject(new EngineRequestError(msg.error.code, msg.error.message));
      return;
    }
    for (const l of this.eventListeners) l(msg);
  }
}
