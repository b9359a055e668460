// Imperative xterm management, outside React: one Terminal per session, opened once and re-parented between tiles
// (grid ↔ focus mode ↔ strip) so its buffer and parser state survive layout changes. Output is written straight from
// the WebSocket into xterm, acked from the write callback ("acked" means "parsed", after VS Code). A terminal is
// subscribed only while its tile is on screen; on (re)subscribe it restores from the engine's serialized mirror.
import { Terminal, type ITheme } from '@xterm/xterm';
import type { SnapshotResult } from '../../../electron/shared/contract.ts';
import { useStore } from '../state/index.ts';
import { type EngineClient, type EngineConnection, engine } from '../transport/index.ts';
import { WebglLease, type WebglHolder } from './webgl.ts';

/** Column changes reflow the buffer and SIGWINCH the agent: wait for the layout to settle (VS Code debounces too). */
const RESIZE_DEBOUNCE_MS = 100;
const FONT_SIZE = 12;
const LINE_HEIGHT = 1.1;
const FONT_FAMILY = '"JetBrains Mono", "SF Mono", Menlo, Consolas, "DejaVu Sans Mono", "Liberation Mono", monospace';

const THEME: ITheme = {
  background: '#0b0e14',
  foreground: '#c9d1d9',
  cursor: '#7aa2f7',
  cursorAccent: '#0b0e14',
  selectionBackground: '#264f78',
  black: '#1c2128',
  red: '#f7768e',
  green: '#9ece6a',
  yellow: '#e0af68',
  blue: '#7aa2f7',
  magenta: '#bb9af7',
  cyan: '#7dcfff',
  white: '#c0caf5',
  brightBlack: '#545c7e',
  brightRed: '#ff7a93',
  brightGreen: '#b9f27c',
  brightYellow: '#ff9e64',
  brightBlue: '#7da6ff',
  brightMagenta: '#c3a6ff',
  brightCyan: '#b4f9f8',
  brightWhite: '#ffffff',
};

interface Entry extends WebglHolder {
  sessionId: string;
  term: Terminal;
  /** The element xterm was opened in; moved between tile containers. */
  host: HTMLDivElement;
  opened: boolean;
  container: HTMLElement | null;
  visible: boolean;
  /** Bumped on every subscribe/unsubscribe decision so a late reply can tell it is stale. */
  gen: number;
  unsubscribe: (() => Promise<void>) | null;
  resizeTimer: ReturnType<typeof setTimeout> | null;
  io: IntersectionObserver | null;
  ro: ResizeObserver | null;
  lastSent: { cols: number; rows: number } | null;
}

export interface TerminalManagerOptions {
  onFocus?(sessionId: string): void;
}

/** Read-only hooks for tests and debugging: the text of a terminal's active buffer (renderer-independent). */
export interface FlotillaDebugHooks {
  /** By session id, or by tile slot (the `terminal-<slot>` element on screen). '' when there is no such terminal. */
  terminalText(sessionIdOrSlot: string | number): string;
  /** How many terminals hold a WebGL context right now. */
  webglContexts(): number;
  /** How many terminals exist (those of runs no longer shown are disposed). */
  terminals(): number;
}

declare global {
  interface Window {
    __flotilla?: FlotillaDebugHooks;
  }
}

export class TerminalManager {
  private readonly entries = new Map<string, Entry>();
  private client: EngineClient | null = null;
  private cell: { width: number; height: number } | null = null;
  private readonly webgl = new WebglLease();
  /** Keys the app handles (its shortcuts, see keys/): xterm hands them back instead of sending them to the agent. */
  private isAppKey: (e: KeyboardEvent) => boolean = () => false;

  constructor(
    conn: EngineConnection,
    private readonly opts: TerminalManagerOptions,
  ) {
    this.client = conn.client;
    conn.onClient((c) => {
      this.client = c;
      for (const e of this.entries.values()) {
        // The engine dropped the old socket's subscriptions; resubscribe what is on screen.
        e.unsubscribe = null;
        e.gen++;
        e.lastSent = null;
        if (c && e.visible) void this.subscribe(e);
      }
    });
    if (typeof window !== 'undefined') {
      window.__flotilla = Object.freeze({
        terminalText: (key: string | number) => this.terminalText(key),
        webglContexts: () => this.webgl.active,
        terminals: () => this.entries.size,
      });
    }
  }

