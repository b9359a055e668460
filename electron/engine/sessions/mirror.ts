// The per-session headless terminal: what a client that (re)connects is shown first (VS Code's ptyService keeps one
// per terminal and serializes it with the serialize addon on reconnect).
import * as xtermHeadless from '@xterm/headless';
import { SerializeAddon } from '@xterm/addon-serialize';
import { Limits } from '../../shared/contract.ts';

// @xterm/headless is a webpack CJS bundle: under Node's ESM loader only `default` carries the classes, while bundlers
// that read its typings-shaped exports see `Terminal` directly. Accept both.
export const HeadlessTerminal: typeof xtermHeadless.Terminal =
  (xtermHeadless as unknown as { default?: typeof xtermHeadless }).default?.Terminal ?? xtermHeadless.Terminal;

/** Unparsed bytes the mirror keeps at most; beyond it the oldest are skipped (see `write`). */
export const MIRROR_BACKLOG_MAX = 1024 * 1024;
/** What is left after a skip: the newest bytes, more than the scrollback's worth of ordinary lines. */
export const MIRROR_BACKLOG_KEEP = 256 * 1024;
/** Bytes handed to xterm at a time: ~0.6 ms of parsing, so the thread's pty reads are never held up for long (with 64 KB
 *  slices bench/output ran at about half the rate: the ptys filled up while a slice was parsed). */
const SLICE = 16 * 1024;
/** A mirror this far behind is flooding: the thread's mirrors then parse at most a fifth of the time (see MirrorPacer). */
const BUSY_BACKLOG = 256 * 1024;

/**
 * One per thread: the mirrors take turns, one slice at a time, and while any of them is flooding (and nobody waits for a
 * snapshot) the next slice waits four times as long as the last one took to parse — the mirrors together use at most a
 * fifth of the thread, the rest stays with the pty reads and the clients. Without floods every slice goes at once.
 */
class MirrorPacer {
  private readonly ready: TerminalMirror[] = [];
  private busy = false;
  private timer: NodeJS.Timeout | null = null;
  private hurry = 0;

  want(m: TerminalMirror): void {
    if (!this.ready.includes(m)) this.ready.push(m);
    if (!this.busy && this.timer === null) this.next();
  }

  /** A snapshot waits on this mirror: no pauses until it is served. */
  urgent(m: TerminalMirror): void {
    this.hurry++;
    const i = this.ready.indexOf(m);
    if (i > 0) this.ready.unshift(...this.ready.splice(i, 1));
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
      if (!this.busy) this.next();
    }
  }
  served(): void {
    this.hurry = Math.max(0, this.hurry - 1);
  }

  forget(m: TerminalMirror): void {
    const i = this.ready.indexOf(m);
    if (i >= 0) this.ready.splice(i, 1);
  }

  private next(): void {
    this.timer = null;
    const m = this.ready.shift();
    if (!m) return;
    this.busy = true;
    m.parseSlice((parseMs) => {
      this.busy = false;
      if (m.hasQueued) this.ready.push(m);
      if (this.ready.length === 0) return;
      const flooding = this.hurry === 0 && this.ready.some((r) => r.queuedBytes > BUSY_BACKLOG);
      if (flooding) this.timer = setTimeout(() => this.next(), Math.min(100, 4 * parseMs));
      else this.next();
    });
  }
}

const pacer = new MirrorPacer();

type StyleCell = { isBold(): number | boolean; isDim(): number | boolean };
type StyleDiff = (cell: StyleCell, prev: StyleCell) => number[];
let serializeAmended = false;

/**
 * The serialize addon (0.14) ends bold, or dim, with SGR 22 — which ends both: a cell that stays bold while dim ends
 * (or the reverse) comes back without it when a snapshot is restored (found by test/unit/mirror-fidelity.test.ts). Its
 * string handler is not exported: it is caught the first time the addon makes one (its constructor assigns
 * `_terminal`, which an inherited setter sees), and its style diff amended — after a 22, what stays is set again.
 */
