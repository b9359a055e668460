// Bounded memory when a consumer falls behind (xterm.js flow-control guide; VS Code's FlowControlConstants): every
// subscribed client has an un-acked byte count. The pty is paused while any of them is above the high watermark and
// resumed once all are below the low one. (The headless mirror is not a consumer here: it bounds itself by skipping.) Pausing the pty
// stops reading its master side; the kernel buffer fills and the agent's own write() blocks, so nothing piles up here.
import { FlowControl } from '../../shared/contract.ts';

/** One subscribed client (the WS layer wraps a frame around `data`). `data` is shared: do not modify it. */
export interface OutputSink {
  send(data: Uint8Array): void;
}

export interface Subscription {
  /** The client has parsed this many more bytes (incremental, as the `ack` command carries them). */
  ack(bytes: number): void;
  /** Stop receiving; the subscription no longer holds the pty. Idempotent. */
  close(): void;
  /**
   * Whether this client's un-acked bytes may pause the pty (the default). A client that is shown screens instead of the
   * stream (a background tile, see api/output-pacer.ts) lets go: it still receives every batch, but never holds the
   * agent — only the mirror, which bounds itself, then follows the output.
   */
  hold(on: boolean): void;
}

export interface PtyValve {
  pause(): void;
  resume(): void;
}

class SinkSubscription implements Subscription {
  unacked = 0;
  closed = false;
  holding = true;
  constructor(
    readonly sink: OutputSink,
    private readonly gate: FlowGate,
  ) {}
  ack(bytes: number): void {
    if (this.closed || !this.holding || !(bytes > 0)) return;
    this.unacked = bytes >= this.unacked ? 0 : this.unacked - bytes;
    this.gate.relieved();
  }
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.gate.remove(this);
  }
  hold(on: boolean): void {
    if (this.closed || this.holding === on) return;
    this.holding = on;
    // Letting go forgets the debt (acks for it are ignored); taking hold again starts from nothing owed.
    this.unacked = 0;
    if (!on) this.gate.relieved();
  }
}

/** Fans batches out to the subscriptions and decides when the pty must pause. */
export class FlowGate {
  // Copy-on-write, so a sink may close its subscription (or another) from inside send().
  private subs: readonly SinkSubscription[] = [];
  private isPaused = false;
  private sinksHold = true;
  private enabled = true;

  constructor(
    private readonly valve: PtyValve,
    private readonly high: number = FlowControl.HighWatermark,
    private readonly low: number = FlowControl.LowWatermark,
  ) {}

  get paused(): boolean {
    return this.isPaused;
  }
  get subscriberCount(): number {
    return this.subs.length;
  }
  /** The largest un-acked count among the subscriptions (for tests and diagnostics). */
  get maxUnacked(): number {
    let max = 0;
    for (const s of this.subs) if (s.unacked > max) max = s.unacked;
    return max;
  }

  subscribe(sink: OutputSink): Subscription {
    const sub = new SinkSubscription(sink, this);
    this.subs = [...this.subs, sub];
    return sub;
  }

  /** Sends one batch to every subscription, counting it as un-acked, then pauses the pty if anyone is too far behind. */
  deliver(data: Uint8Array): void {
    const n = data.byteLength;
    const subs = this.subs;
    for (let i = 0; i < subs.length; i++) {
      const sub = subs[i]!;
      if (sub.closed) continue;
      if (sub.holding) sub.unacked += n;
      try {
        sub.sink.send(data);
      } catch {
        // A sink that throws is gone (its socket died); it must not stall the session or the other clients.
        sub.close();
      }
    }
    this.check();
  }

  /** Pauses the pty if any client is above the high watermark. */
  check(): void {
    if (this.isPaused || !this.enabled) return;
    let over = false;
    if (this.sinksHold) {
      const subs = this.subs;
      for (let i = 0; i < subs.length; i++) {
        if (subs[i]!.unacked > this.high) {
          over = true;
          break;
        }
      }
    }
    if (over) {
      this.isPaused = true;
      this.valve.pause();
    }
  }

  /** A consumer caught up a little: resume once every consumer is below the low watermark. */
  relieved(): void {
    if (!this.isPaused) return;
    if (this.enabled && this.sinksHold) for (const s of this.subs) if (s.unacked >= this.low) return;
    this.isPaused = false;
    this.valve.resume();
  }

  remove(sub: SinkSubscription): void {
    this.subs = this.subs.filter((s) => s !== sub);
    this.relieved();
  }

  /** From now on no client holds the pty (while stopping: let the agent's last words out without a stuck client). */
  releaseSinks(): void {
    this.sinksHold = false;
    this.relieved();
  }

  /** Never pause again until `reset` (the child is gone: drain what is left in the kernel buffer before it is closed). */
  disable(): void {
    this.enabled = false;
    this.relieved();
  }

  /** A new pty starts unpaused, with full flow control. Subscriptions and their counts carry over. */
  reset(): void {
    this.isPaused = false;
    this.sinksHold = true;
    this.enabled = true;
  }

  closeAll(): void {
    const subs = this.subs;
    this.subs = [];
    for (const s of subs) s.closed = true;
    this.isPaused = false;
  }
}
