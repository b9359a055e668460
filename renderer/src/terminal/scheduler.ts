// One scheduler for every terminal's output (after xterm.js's guide: parse in slices, keep each frame's work small).
// Output from the engine waits here and is handed to xterm once per animation frame: the focused terminal first and
// with the biggest slice, then at most a few background terminals per frame, round-robin, each getting everything it
// has pending at once (their writes coalesce, so each renders once per turn instead of on every chunk). Acks still
// follow xterm's parse (the `done` callbacks go with the data), so the engine's flow control slows a flooding agent
// instead of the page queueing megabytes. Keystrokes never pass through here.

export interface SchedulerOptions {
  /** Bytes handed to the focused terminal per frame. */
  focusSlice?: number;
  /** Bytes handed to each background terminal when its turn comes. */
  backgroundSlice?: number;
  /** Background terminals served per frame. */
  backgroundPerFrame?: number;
  /** The frame to schedule on (requestAnimationFrame in the page; tests pass their own). */
  requestFrame?: (cb: () => void) => void;
  now?: () => number;
}

interface Pending {
  chunks: Uint8Array[];
  dones: (() => void)[];
  bytes: number;
  /** Bytes written over the last rate window, and when it started. */
  windowBytes: number;
  windowStart: number;
  rate: number;
}

const RATE_WINDOW_MS = 1000;
/** After a keystroke, for this long, background terminals are fed every TYPING_EVERY frames, TYPING_SLICE at a time. */
const TYPING_QUIET_MS = 1000;
const TYPING_EVERY = 4;
const TYPING_SLICE = 16 * 1024;

function concat(chunks: Uint8Array[], bytes: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(bytes);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

export class WriteScheduler {
  private readonly queues = new Map<string, Pending>();
  private scheduled = false;
  private turn = 0;
  private frames = 0;
  /** When the user last typed: for a moment after, background terminals get fewer, smaller turns. */
  private lastInput = -Infinity;
  private readonly focusSlice: number;
  private readonly backgroundSlice: number;
  private readonly backgroundPerFrame: number;
  private readonly requestFrame: (cb: () => void) => void;
  private readonly now: () => number;

  constructor(
    private readonly write: (id: string, data: Uint8Array, done: () => void) => void,
    private readonly focusedId: () => string | null,
    o: SchedulerOptions = {},
  ) {
    this.focusSlice = o.focusSlice ?? 256 * 1024;
    this.backgroundSlice = o.backgroundSlice ?? 256 * 1024;
    this.backgroundPerFrame = o.backgroundPerFrame ?? 1;
    this.requestFrame = o.requestFrame ?? ((cb) => requestAnimationFrame(cb));
    this.now = o.now ?? (() => performance.now());
  }

  /** Output for terminal `id`; `done` runs once xterm has parsed it (the ack). */
  enqueue(id: string, data: Uint8Array, done: () => void): void {
    let q = this.queues.get(id);
    if (!q) {
      q = { chunks: [], dones: [], bytes: 0, windowBytes: 0, windowStart: this.now(), rate: 0 };
      this.queues.set(id, q);
    }
    q.chunks.push(data);
    q.dones.push(done);
    q.bytes += data.length;
    this.schedule();
  }

  /** A keystroke went to the focused terminal: keep the next frames light so its echo is drawn at once. */
  noteInput(): void {
    this.lastInput = this.now();
  }

  /** Drops a terminal's pending output (it was disposed or unsubscribed); its acks run so flow control stays even. */
  drop(id: string): void {
    const q = this.queues.get(id);
    if (!q) return;
    this.queues.delete(id);
    for (const d of q.dones) d();
  }

  /** Bytes per second handed to the terminal over the last second (the tile's "flooding" badge). */
  rateOf(id: string): number {
    const q = this.queues.get(id);
    if (!q) return 0;
    this.roll(q);
    return q.rate;
  }

  /** Output waiting for a frame (tests, diagnostics). */
  pendingBytes(id?: string): number {
    if (id) return this.queues.get(id)?.bytes ?? 0;
    let n = 0;
    for (const q of this.queues.values()) n += q.bytes;
    return n;
  }

  private roll(q: Pending): void {
    const t = this.now();
    if (t - q.windowStart >= RATE_WINDOW_MS) {
      q.rate = (q.windowBytes * 1000) / (t - q.windowStart);
      q.windowBytes = 0;
      q.windowStart = t;
    }
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    this.requestFrame(() => this.frame());
  }

  private frame(): void {
    this.scheduled = false;
    this.frames++;
    const focused = this.focusedId();
    const waiting = [...this.queues.entries()].filter(([, q]) => q.bytes > 0).map(([id]) => id);
    if (focused && waiting.includes(focused)) this.flush(focused, this.focusSlice);
    const others = waiting.filter((id) => id !== focused);
    // While the user types, background tiles get a small turn every TYPING_EVERY frames only.
    const typing = this.now() - this.lastInput < TYPING_QUIET_MS;
    if (!typing || this.frames % TYPING_EVERY === 0) {
      const slice = typing ? Math.min(this.backgroundSlice, TYPING_SLICE) : this.backgroundSlice;
      for (let i = 0; i < Math.min(this.backgroundPerFrame, others.length); i++) this.flush(others[(this.turn + i) % others.length]!, slice);
      this.turn += this.backgroundPerFrame;
    }
    if (this.pendingBytes() > 0) this.schedule();
  }

  /** Hands up to `slice` bytes (whole chunks; at least one) to xterm in one write. */
  private flush(id: string, slice: number): void {
    const q = this.queues.get(id)!;
    let n = 0;
    let bytes = 0;
    while (n < q.chunks.length && (n === 0 || bytes + q.chunks[n]!.length <= slice)) bytes += q.chunks[n++]!.length;
    const data = concat(q.chunks.splice(0, n), bytes);
    const dones = q.dones.splice(0, n);
    q.bytes -= bytes;
    q.windowBytes += bytes;
    this.roll(q);
    this.write(id, data, () => {
      for (const d of dones) d();
    });
  }
}