function amendSerializeAddon(serializer: SerializeAddon): void {
  if (serializeAmended) return;
  serializeAmended = true;
  let proto: { _diffStyle?: StyleDiff } | null = null;
  Object.defineProperty(Object.prototype, '_terminal', {
    configurable: true,
    set(this: object, v: unknown) {
      proto ??= Object.getPrototypeOf(this) as { _diffStyle?: StyleDiff };
      Object.defineProperty(this, '_terminal', { value: v, writable: true, configurable: true, enumerable: true });
    },
  });
  try {
    serializer.serialize({ scrollback: 0 });
  } finally {
    delete (Object.prototype as { _terminal?: unknown })._terminal;
  }
  const diff = (proto as { _diffStyle?: StyleDiff } | null)?._diffStyle;
  if (!proto || typeof diff !== 'function') return;
  (proto as { _diffStyle: StyleDiff })._diffStyle = function (this: unknown, cell, prev) {
    const sgr = diff.call(this, cell, prev);
    if (sgr.includes(22)) {
      if (cell.isBold()) sgr.push(1);
      if (cell.isDim()) sgr.push(2);
    }
    return sgr;
  };
}

/**
 * A headless xterm fed with the session's raw output bytes, for what a (re)connecting client is shown first and for the
 * screen heuristics. It never paces the agent: the clients' xterms get every byte under flow control, while the mirror
 * parses what it can (xterm parses ~25 MB/s on one core here — slower than ten flooding agents write) and, when more
 * than MIRROR_BACKLOG_MAX bytes wait, skips the oldest, keeps the newest MIRROR_BACKLOG_KEEP from a line start, and
 * says so in its screen ("── N MB of output skipped … ──"). Memory stays bounded and a flood runs at the clients' pace.
 */
export class TerminalMirror {
  private term: xtermHeadless.Terminal;
  private serializer: SerializeAddon;
  /** Received, not yet handed to xterm. */
  private queue: Uint8Array[] = [];
  private queued = 0;
  /** Handed to xterm, not yet parsed. */
  private inXterm = 0;
  /** Every byte ever written, and every byte parsed or skipped: whenParsed waits for the second to reach the first. */
  private writtenTotal = 0;
  private doneTotal = 0;
  private skippedSinceMark = 0;
  private skippedTotal = 0;
  private disposed = false;
  private sliceDone: (() => void) | null = null;
  private readonly waiters: { target: number; cb: () => void }[] = [];

  constructor(
    cols: number,
    rows: number,
    readonly scrollback: number = Limits.MirrorScrollback,
  ) {
    this.term = new HeadlessTerminal({ cols, rows, scrollback, allowProposedApi: true });
    this.serializer = new SerializeAddon();
    // The addon is typed against @xterm/xterm's Terminal; the headless one has the same buffer API it uses.
    this.term.loadAddon(this.serializer as unknown as xtermHeadless.ITerminalAddon);
    amendSerializeAddon(this.serializer);
  }

  get cols(): number {
    return this.term.cols;
  }
  get rows(): number {
    return this.term.rows;
  }
  /** Bytes written but not yet parsed (or skipped). Never more than MIRROR_BACKLOG_MAX + one batch. */
  get pending(): number {
    return this.queued + this.inXterm;
  }
  get hasQueued(): boolean {
    return !this.disposed && this.queue.length > 0;
  }
  get queuedBytes(): number {
    return this.queued;
  }
  /** Bytes skipped so far because the mirror was too far behind. */
  get skipped(): number {
    return this.skippedTotal;
  }

  /** xterm's UTF-8 decoder keeps a partial multi-byte sequence across writes, so chunk boundaries may fall anywhere. */
  write(data: Uint8Array): void {
    if (this.disposed || data.byteLength === 0) return;
    this.queue.push(data);
    this.queued += data.byteLength;
    this.writtenTotal += data.byteLength;
    if (this.queued > MIRROR_BACKLOG_MAX) this.skip();
    pacer.want(this);
  }

  /** Drops the oldest queued bytes down to MIRROR_BACKLOG_KEEP, cut after a newline so the kept part starts a line. */
  private skip(): void {
    let drop = this.queued - MIRROR_BACKLOG_KEEP;
    while (drop > 0 && this.queue.length > 0) {
      const head = this.queue[0]!;
      if (head.byteLength <= drop) {
        this.queue.shift();
        this.dropped(head.byteLength);
        drop -= head.byteLength;
        continue;
      }
      // Cut inside this chunk, after the first newline at or past the cut (else drop the whole chunk's rest).
      const nl = head.indexOf(0x0a, drop);
      const cut = nl === -1 ? head.byteLength : nl + 1;
      this.queue[0] = head.subarray(cut);
      if (cut === head.byteLength) this.queue.shift();
      this.dropped(cut);
      drop = 0;
    }
    this.settleWaiters();
  }

