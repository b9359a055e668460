// Output to one WebSocket, paced per session. A session the client marks *quiet* (a tile in the background) has its
// small outputs held for up to QUIET_MS and sent together with every other quiet session's in one batch frame: sixteen
// idle tiles whose agents redraw a spinner ten times a second cost the page 4 messages a second instead of 160 (each
// message costs Chromium's network, browser and renderer processes ~0.5 ms of CPU here). Live (focused) sessions are
// sent as they come.
//
// A quiet session that sends more than SCREENS_AFTER bytes within one refresh (a build log, a `cat`, a flood) is more
// than a background tile can usefully draw: it is switched to *screens*. Its output is no longer sent; every refresh
// (the page's background refresh, `refreshMs`) that saw output, the mirror's current screen goes instead, in one Screen
// frame — so the page parses one screen per refresh, not every byte. Its subscription lets go of the pty (`hold(false)`):
// the page's acks no longer pace the agent; only the mirror, which bounds itself by skipping, follows the output, as when
// no client watches. When the tile is focused, or a refresh sees less than SCREENS_UNTIL bytes, the session is
// re-subscribed: a full snapshot (screen and scrollback) and, from the same instant, the stream again (`resync`).
import { type SnapshotResult, encodeBatchFrame, encodeOutputFrame, encodeScreenFrame } from '../../shared/contract.ts';
import { TerminalLimits } from '../../shared/limits.ts';

export const QUIET_MS = 250;
export const BULK = 32 * 1024;
/** A quiet session that sends this much within one refresh gets screens instead of its stream (before its bulk goes). */
export const SCREENS_AFTER = BULK;
/** …and gets its stream back once a refresh sees less than this. */
export const SCREENS_UNTIL = 8 * 1024;
/** Sessions shown as screens are spread over this many slots of a refresh. */
const PHASES = 8;

/** What the pacer needs of a (local) session to show it as screens. */
export interface ScreenSource {
  /** The mirror's screen now: no scrollback, no wait for what is still being parsed. */
  screen(): Promise<SnapshotResult>;
  /**
   * Ends the current subscription and opens a new one: its full snapshot (screen and scrollback) covers every byte
   * before this call, and the new subscription's output (through `output`) every byte after.
   */
  resync(): Promise<SnapshotResult>;
  /** Whether the subscription's un-acked bytes may pause the pty. */
  hold(on: boolean): void;
}

interface Held {
  chunks: Uint8Array[];
  bytes: number;
}

interface Feed {
  source: ScreenSource;
  mode: 'stream' | 'screens' | 'resync';
  /** Bumped when the feed is forgotten or resynced: answers for an older state are dropped. */
  gen: number;
  /** Stream: bytes since windowStart (quiet only). */
  windowBytes: number;
  windowStart: number;
  /** Screens: output since the last screen sent, and since the last refresh. */
  unseen: number;
  tickBytes: number;
  asking: boolean;
  /** The output the screen being made stands for. */
  askingBytes: number;
  /** Resync: the new subscription's output, sent after its snapshot. */
  early: Uint8Array[];
  /** Screens: its own refresh timer (each session's phase is when it began flooding, so the page's work is spread). */
  timer: unknown;
}

export interface PacerClock {
  set(cb: () => void, ms: number): unknown;
  clear(t: unknown): void;
  now(): number;
}

const realClock: PacerClock = {
  set: (cb, ms) => setTimeout(cb, ms),
  clear: (t) => clearTimeout(t as NodeJS.Timeout),
  now: () => performance.now(),
};

export class OutputPacer {
  private readonly quiet = new Set<string>();
  private readonly held = new Map<string, Held>();
  private readonly feeds = new Map<string, Feed>();
  private timer: unknown = null;
  /** Which of PHASES slots of a refresh the next session shown as screens gets. */
  private phase = 0;
  private refreshMs: number = TerminalLimits.BackgroundRefreshMs.default;

  constructor(
    private readonly send: (frame: Uint8Array) => void,
    private readonly clock: PacerClock = realClock,
  ) {}

  output(sessionId: string, data: Uint8Array): void {
    const f = this.feeds.get(sessionId);
    if (f && f.mode !== 'stream') {
      if (f.mode === 'resync') f.early.push(data);
      else {
        f.unseen += data.byteLength;
        f.tickBytes += data.byteLength;
      }
      return;
    }
    if (!this.quiet.has(sessionId)) {
      this.flushSession(sessionId);
      return this.send(encodeOutputFrame(sessionId, data));
    }
    let h = this.held.get(sessionId);
    if (!h) this.held.set(sessionId, (h = { chunks: [], bytes: 0 }));
    h.chunks.push(data);
    h.bytes += data.byteLength;
    if (f && this.tooMuch(f, data.byteLength)) return this.toScreens(sessionId, f);
    if (h.bytes >= BULK) this.flushSession(sessionId);
    else if (this.timer === null) this.timer = this.clock.set(() => this.flushAll(), QUIET_MS);
  }

  /** Quiet: small outputs wait for the next batch, a flood becomes screens. Not quiet: the stream, now. */
  setQuiet(sessionId: string, quiet: boolean, refreshMs?: number): void {
    if (refreshMs !== undefined) this.refreshMs = refreshMs;
    if (quiet) return void this.quiet.add(sessionId);
    this.quiet.delete(sessionId);
    const f = this.feeds.get(sessionId);
    if (f?.mode === 'screens') this.resync(sessionId, f);
    else this.flushSession(sessionId);
  }