  /**
   * The active buffer's lines (scrollback included, trailing blanks trimmed), joined by \n — soft-wrapped rows joined
   * back into their line: what the terminal holds, whichever renderer draws it (WebGL leaves no text in the DOM).
   */
  terminalText(key: string | number): string {
    let e: Entry | undefined;
    if (typeof key === 'string' && this.entries.has(key)) e = this.entries.get(key);
    else {
      const el = document.querySelector(`[data-testid="terminal-${String(key)}"]`);
      for (const x of this.entries.values()) if (el && x.container === el) e = x;
    }
    if (!e) return '';
    const buf = e.term.buffer.active;
    const lines: string[] = [];
    let cur = '';
    for (let i = 0; i < buf.length; i++) {
      const nextWraps = buf.getLine(i + 1)?.isWrapped ?? false;
      cur += buf.getLine(i)?.translateToString(!nextWraps) ?? '';
      if (!nextWraps) {
        lines.push(cur);
        cur = '';
      }
    }
    while (lines.length && !lines[lines.length - 1]) lines.pop();
    return lines.join('\n');
  }

  /** Puts the session's terminal into `container` (opening it the first time). Returns the detach function. */
  attach(sessionId: string, container: HTMLElement): () => void {
    const e = this.entry(sessionId);
    if (e.container && e.container !== container) this.detachFrom(e);
    e.container = container;
    container.appendChild(e.host);
    if (!e.opened) {
      e.term.open(e.host);
      e.opened = true;
    }
    e.io = new IntersectionObserver((records) => {
      const r = records[records.length - 1];
      if (r) this.setVisible(e, r.isIntersecting);
    });
    e.io.observe(container);
    e.ro = new ResizeObserver(() => this.scheduleFit(e));
    e.ro.observe(container);
    this.scheduleFit(e);
    return () => {
      if (e.container === container) this.detachFrom(e);
    };
  }

  focus(sessionId: string): void {
    this.entries.get(sessionId)?.term.focus();
  }

  blur(sessionId: string): void {
    this.entries.get(sessionId)?.term.blur();
  }

  setAppKeyFilter(isAppKey: (e: KeyboardEvent) => boolean): void {
    this.isAppKey = isAppKey;
  }

  /** Frees every terminal whose session `keep` rejects (another run is shown, the session is gone). */
  retain(keep: (sessionId: string) => boolean): void {
    for (const id of [...this.entries.keys()]) if (!keep(id)) this.dispose(id);
  }

  /** How many terminals exist (tests and diagnostics). */
  get size(): number {
    return this.entries.size;
  }

  /** Frees the session's terminal: its xterm, its WebGL context, its subscription. */
  dispose(sessionId: string): void {
    const e = this.entries.get(sessionId);
    if (!e) return;
    this.detachFrom(e);
    this.webgl.release(e);
    e.term.dispose();
    this.entries.delete(sessionId);
    e.gen++;
  }

  private entry(sessionId: string): Entry {
    let e = this.entries.get(sessionId);
    if (e) return e;
    const term = new Terminal({
      fontFamily: FONT_FAMILY,
      fontSize: FONT_SIZE,
      lineHeight: LINE_HEIGHT,
      theme: THEME,
      scrollback: 2_000,
      cursorBlink: false,
      allowProposedApi: false,
      // Agents draw their own UIs; a bell per tile is noise.
      macOptionIsMeta: true,
    });
    const host = document.createElement('div');
    host.className = 'xterm-host';
    e = {
      sessionId,
      term,
      host,
      opened: false,
      container: null,
      visible: false,
      gen: 0,
      unsubscribe: null,
      resizeTimer: null,
      io: null,
      ro: null,
      lastSent: null,
      webgl: null,
      webglFailed: false,
    };
    const entry = e;
    term.attachCustomKeyEventHandler((ev) => !this.isAppKey(ev));
    // Keystrokes go out at once and are never answered: they cannot queue behind replies or output.
    term.onData((data) => this.client?.send('input', { sessionId, data }));
    term.onBinary((data) => this.client?.send('input', { sessionId, data }));
    host.addEventListener('focusin', () => this.opts.onFocus?.(entry.sessionId));
    this.entries.set(sessionId, e);
    return e;
  }

  private detachFrom(e: Entry): void {
    e.io?.disconnect();
    e.ro?.disconnect();
    e.io = null;
    e.ro = null;
    if (e.resizeTimer) clearTimeout(e.resizeTimer);
    e.resizeTimer = null;
    if (e.host.parentElement === e.container) e.host.remove();
    e.container = null;
    this.setVisible(e, false);
  }

  private setVisible(e: Entry, visible: boolean): void {
    if (e.visible === visible) return;
    e.visible = visible;
    if (visible) {
      this.leaseWebgl(e);
      void this.subscribe(e);
      this.scheduleFit(e);
    } else {
      this.releaseWebgl(e);
      e.gen++;
      const unsub = e.unsubscribe;
      e.unsubscribe = null;
      if (unsub) unsub().catch(() => {});
    }
  }

  /** WebGL only for visible, opened terminals, within the lease's limit. */
  private leaseWebgl(e: Entry): void {
    if (!e.opened || !e.visible || e.webgl || e.webglFailed) return;
    this.webgl.acquire(e, () => this.onWebglLost(e));
  }