  private dropped(n: number): void {
    this.queued -= n;
    this.doneTotal += n;
    this.skippedSinceMark += n;
    this.skippedTotal += n;
  }

  /** Hands xterm the next slice; `done` runs once it is parsed, with the parse time (MirrorPacer calls this). */
  parseSlice(done: (parseMs: number) => void): void {
    if (this.disposed || this.queue.length === 0) return done(0);
    if (this.skippedSinceMark > 0) {
      const mb = (this.skippedSinceMark / 1024 / 1024).toFixed(1);
      this.skippedSinceMark = 0;
      // Attributes reset and a fresh line: the skipped part may have left a colour or a half-drawn line behind.
      this.term.write(`\x1b[0m\r\n\x1b[2m── ${mb} MB of output skipped here while the session flooded (every client got it) ──\x1b[0m\r\n`);
    }
    let slice: Uint8Array;
    const head = this.queue[0]!;
    if (head.byteLength <= SLICE && this.queue.length === 1) slice = this.queue.shift()!;
    else if (head.byteLength >= SLICE) {
      slice = head.subarray(0, SLICE);
      if (head.byteLength === SLICE) this.queue.shift();
      else this.queue[0] = head.subarray(SLICE);
    } else {
      const parts: Uint8Array[] = [];
      let n = 0;
      while (this.queue.length > 0 && n + this.queue[0]!.byteLength <= SLICE) {
        const c = this.queue.shift()!;
        parts.push(c);
        n += c.byteLength;
      }
      slice = Buffer.concat(parts, n);
    }
    const n = slice.byteLength;
    this.queued -= n;
    this.inXterm += n;
    // xterm parses later, in a task of its own: an empty write's callback marks when that task reaches the slice.
    let started = 0;
    this.term.write('', () => void (started = performance.now()));
    // Called once: by xterm when parsed, or by dispose (xterm drops its callbacks then, and the pacer must go on).
    const finish = () => {
      if (this.sliceDone !== finish) return;
      this.sliceDone = null;
      this.inXterm -= n;
      this.doneTotal += n;
      this.settleWaiters();
      done(started ? performance.now() - started : 0);
    };
    this.sliceDone = finish;
    this.term.write(slice, finish);
  }

  private settleWaiters(): void {
    while (this.waiters.length > 0 && this.waiters[0]!.target <= this.doneTotal) {
      pacer.served();
      this.waiters.shift()!.cb();
    }
  }

  /**
   * Calls `cb` once everything written so far is parsed (or skipped), before anything written later (synchronously if
   * idle). Dispose calls the callbacks still waiting, so nobody waits forever (check `isDisposed` in them).
   */
  whenParsed(cb: () => void): void {
    if (this.disposed || this.doneTotal >= this.writtenTotal) return cb();
    this.waiters.push({ target: this.writtenTotal, cb });
    pacer.urgent(this);
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  resize(cols: number, rows: number): void {
    if (this.disposed || (cols === this.term.cols && rows === this.term.rows)) return;
    this.term.resize(cols, rows);
  }

  /** The serialized screen and scrollback (call from `whenParsed` for a consistent picture); `scrollback: 0`: the screen. */
  serialize(opts?: { scrollback?: number }): string {
    if (this.disposed) return '';
    return this.serializer.serialize(opts);
  }

  /** The visible screen as text, one string per row (trailing blanks trimmed). */
  screenLines(): string[] {
    if (this.disposed) return [];
    const buf = this.term.buffer.active;
    const lines: string[] = [];
    for (let y = 0; y < this.term.rows; y++) lines.push(buf.getLine(buf.baseY + y)?.translateToString(true) ?? '');
    return lines;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    pacer.forget(this);
    this.queue = [];
    this.sliceDone?.();
    this.serializer.dispose();
    this.term.dispose();
    for (const w of this.waiters.splice(0)) {
      pacer.served();
      w.cb();
    }
  }
}
