// The part of a session that outlives its process: the clients watching it, and the agent process they are attached
// to now. A queued session can be watched before it starts; a restart or a resume attaches the new process, and every
// client follows it without subscribing again (VS Code's persistent terminal, in one process).
import type { SnapshotResult } from '../../shared/contract.ts';
import type { SessionProcess } from './process.ts';
import type { OutputSink, Subscription } from './flow-control.ts';

interface Client {
  sink: OutputSink;
  /** The subscription to the current agent process; null while there is none (queued). */
  current: Subscription | null;
  /** Whether its un-acked bytes may pause the agent (carried over to the next process). */
  holding: boolean;
}

export class SessionTerminal {
  private agentNow: SessionProcess | null = null;
  private readonly clients = new Set<Client>();

  constructor(
    readonly sessionId: string,
    /** The size to report while there is no process yet. */
    private readonly size: () => { cols: number; rows: number },
  ) {}

  get agent(): SessionProcess | null {
    return this.agentNow;
  }

  /** Makes `agent` the session's process; the previous one (if any) is disposed, its clients move over. */
  attach(agent: SessionProcess): void {
    if (this.agentNow && this.agentNow !== agent) this.agentNow.dispose();
    this.agentNow = agent;
    for (const c of this.clients) {
      c.current?.close();
      c.current = agent.subscribe(c.sink);
      if (!c.holding) c.current.hold(false);
    }
  }

  /** Drops the process (it has ended and will not come back as is); clients stay for the next one. */
  detach(): void {
    this.agentNow?.dispose();
    this.agentNow = null;
    for (const c of this.clients) {
      c.current?.close();
      c.current = null;
    }
  }

  /**
   * The screen so far and every later byte: snapshot and subscription are taken in the same tick (no gap, no overlap);
   * send the snapshot before the frames the sink collected meanwhile.
   */
  subscribe(sink: OutputSink): { subscription: Subscription; snapshot: Promise<SnapshotResult> } {
    const snapshot = this.snapshot();
    const client: Client = { sink, current: this.agentNow ? this.agentNow.subscribe(sink) : null, holding: true };
    this.clients.add(client);
    return {
      snapshot,
      subscription: {
        ack: (bytes) => client.current?.ack(bytes),
        close: () => {
          client.current?.close();
          this.clients.delete(client);
        },
        hold: (on) => {
          client.holding = on;
          client.current?.hold(on);
        },
      },
    };
  }

  async snapshot(): Promise<SnapshotResult> {
    if (!this.agentNow) return { sessionId: this.sessionId, ...this.size(), data: '' };
    return { sessionId: this.sessionId, ...(await this.agentNow.snapshot()) };
  }

  /** The screen as the mirror has it now (see SessionProcess.screen). */
  async screen(): Promise<SnapshotResult> {
    if (!this.agentNow) return { sessionId: this.sessionId, ...this.size(), data: '' };
    return { sessionId: this.sessionId, ...(await this.agentNow.screen()) };
  }

  /** Closes every client's subscription and disposes the process (engine shutdown). */
  dispose(): void {
    for (const c of this.clients) c.current?.close();
    this.clients.clear();
    this.agentNow?.dispose();
    this.agentNow = null;
  }
}
