// Coalesces pty reads into one delivery per few milliseconds (Hyper's DataBatcher: 16 ms / 200 KB; VS Code's
// TerminalDataBufferer: 5 ms). One frame per batch instead of one per 4 KB read is what keeps a flooding agent from
// drowning the WebSocket and the renderer in messages.
import { OutputBatching } from '../../shared/contract.ts';

export type BatchHandler = (data: Uint8Array) => void;

/**
 * Collects byte chunks and hands them on as one Uint8Array every `intervalMs`, or at once when `maxBytes` are pending.
 * The first chunk after a quiet interval goes at once (leading edge): a keystroke's echo is not held for the interval,
 * while a flood — chunks back to back — is still batched.
 * No timer is armed while nothing is pending. A single pending chunk is passed on as is (no copy); several are joined
 * with one allocation per batch. The handler may keep the array: it is never written to again.
 */
export class OutputBatcher {
  private chunks: Uint8Array[] = [];
  private pendingBytes = 0;
  private timer: NodeJS.Timeout | null = null;
  private lastFlush = -Infinity;
  private readonly onTimer = (): void => {
    this.timer = null;
    this.flush();
  };

  constructor(
    private readonly handler: BatchHandler,
    private readonly intervalMs: number = OutputBatching.IntervalMs,
    private readonly maxBytes: number = OutputBatching.MaxBytes,
  ) {}

  /** Bytes received but not yet handed on. */
  get pending(): number {
    return this.pendingBytes;
  }

  push(chunk: Uint8Array): void {
    const n = chunk.byteLength;
    if (n === 0) return;
    const quiet = this.pendingBytes === 0 && performance.now() - this.lastFlush >= this.intervalMs;
    this.chunks.push(chunk);
    this.pendingBytes += n;
    if (quiet || this.pendingBytes >= this.maxBytes) this.flush();
    else if (this.timer === null) this.timer = setTimeout(this.onTimer, this.intervalMs);
  }

  /** Hands on whatever is pending now (used before exit, snapshots and injected notices, to keep byte order). */
  flush(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const count = this.chunks.length;
    if (count === 0) return;
    this.lastFlush = performance.now();
    const data = count === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.pendingBytes);
    this.chunks.length = 0;
    this.pendingBytes = 0;
    this.handler(data);
  }

  /** Drops pending data and the timer. */
  dispose(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.chunks.length = 0;
    this.pendingBytes = 0;
  }
}