  /** The session's subscription can be shown as screens (a local session; a host's engine does its own). */
  screens(sessionId: string, source: ScreenSource): void {
    this.feeds.set(sessionId, {
      source,
      mode: 'stream',
      gen: 0,
      windowBytes: 0,
      windowStart: this.clock.now(),
      unseen: 0,
      tickBytes: 0,
      asking: false,
      askingBytes: 0,
      early: [],
      timer: null,
    });
  }

  /** A screen made elsewhere (a host's engine) for this client: after what was held, in order. */
  screen(sessionId: string, snap: SnapshotResult, bytes: number): void {
    this.flushSession(sessionId);
    this.send(screenFrame(sessionId, snap, bytes));
  }

  /** Whether the session is shown as screens now (tests and diagnostics). */
  modeOf(sessionId: string): 'stream' | 'screens' | 'resync' {
    return this.feeds.get(sessionId)?.mode ?? 'stream';
  }

  /** The session's subscription ended or began anew: what was held for it belongs to the old one (not sent). */
  forget(sessionId: string): void {
    this.held.delete(sessionId);
    this.quiet.delete(sessionId);
    const f = this.feeds.get(sessionId);
    if (f) this.drop(f);
    this.feeds.delete(sessionId);
  }

  close(): void {
    if (this.timer !== null) this.clock.clear(this.timer);
    this.timer = null;
    this.held.clear();
    for (const f of this.feeds.values()) this.drop(f);
    this.feeds.clear();
  }

  private drop(f: Feed): void {
    f.gen++;
    if (f.timer !== null) this.clock.clear(f.timer);
    f.timer = null;
  }

  /** Counts a quiet session's output over the current refresh window: is it more than a tile should draw? */
  private tooMuch(f: Feed, n: number): boolean {
    const now = this.clock.now();
    if (now - f.windowStart >= this.refreshMs) {
      f.windowStart = now;
      f.windowBytes = 0;
    }
    f.windowBytes += n;
    return f.windowBytes >= SCREENS_AFTER;
  }

  private toScreens(sessionId: string, f: Feed): void {
    const h = this.held.get(sessionId);
    this.held.delete(sessionId);
    f.mode = 'screens';
    f.unseen = h?.bytes ?? 0;
    f.tickBytes = f.unseen;
    f.source.hold(false);
    // The first screen comes within a refresh, at a phase of its own: tiles that begin flooding together (a build in
    // every worktree) do not all ask the page to redraw in the same instant, then or at every refresh after.
    this.tickLater(sessionId, f, Math.round((this.refreshMs * (this.phase++ % PHASES)) / PHASES));
  }

  private tickLater(sessionId: string, f: Feed, ms = this.refreshMs): void {
    f.timer = this.clock.set(() => this.tick(sessionId, f), ms);
  }

  /** Each refresh: a new screen if there was output; back to the stream once it has calmed down. */
  private tick(sessionId: string, f: Feed): void {
    f.timer = null;
    if (f.mode !== 'screens' || this.feeds.get(sessionId) !== f) return;
    if (!f.asking) {
      if (f.tickBytes < SCREENS_UNTIL) return this.resync(sessionId, f);
      if (f.unseen > 0) this.ask(sessionId, f);
      f.tickBytes = 0;
    }
    this.tickLater(sessionId, f);
  }

  private ask(sessionId: string, f: Feed): void {
    const gen = f.gen;
    const bytes = f.unseen;
    f.unseen = 0;
    f.asking = true;
    f.askingBytes = bytes;
    f.source.screen().then(
      (snap) => {
        if (f.gen !== gen) return;
        f.asking = false;
        this.send(screenFrame(sessionId, snap, bytes));
      },
      () => void (f.gen === gen && (f.asking = false)),
    );
  }

  /** Back to the stream: a full snapshot first (as a screen), then the new subscription's output. */
  private resync(sessionId: string, f: Feed): void {
    this.drop(f);
    const gen = f.gen;
    // (A screen still being made is dropped: the snapshot stands for its bytes too.)
    const bytes = f.unseen + (f.asking ? f.askingBytes : 0);
    f.mode = 'resync';
    f.asking = false;
    f.early = [];
    const done = (snap: SnapshotResult | null) => {
      if (f.gen !== gen) return;
      f.mode = 'stream';
      f.windowStart = this.clock.now();
      f.windowBytes = 0;
      if (snap) this.send(screenFrame(sessionId, snap, bytes));
      const early = f.early;
      f.early = [];
      for (const data of early) this.output(sessionId, data);
    };
    let p: Promise<SnapshotResult>;
    try {
      p = f.source.resync();
    } catch {
      return done(null);
    }
    p.then(done, () => done(null));
  }

  private flushSession(sessionId: string): void {
    const h = this.held.get(sessionId);
    if (!h) return;
    this.held.delete(sessionId);
    this.send(encodeOutputFrame(sessionId, join(h)));
  }

  private flushAll(): void {
    this.timer = null;
    if (this.held.size === 0) return;
    const parts = [...this.held].map(([sessionId, h]) => ({ sessionId, data: join(h) }));
    this.held.clear();
    this.send(parts.length === 1 ? encodeOutputFrame(parts[0]!.sessionId, parts[0]!.data) : encodeBatchFrame(parts));
  }
}

/** One array for what was held (as OutputBatcher joins its chunks: a lone chunk as is). */
function join(h: Held): Uint8Array {
  return h.chunks.length === 1 ? h.chunks[0]! : Buffer.concat(h.chunks, h.bytes);
}

/** A snapshot or screen as a Screen frame, with the output bytes it stands for. */
function screenFrame(sessionId: string, snap: SnapshotResult, bytes: number): Uint8Array {
  return encodeScreenFrame(sessionId, { cols: snap.cols, rows: snap.rows, data: snap.data, bytes });
}
