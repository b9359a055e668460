// One scheduler for every terminal's output (after xterm.js's guide: parse in slices, keep each frame's work small).
// Output from the engine waits here and is handed to xterm once per animation frame: the focused terminal first and
// with the biggest slice, then background terminals round-robin within a byte budget per frame (~12 ms of xterm's
// parsing here). A background terminal gets a turn only once xterm has parsed its last one, and then everything it has
// pending at once: its writes coalesce, so it renders once per turn instead of on every chunk. Acks still follow
// xterm's parse (the `done` callbacks go with the data), so the engine's flow control slows a flooding agent instead of
// the page queueing megabytes. Keystrokes never pass through here; right after one, background turns shrink so the
// echo is drawn in the next frame.

import { TerminalLimits } from '../../../../electron/shared/limits.ts';
export interface SchedulerOptions {
  /** Bytes handed to the focused terminal per frame. */
  focusSlice?: number;
  /** Bytes handed to each background terminal when its turn comes. */
  backgroundSlice?: number;
  /** Bytes handed to all background terminals together per frame. */
  backgroundBudget?: number;
  /** Background terminals with little pending (a spinner) are drawn together this often. */
  backgroundIntervalMs?: number;
  /** The timer the background tick waits on (setTimeout in the page; tests pass their own). */
  setTimer?: (cb: () => void, ms: number) => unknown;
  /** The frame to schedule on (requestAnimationFrame in the page; tests pass their own). */
  requestFrame?: (cb: () => void) => void;
  now?: () => number;
}

interface Pending {
  chunks: Uint8Array[];
  dones: (() => void)[];
  bytes: number;
  /** Writes handed to xterm whose callback has not come yet. */
  inXterm: number;
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
/** How often background terminals draw small outputs, by default (Settings → Interface changes it). */
export const DEFAULT_BACKGROUND_MS = TerminalLimits.BackgroundRefreshMs.default;
/** Output for the focused terminal this small, while xterm is idle, is written at once (the echo of a keystroke). */
const ECHO_MAX = 4 * 1024;
/** How often a hidden window feeds its terminals. */
const HIDDEN_FRAME_MS = 50;
/** A background terminal with this much pending is fed without waiting for the tick. */
const BULK = 32 * 1024;

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
  private readonly backgroundBudget: number;
  private backgroundInterval: number;
  private lastTick = -Infinity;
  private tickTimer: unknown = null;
  private readonly setTimer: (cb: () => void, ms: number) => unknown;
  private readonly requestFrame: (cb: () => void) => void;
  private readonly now: () => number;

  constructor(
    private readonly write: (id: string, data: Uint8Array, done: () => void) => void,
    private readonly focusedId: () => string | null,
    o: SchedulerOptions = {},
  ) {
    this.focusSlice = o.focusSlice ?? 256 * 1024;
    this.backgroundSlice = o.backgroundSlice ?? 128 * 1024;
    this.backgroundBudget = o.backgroundBudget ?? 256 * 1024;
    this.backgroundInterval = o.backgroundIntervalMs ?? DEFAULT_BACKGROUND_MS;
    this.setTimer = o.setTimer ?? ((cb, ms) => setTimeout(cb, ms));
    // A hidden window gets no animation frames; output must still be parsed (and acked) there, on a timer.
    this.requestFrame = o.requestFrame ?? ((cb) => (document.hidden ? setTimeout(cb, HIDDEN_FRAME_MS) : requestAnimationFrame(cb)));
    this.now = o.now ?? (() => performance.now());
  }

  /** Output for terminal `id`; `done` runs once xterm has parsed it (the ack). */
  enqueue(id: string, data: Uint8Array, done: () => void): void {
    const q = this.queue(id);
    q.chunks.push(data);
    q.dones.push(done);
    q.bytes += data.length;
    // A keystroke's echo (a little output for the focused terminal while xterm is idle) goes now, not a frame later.
    if (q.inXterm === 0 && q.bytes <= ECHO_MAX && id === this.focusedId()) this.flush(id, q, ECHO_MAX);
    else this.wake(id, q);
  }

  /** How often background terminals draw small outputs (ms). */
  setBackgroundInterval(ms: number): void {
    this.backgroundInterval = ms;
  }

  /** A keystroke went to the focused terminal: keep the next frames light so its echo is drawn at once. */
  noteInput(): void {
    this.lastInput = this.now();
  }

