// One host's connection, kept up: its engine (installed and started when needed), a tunnel to it, a WebSocket client
// through the tunnel. When the tunnel or the socket drops it says "reconnecting (n)" and tries again — the host's
// engine and its sessions carry on meanwhile — and once back it says "connected" again (the caller re-reads what it
// shows: each session's screen comes from the host's mirror). Used by `flotilla run|status --host`.
import { EventEmitter } from 'node:events';
import { WebSocket } from 'ws';
import { EngineClient, type WebSocketCtor, wsUrlOf } from '../../shared/client.ts';
import type { EngineEvent } from '../../shared/contract.ts';
import { EngineError } from '../errors.ts';
import type { HostEntry } from './hosts.ts';
import { type RemoteEngineInfo, ensureRemoteEngine } from './remote.ts';
import { Tunnel } from './tunnel.ts';

export type LinkState =
  | { state: 'connecting' }
  | { state: 'connected'; engine: RemoteEngineInfo }
  | { state: 'reconnecting'; attempt: number; message: string }
  | { state: 'closed' };

export interface HostLinkOptions {
  root: string;
  env: NodeJS.ProcessEnv;
  progress?: (line: string) => void;
  /** Run on every (re)connection before it counts as connected: hand over the provider keys (memory only). */
  onConnect?: (client: EngineClient, engine: RemoteEngineInfo) => Promise<void>;
  /** Longest wait between two attempts (default 10 s). */
  maxBackoffMs?: number;
  /** Install and start the host's engine when none runs (default true); false: only reach one that runs. */
  start?: boolean;
}

export interface HostLink {
  on(event: 'state', listener: (s: LinkState) => void): this;
  on(event: 'event', listener: (e: EngineEvent) => void): this;
}

export class HostLink extends EventEmitter {
  private tunnel: Tunnel | null = null;
  private client: EngineClient | null = null;
  private current: LinkState = { state: 'connecting' };
  private closed = false;
  private wake: (() => void) | null = null;

  constructor(
    private readonly dataDir: string,
    readonly host: HostEntry,
    private readonly o: HostLinkOptions,
  ) {
    super();
  }

  /** The connected client, or null while connecting or reconnecting. */
  get connected(): EngineClient | null {
    return this.current.state === 'connected' && this.client && !this.client.isClosed ? this.client : null;
  }

  get state(): LinkState {
    return this.current;
  }

  private set(s: LinkState): void {
    this.current = s;
    this.emit('state', s);
  }

  /** From now on, attempts install and start the host's engine when none runs (a launch there). */
  allowStart(): void {
    this.o.start = true;
  }

  /** The first connection: its failure is the caller's (a bad host, a refused key — nothing to retry). */
  async connect(): Promise<EngineClient> {
    await this.attempt();
    return this.client as EngineClient;
  }

  /** The client of the moment, waiting through a reconnection; rejects once closed. */
  async ready(): Promise<EngineClient> {
    while (!this.closed) {
      if (this.client && !this.client.isClosed && this.current.state === 'connected') return this.client;
      await new Promise<void>((resolve) => {
        const done = () => (this.off('state', done), resolve());
        this.on('state', done);
      });
    }
    throw new EngineError('closed', `the connection to ${this.host.name} was closed`);
  }

  /** The engine reached last: a reconnection tries its tunnel first (no checks, no reading engine.json over SSH). */
  private last: RemoteEngineInfo | null = null;

  private async attempt(): Promise<void> {
    if (this.last) {
      const last = this.last;
      const quick = await Tunnel.open(this.dataDir, this.host, last.port, last.token, this.o.env, 5000).catch(() => null);
      if (quick) return this.attached(last, quick);
    }
    const engine = await ensureRemoteEngine(this.dataDir, this.host, {
      root: this.o.root,
      env: this.o.env,
      progress: this.o.progress,
      findOnly: this.o.start === false,
    });
    if (!engine)
      throw new EngineError('no_engine', `no engine runs on ${this.host.name} yet — one starts with the first run launched there`);
    return this.attached(engine, await Tunnel.open(this.dataDir, this.host, engine.port, engine.token, this.o.env));
  }

  private async attached(engine: RemoteEngineInfo, tunnel: Tunnel): Promise<void> {
    let client: EngineClient;
    try {
      client = await EngineClient.connect(wsUrlOf({ origin: tunnel.origin, token: engine.token }), WebSocket as unknown as WebSocketCtor);
      await this.o.onConnect?.(client, engine);
    } catch (err) {
      await tunnel.close();
      throw err;
    }
    if (this.closed) {
      client.close();
      await tunnel.close();
      return;
    }
    this.tunnel = tunnel;
    this.client = client;
    this.last = engine;
    client.onEvent((e) => this.emit('event', e));
    const dropped = () => void this.dropped(client, tunnel);
    client.onClose(dropped);
    void tunnel.ended.then(dropped);
    this.set({ state: 'connected', engine });
  }

  private dropping = false;

  private async dropped(client: EngineClient, tunnel: Tunnel): Promise<void> {
    if (this.closed || this.client !== client || this.dropping) return;
    this.dropping = true;
    client.close();
    await tunnel.close();
    this.client = null;
    this.tunnel = null;
    this.dropping = false;
    let attempt = 0;
    while (!this.closed) {
      attempt++;
      this.set({ state: 'reconnecting', attempt, message: `${this.host.name} unreachable — reconnecting (${attempt})` });
      const wait = Math.min(this.o.maxBackoffMs ?? 10_000, 500 * 2 ** Math.min(attempt - 1, 5));
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, wait);
        this.wake = () => (clearTimeout(t), resolve());
      });
      this.wake = null;
      if (this.closed) return;
      try {
        await this.attempt();
        return;
      } catch (err) {
        this.o.progress?.(`${this.host.name}: ${(err as Error).message}`);
      }
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.wake?.();
    this.client?.close();
    await this.tunnel?.close();
    this.set({ state: 'closed' });
  }
}
