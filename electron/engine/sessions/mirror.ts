// The per-session headless terminal: what a client that (re)connects is shown first (VS Code's ptyService keeps one
// per terminal and serializes it with the serialize addon on reconnect).
import * as xtermHeadless from '@xterm/headless';
import { SerializeAddon } from '@xterm/addon-serialize';
import { Limits } from '../../shared/contract.ts';

// @xterm/headless is a webpack CJS bundle: under Node's ESM loader only `default` carries the classes, while bundlers
// that read its typings-shaped exports see `Terminal` directly. Accept both.
const HeadlessTerminal: typeof xtermHeadless.Terminal =
  (xtermHeadless as unknown as { default?: typeof xtermHeadless }).default?.Terminal ?? xtermHeadless.Terminal;

/**
 * A headless xterm fed with the session's raw output bytes. Counts bytes written but not yet parsed (`pending`), which is
 * the mirror's share of flow control: "acked" means "parsed", as in VS Code, where acks come from xterm's write callback.
 */
export class TerminalMirror {
  private term: xtermHeadless.Terminal;
  private serializer: SerializeAddon;
  private pendingBytes = 0;
  // Sizes of writes whose callback has not fired yet; xterm calls write callbacks in order.
  private readonly inFlight: number[] = [];
  private readonly onParsed = (): void => {
    this.pendingBytes -= this.inFlight.shift() ?? 0;
    this.onDrain?.(this.pendingBytes);
  };
  private disposed = false;
  private readonly waiters = new Set<() => void>();

  /** Called after each write has been parsed, with the bytes still pending. */
  onDrain: ((pending: number) => void) | null = null;

  constructor(cols: number, rows: number, readonly scrollback: number = Limits.MirrorScrollback) {
    this.term = new HeadlessTerminal({ cols, rows, scrollback, allowProposedApi: true });
    this.serializer = new SerializeAddon();
    // The addon is typed against @xterm/xterm's Terminal; the headless one has the same buffer API it uses.
    this.term.loadAddon(this.serializer as unknown as xtermHeadless.ITerminalAddon);
  }

  get cols(): number {
    return this.term.cols;
  }
  get rows(): number {
    return this.term.rows;
  }
  /** Bytes written but not yet parsed. */
  get pending(): number {
    return this.pendingBytes;
  }

  /** xterm's UTF-8 decoder keeps a partial multi-byte sequence across writes, so chunk boundaries may fall anywhere. */
  write(data: Uint8Array): void {
    if (this.disposed) return;
    this.pendingBytes += data.byteLength;
    this.inFlight.push(data.byteLength);
    this.term.write(data, this.onParsed);
  }

  /**
   * Calls `cb` once everything written so far is parsed, before anything written later (synchronously if idle).
   * Dispose calls the callbacks still waiting, so nobody waits forever (check `isDisposed` in them).
   */
  whenParsed(cb: () => void): void {
    if (this.disposed || this.pendingBytes === 0) return cb();
    const once = (): void => {
      if (this.waiters.delete(once)) cb();
    };
    this.waiters.add(once);
    this.term.write('', once);
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  resize(cols: number, rows: number): void {
    if (this.disposed || (cols === this.term.cols && rows === this.term.rows)) return;
    this.term.resize(cols, rows);
  }

  /** The serialized screen and scrollback (call from `whenParsed` for a consistent picture). */
  serialize(): string {
    if (this.disposed) return '';
    return this.serializer.serialize();
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
    this.onDrain = null;
    this.serializer.dispose();
    this.term.dispose();
    for (const w of [...this.waiters]) w(); // each removes itself
  }
}
