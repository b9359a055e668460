// The renderer's one link to the engine: a browser WebSocket wrapped in the shared EngineClient, reconnected with
// backoff. The endpoint comes from the desktop bridge (Electron) or from the page URL (?token=…, `flotilla serve`).
import { EngineClient, type WebSocketCtor, type WebSocketLike } from '../../../electron/shared/client.ts';
import type { DesktopBridge, EngineEndpoint } from '../../../electron/shared/ipc.ts';

declare global {
  interface Window {
    flotilla?: DesktopBridge;
  }
}

export type ConnectionState = 'connecting' | 'open' | 'closed';
export interface ConnectionStatus {
  state: ConnectionState;
  error: string | null;
  attempt: number;
}

type ClientListener = (client: EngineClient | null) => void;
type StatusListener = (status: ConnectionStatus) => void;

const BACKOFF_MIN_MS = 250;
const BACKOFF_MAX_MS = 5_000;

async function resolveEndpoint(): Promise<EngineEndpoint | null> {
  if (window.flotilla) {
    const ep = await window.flotilla.endpoint();
    if (ep) return ep;
  }
  const token = new URLSearchParams(location.search).get('token');
  if (!token) return null;
  return { origin: location.origin, token };
}

export class EngineConnection {
  private current: EngineClient | null = null;
  private readonly clientListeners = new Set<ClientListener>();
  private readonly statusListeners = new Set<StatusListener>();
  private status: ConnectionStatus = { state: 'connecting', error: null, attempt: 0 };
  private started = false;

  get client(): EngineClient | null {
    return this.current;
  }

  get connectionStatus(): ConnectionStatus {
    return this.status;
  }

  /** Called with the new client on every (re)connect, and with null when the connection drops. */
  onClient(listener: ClientListener): () => void {
    this.clientListeners.add(listener);
    return () => this.clientListeners.delete(listener);
  }

  onStatus(listener: StatusListener): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    void this.loop();
  }

  private setStatus(s: ConnectionStatus): void {
    this.status = s;
    for (const l of this.statusListeners) l(s);
  }

  private setClient(c: EngineClient | null): void {
    this.current = c;
    for (const l of this.clientListeners) l(c);
  }

  private async loop(): Promise<void> {
    let delay = BACKOFF_MIN_MS;
    for (let attempt = 1; ; attempt++) {
      this.setStatus({ state: 'connecting', error: this.status.error, attempt });
      let socket: WebSocketLike | null = null;
      try {
        const ep = await resolveEndpoint();
        if (!ep) {
          this.setStatus({ state: 'closed', error: 'No engine token: open the URL that `flotilla serve` printed (…/?token=…).', attempt });
          return;
        }
        const wsUrl = `${ep.origin.replace(/^http/, 'ws')}/ws?token=${encodeURIComponent(ep.token)}`;
        // EngineClient keeps its socket private; capture it to learn when it closes.
        const Ctor = function (this: unknown, url: string) {
          socket = new WebSocket(url) as unknown as WebSocketLike;
          return socket;
        } as unknown as WebSocketCtor;
        const client = await EngineClient.connect(wsUrl, Ctor);
        const closed = new Promise<void>((resolve) => socket!.addEventListener('close', () => resolve()));
        delay = BACKOFF_MIN_MS;
        this.setStatus({ state: 'open', error: null, attempt });
        this.setClient(client);
        await closed;
        this.setClient(null);
        this.setStatus({ state: 'closed', error: 'Connection to the engine lost — reconnecting…', attempt });
      } catch (err) {
        try {
          (socket as WebSocketLike | null)?.close();
        } catch {
          /* already closed */
        }
        this.setStatus({ state: 'closed', error: `Cannot reach the engine (${(err as Error).message}) — retrying…`, attempt });
      }
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(BACKOFF_MAX_MS, delay * 2);
    }
  }
}

export const engine = new EngineConnection();
export { EngineRequestError } from '../../../electron/shared/client.ts';
export type { EngineClient } from '../../../electron/shared/client.ts';