  /**
   * Drops a terminal's pending output (it was disposed, unsubscribed, or restored from a snapshot or screen — then
   * `keepRate`, so the flooding badge stays); its acks run so flow control stays even.
   */
  drop(id: string, keepRate = false): void {
    const q = this.queues.get(id);
    if (!q) return;
    this.queues.delete(id);
    // (A new record: a write of the old one still in xterm must not touch it.)
    if (keepRate) this.queues.set(id, { ...q, chunks: [], dones: [], bytes: 0, inXterm: 0 });
    const dones = q.dones.splice(0);
    // Emptied, so a write of it still in xterm does not wake it when its callback comes.
    q.chunks.length = 0;
    q.bytes = 0;
    for (const d of dones) d();
  }

  private queue(id: string): Pending {
    let q = this.queues.get(id);
    if (!q) {
      q = { chunks: [], dones: [], bytes: 0, inXterm: 0, windowBytes: 0, windowStart: this.now(), rate: 0 };
      this.queues.set(id, q);
    }
    return q;
  }

  /** Output the terminal was shown as a screen instead of being written (it still counts for the rate). */
  count(id: string, bytes: number): void {
    const q = this.queue(id);
    this.roll(q);
    q.windowBytes += bytes;
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

  /** Asks for the frame (or the tick) in which `id` can next be fed. */
  private wake(id: string, q: Pending): void {
    if (id === this.focusedId()) return this.schedule();
    // Its last write is still being parsed: that write's callback wakes it.
    if (q.inXterm > 0) return;
    if (q.bytes >= BULK) this.schedule();
    else this.scheduleTick();
  }

  private scheduleTick(): void {
    if (this.tickTimer !== null || this.scheduled) return;
    const wait = Math.max(0, this.lastTick + this.backgroundInterval - this.now());
    this.tickTimer = this.setTimer(() => {
      this.tickTimer = null;
      this.schedule();
    }, wait);
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
    const f = focused ? this.queues.get(focused) : undefined;
    if (f && f.bytes > 0) this.flush(focused!, f, this.focusSlice);
    // While the user types, background terminals get a small turn every TYPING_EVERY frames only.
    const now = this.now();
    const typing = now - this.lastInput < TYPING_QUIET_MS;
    if (!typing || this.frames % TYPING_EVERY === 0) {
      let budget = typing ? TYPING_SLICE : this.backgroundBudget;
      const ids = [...this.queues.keys()].filter((id) => id !== focused);
      // Trickles (a spinner, a status line) wait for the background tick and then all draw in the same frame; a
      // terminal with a bulk of output goes as soon as xterm is done with its last write (it renders once per bulk).
      // (A timer may wake a little before the interval is up by the frame clock.)
      const tick = now - this.lastTick >= this.backgroundInterval - 2;
      if (tick) this.lastTick = now;
      const start = this.turn;
      for (let i = 0; i < ids.length && budget > 0; i++) {
        const id = ids[(start + i) % ids.length]!;
        const q = this.queues.get(id)!;
        if (q.bytes === 0 || q.inXterm > 0 || (!tick && q.bytes < BULK)) continue;
        budget -= this.flush(id, q, Math.min(this.backgroundSlice, budget));
        // The next frame starts after the last one served.
        this.turn = start + i + 1;
      }
    }
    // Terminals whose write xterm is still parsing are rescheduled by its callback; trickles wait for the tick (a
    // timer, so an idle page with spinners asks for no frames in between).
    let trickle = false;
    for (const [id, q] of this.queues) {
      if (q.bytes === 0 || (q.inXterm > 0 && id !== focused)) continue;
      if (id === focused || q.bytes >= BULK) return this.schedule();
      trickle = true;
    }
    if (trickle) this.scheduleTick();
  }

  /** Hands up to `slice` bytes (whole chunks; at least one) to xterm in one write; answers how many. */
  private flush(id: string, q: Pending, slice: number): number {
    let n = 0;
    let bytes = 0;
    while (n < q.chunks.length && (n === 0 || bytes + q.chunks[n]!.length <= slice)) bytes += q.chunks[n++]!.length;
    const data = concat(q.chunks.splice(0, n), bytes);
    const dones = q.dones.splice(0, n);
    q.bytes -= bytes;
    q.windowBytes += bytes;
    q.inXterm++;
    this.roll(q);
    this.write(id, data, () => {
      q.inXterm--;
      for (const d of dones) d();
      // A background terminal waits for this callback before its next turn.
      if (q.bytes > 0) this.wake(id, q);
    });
    return bytes;
  }
}
