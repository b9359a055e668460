// What `flotilla run` shows while it runs. On a terminal: a live block of one line per session (status in colour, spend,
// requests, the task), redrawn in place at most ten times a second, with log lines printed above it. Anywhere else (a
// pipe, a file, CI, TERM=dumb): plain lines, one per change, as before. Colour follows https://no-color.org (NO_COLOR
// set and not empty turns it off) and FORCE_COLOR (turns it on, e.g. for a pager that understands it).
import type { SessionInfo, SessionStatus } from '../shared/contract.ts';

export interface OutputStyle {
  /** ANSI colours in what is written. */
  color: boolean;
  /** The live, redrawn block (a terminal that understands cursor movement). */
  live: boolean;
}

export function outputStyle(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): OutputStyle {
  const tty = stream.isTTY === true && env.TERM !== 'dumb';
  const noColor = env.NO_COLOR !== undefined && env.NO_COLOR !== '';
  const force = env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '' && env.FORCE_COLOR !== '0';
  return { color: force || (tty && !noColor), live: tty };
}

const SGR: Record<string, string> = { red: '31', green: '32', yellow: '33', blue: '34', magenta: '35', cyan: '36', dim: '2', bold: '1' };

export function paint(style: Pick<OutputStyle, 'color'>, colour: keyof typeof SGR, text: string): string {
  return style.color ? `\x1b[${SGR[colour]}m${text}\x1b[0m` : text;
}

const STATUS_COLOUR: Partial<Record<SessionStatus, keyof typeof SGR>> = {
  working: 'cyan',
  starting: 'dim',
  queued: 'dim',
  idle: 'blue',
  done: 'green',
  needs_you: 'yellow',
  over_budget: 'yellow',
  rate_limited: 'yellow',
  held: 'yellow',
  rejected: 'red',
  failed: 'red',
  stopped: 'magenta',
  interrupted: 'red',
};

export interface ProgressRow {
  slot: number;
  status: SessionStatus;
  detail: string | null;
  task: string | null;
  usd: number;
  requests: number;
}

/** Cut to `width` columns (the terminal's), with an ellipsis; the text here is plain (colour is added after). */
function fit(text: string, width: number): string {
  const chars = [...text];
  return chars.length <= width ? text : `${chars.slice(0, Math.max(0, width - 1)).join('')}…`;
}

/** One line per session, as the live block shows it. */
export function progressLine(r: ProgressRow, style: Pick<OutputStyle, 'color'>, width: number): string {
  const status = r.status.replace('_', ' ');
  const head = `slot ${String(r.slot).padStart(2)}  `;
  const money = `  $${r.usd.toFixed(4)}  ${String(r.requests).padStart(3)} req  `;
  const statusText = (status + (r.detail ? ` (${r.detail})` : '')).padEnd(14);
  const rest = fit(`${statusText}${money}${(r.task ?? '').replace(/\s+/g, ' ')}`, Math.max(10, width - head.length));
  // Colour only the status words (the rest of the cut line stays plain).
  const cut = Math.min(status.length, rest.length);
  return `${head}${paint(style, STATUS_COLOUR[r.status] ?? 'dim', rest.slice(0, cut))}${rest.slice(cut)}`;
}

export interface ProgressOut {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** The live block: rows by session, redrawn in place; `log` lines go above it (and stay). */
export class LiveProgress {
  private readonly rows = new Map<string, ProgressRow>();
  private drawn = 0;
  private timer: NodeJS.Timeout | null = null;
  private ended = false;

  constructor(
    private readonly out: ProgressOut,
    private readonly style: OutputStyle,
    private readonly everyMs = 100,
  ) {}

  session(s: Pick<SessionInfo, 'id' | 'slot' | 'status' | 'statusDetail' | 'task'>): void {
    const prev = this.rows.get(s.id);
    this.rows.set(s.id, {
      slot: s.slot,
      status: s.status,
      detail: s.statusDetail,
      task: s.task,
      usd: prev?.usd ?? 0,
      requests: prev?.requests ?? 0,
    });
    this.schedule();
  }

  spend(sessionId: string, usd: number, requests: number): void {
    const row = this.rows.get(sessionId);
    if (!row) return;
    row.usd = usd;
    row.requests = requests;
    this.schedule();
  }

  /** A line that stays (launch progress, a hint): printed above the block, which is drawn again under it. */
  log(line: string): void {
    this.out.write(`${this.clear()}${line}\n`);
    this.drawn = 0;
    this.schedule();
  }

  /** Draws the final state once and leaves it on the screen. */
  end(): void {
    if (this.ended) return;
    this.flush();
    this.ended = true;
  }

  /** Draws what changed now instead of at the next tick. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.draw();
  }

  private schedule(): void {
    if (this.ended || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.draw();
    }, this.everyMs);
    this.timer.unref?.();
  }

  /** Cursor back to the block's first line, each line erased on the way (ESC[F: previous line, ESC[2K: erase). */
  private clear(): string {
    return this.drawn ? `\x1b[${this.drawn}F\x1b[J` : '';
  }

  private draw(): void {
    if (this.ended) return;
    const width = this.out.columns ?? 100;
    const rows = [...this.rows.values()].sort((a, b) => a.slot - b.slot);
    const lines = rows.map((r) => `\x1b[2K${progressLine(r, this.style, width - 1)}\n`);
    this.out.write(this.clear() + lines.join(''));
    this.drawn = rows.length;
  }
}
