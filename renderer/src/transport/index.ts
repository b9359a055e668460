// The renderer's one link to the engine: a browser WebSocket wrapped in the shared typed EngineClient, reconnected
// with backoff. The endpoint comes from the platform (the desktop bridge, or the page URL's ?token=…).
import { EngineClient, wsUrlOf, type EngineEndpoint } from '../../../electron/shared/client.ts';
import { platform } from '../platform/index.ts';

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

export class EngineConnection {
  private current: EngineClient | null = null;
  private ep: EngineEndpoint | null = null;
  private readonly clientListeners = new Set<ClientListener>();
  private readonly statusListeners = new Set<StatusListener>();
  private status: ConnectionStatus = { state: 'connecting', error: null, attempt: 0 };
  private started = false;

  get client(): EngineClient | null {
    return this.current;
  }

  /** The engine's origin and token once known (the ledger's CSV link needs them). */
  get endpoint(): EngineEndpoint | null {
    return this.ep;
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
      try {
        const ep = await platform.endpoint();
        if (!ep) {
          this.setStatus({ state: 'closed', error: 'No engine token: open the URL that `flotilla serve` printed (…/?token=…).', attempt });
          return;
        }
        this.ep = ep;
        const client = await EngineClient.connect(wsUrlOf(ep), WebSocket, {
          onProtocolError: (message) => console.warn(`flotilla: ${message}`),
        });
        const closed = new Promise<void>((resolve) => client.onClose(resolve));
        delay = BACKOFF_MIN_MS;
        this.setStatus({ state: 'open', error: null, attempt });
        this.setClient(client);
        await closed;
        this.setClient(null);
        this.setStatus({ state: 'closed', error: 'Connection to the engine lost — reconnecting…', attempt });
      } catch (err) {
        // Lost before, and still not back: most likely the engine process is gone (crashed, killed, stopped).
        const how = platform.restartEngine ? 'Restart engine below' : 'start it again with: flotilla open';
        this.setStatus({
          state: 'closed',
          error: `The engine is not answering (${(err as Error).message}) — it may have stopped; ${how}. Its sessions can be resumed then. Retrying…`,
          attempt,
        });
      }
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(BACKOFF_MAX_MS, delay * 2);
    }
  }
}

export const engine = new EngineConnection();
export { EngineRequestError } from '../../../electron/shared/client.ts';
export type { EngineClient } from '../../../electron/shared/client.ts';