  private releaseWebgl(e: Entry): void {
    if (!e.webgl) return;
    this.webgl.release(e);
    // A lease came free: the next visible terminal on the DOM renderer may take it.
    for (const x of this.entries.values()) {
      if (x !== e && x.visible && !x.webgl && !x.webglFailed && !this.webgl.full) this.leaseWebgl(x);
    }
  }

  /** The GPU dropped the context: the lease already put the terminal back on the DOM renderer; redraw and refit. */
  private onWebglLost(e: Entry): void {
    e.term.refresh(0, e.term.rows - 1);
    this.scheduleFit(e);
  }

  private async subscribe(e: Entry): Promise<void> {
    const client = this.client;
    if (!client || e.unsubscribe) return;
    const gen = ++e.gen;
    try {
      const unsub = await client.subscribe(e.sessionId, {
        onSnapshot: (snap) => {
          if (gen === e.gen) this.restore(e, snap);
        },
        onData: (data, consumed) => {
          if (gen !== e.gen) return consumed(data.length);
          e.term.write(data, () => consumed(data.length));
        },
      });
      if (gen !== e.gen || this.client !== client) {
        // Hidden (or reconnected) while the reply was on its way.
        if (!client.isClosed) await unsub().catch(() => {});
        return;
      }
      e.unsubscribe = unsub;
      this.scheduleFit(e);
    } catch (err) {
      if (gen === e.gen) e.term.write(`\r\n\x1b[31m[flotilla] cannot attach: ${(err as Error).message}\x1b[0m\r\n`);
    }
  }

  private restore(e: Entry, snap: SnapshotResult): void {
    e.term.reset();
    if (snap.cols !== e.term.cols || snap.rows !== e.term.rows) e.term.resize(Math.max(2, snap.cols), Math.max(1, snap.rows));
    e.lastSent = { cols: snap.cols, rows: snap.rows };
    e.term.write(snap.data);
  }

  private scheduleFit(e: Entry): void {
    if (e.resizeTimer) clearTimeout(e.resizeTimer);
    e.resizeTimer = setTimeout(() => {
      e.resizeTimer = null;
      this.fit(e);
    }, RESIZE_DEBOUNCE_MS);
  }

  private fit(e: Entry): void {
    const el = e.container;
    if (!el || !e.opened || !el.isConnected) return;
    const cell = this.cellSize(e);
    const style = getComputedStyle(el);
    const w = el.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    const h = el.clientHeight - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom);
    if (w <= 0 || h <= 0 || !cell) return;
    // Leave room for xterm's scrollbar (~10 px in the DOM renderer).
    const cols = Math.max(2, Math.min(1000, Math.floor((w - 10) / cell.width)));
    const rows = Math.max(1, Math.min(500, Math.floor(h / cell.height)));
    if (cols !== e.term.cols || rows !== e.term.rows) e.term.resize(cols, rows);
    if (this.client && e.visible && (e.lastSent?.cols !== cols || e.lastSent?.rows !== rows)) {
      e.lastSent = { cols, rows };
      this.client.call('resize', { sessionId: e.sessionId, cols, rows }).catch(() => {});
    }
  }

  /** The size of one character cell: xterm's own measure when available, else a measured run of glyphs. */
  private cellSize(e: Entry): { width: number; height: number } | null {
    const dims = (e.term as unknown as { _core?: { _renderService?: { dimensions?: { css?: { cell?: { width: number; height: number } } } } } })._core
      ?._renderService?.dimensions?.css?.cell;
    if (dims && dims.width > 0 && dims.height > 0) return dims;
    if (this.cell) return this.cell;
    const probe = document.createElement('span');
    probe.style.cssText = `position:absolute;visibility:hidden;white-space:pre;font-family:${FONT_FAMILY};font-size:${FONT_SIZE}px;line-height:normal`;
    probe.textContent = 'W'.repeat(64);
    document.body.appendChild(probe);
    const rect = probe.getBoundingClientRect();
    probe.remove();
    if (!rect.width) return null;
    this.cell = { width: rect.width / 64, height: Math.ceil(FONT_SIZE * LINE_HEIGHT * 1.2) };
    return this.cell;
  }
}

/** The window's terminals. Those of sessions that leave the view (another run is shown) are disposed. */
export const terminals = new TerminalManager(engine, {
  onFocus: (id) => {
    if (useStore.getState().focusedId !== id) useStore.getState().focus(id);
  },
});

/** Disposes the terminals of sessions that leave the view (another run is shown); returns the unsubscribe. */
export function disposeTerminalsOutOfView(): () => void {
  return useStore.subscribe((s, prev) => {
    if (s.currentRunId === prev.currentRunId && s.sessions === prev.sessions) return;
    terminals.retain((id) => s.sessions.get(id)?.runId === s.currentRunId);
  });
}
