// Imperative xterm management, outside React: one Terminal per session, opened once and re-parented between tiles
// (grid ↔ focus mode ↔ strip) so its buffer and parser state survive layout changes. Output is written straight from
// the WebSocket into xterm, acked from the write callback ("acked" means "parsed", after VS Code). A terminal is
// subscribed only while its tile is on screen; on (re)subscribe it restores from the engine's serialized mirror.
import { Terminal, type ITheme } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import { SearchAddon } from '@xterm/addon-search';
import { Unicode11Addon } from '@xterm/addon-unicode11';
import { WebLinksAddon } from '@xterm/addon-web-links';
import type { SnapshotResult } from '../../../electron/shared/contract.ts';
import { useStore } from '../state/index.ts';
import { platform } from '../platform/index.ts';
import { type EngineClient, type EngineConnection, engine } from '../transport/index.ts';
import { WebglLease, glKindOf, probeGlRenderer, wantsWebgl, type TerminalRenderer, type WebglHolder } from './webgl.ts';
import { DEFAULT_BACKGROUND_MS, WriteScheduler } from './scheduler.ts';

/** Column changes reflow the buffer and SIGWINCH the agent: wait for the layout to settle (VS Code debounces too). */
const RESIZE_DEBOUNCE_MS = 100;
const DEFAULT_FONT_SIZE = 12;
const LINE_HEIGHT = 1.1;
/** Scrollback of a tile in the grid and of the focused terminal (the engine's mirror keeps the rest). */
const GRID_SCROLLBACK = 1_000;
const FOCUS_SCROLLBACK = 10_000;
const FONT_FAMILY = '"JetBrains Mono", "SF Mono", Menlo, Consolas, "DejaVu Sans Mono", "Liberation Mono", monospace';

export const DARK_THEME: ITheme = {
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

export const LIGHT_THEME: ITheme = {
  background: '#ffffff',
  foreground: '#1f2328',
  cursor: '#0969da',
  cursorAccent: '#ffffff',
  selectionBackground: '#b6d7ff',
  black: '#24292f',
  red: '#cf222e',
  green: '#116329',
  yellow: '#9a6700',
  blue: '#0969da',
  magenta: '#8250df',
  cyan: '#1b7c83',
  white: '#6e7781',
  brightBlack: '#57606a',
  brightRed: '#a40e26',
  brightGreen: '#1a7f37',
  brightYellow: '#633c01',
  brightBlue: '#218bff',
  brightMagenta: '#a475f9',
  brightCyan: '#3192aa',
  brightWhite: '#8c959f',
};

/** What Settings → Interface changes in every terminal. */
export interface TerminalPrefs {
  fontSize: number;
  screenReader: boolean;
  gridScrollback: number;
  theme: 'dark' | 'light';
  renderer: TerminalRenderer;
  /** How often background tiles draw small outputs (ms). */
  backgroundRefreshMs: number;
}

interface Entry extends WebglHolder {
  sessionId: string;
  term: Terminal;
  fitter: FitAddon;
  search: SearchAddon;
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
  /** A link in a terminal was clicked (http(s) only reach here). */
  openLink?(url: string): void;
}

/** Read-only hooks for tests and debugging: the text of a terminal's active buffer (renderer-independent). */
export interface FlotillaDebugHooks {
  /** By session id, or by tile slot (the `terminal-<slot>` element on screen). '' when there is no such terminal. */
  terminalText(sessionIdOrSlot: string | number): string;
  /** How many terminals hold a WebGL context right now. */
  webglContexts(): number;
  /** WebGL contexts released and seen freed at once (not left to the garbage collector). */
  webglFreed(): number;
  /** How many terminals exist (those of runs no longer shown are disposed). */
  terminals(): number;
  /** Frames drawn by all terminals so far (xterm's onRender), for the benches. */
  renders(): number;
}

declare global {
  interface Window {
    __flotilla?: FlotillaDebugHooks;
  }
}

export class TerminalManager {
  private readonly entries = new Map<string, Entry>();
  private client: EngineClient | null = null;
  private prefs: TerminalPrefs = { fontSize: DEFAULT_FONT_SIZE, screenReader: false, gridScrollback: GRID_SCROLLBACK, theme: 'dark', renderer: 'auto', backgroundRefreshMs: DEFAULT_BACKGROUND_MS };
  /** The terminal shown large (focus mode): full scrollback. */
  private bigId: string | null = null;
  /** Every terminal's output goes through one frame scheduler (focused first; background tiles coalesced). */
  private readonly out = new WriteScheduler(
    (id, data, done) => {
      const e = this.entries.get(id);
      if (!e) return done();
      e.term.write(data, done);
    },
    () => useStore.getState().focusedId,
  );
  private readonly webgl = new WebglLease();
  private renders = 0;
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
        this.out.drop(e.sessionId);
        e.unsubscribe = null;
        e.gen++;
        e.lastSent = null;
        if (c && e.visible) void this.subscribe(e);
      }
    });
    useStore.subscribe((s, prev) => {
      if (s.focusedId !== prev.focusedId) this.repace(prev.focusedId, s.focusedId);
    });
    if (typeof window !== 'undefined') {
      window.__flotilla = Object.freeze({
        terminalText: (key: string | number) => this.terminalText(key),
        webglContexts: () => this.webgl.active,
        webglFreed: () => this.webgl.freed,
        terminals: () => this.entries.size,
        renders: () => this.renders,
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

  /** Bytes per second the terminal is being fed (a tile shows a "flooding" badge above a threshold). */
  rateOf(sessionId: string): number {
    return this.out.rateOf(sessionId);
  }

  /** The session whose terminal has the keyboard, if a terminal has it. */
  get focusedSessionId(): string | null {
    for (const e of this.entries.values()) if (e.host.contains(document.activeElement)) return e.sessionId;
    return null;
  }

  /** Copies the terminal's selection to the clipboard; false when nothing is selected. */
  async copySelection(sessionId: string): Promise<boolean> {
    const text = this.entries.get(sessionId)?.term.getSelection() ?? '';
    if (!text) return false;
    await navigator.clipboard.writeText(text);
    return true;
  }

  /** Types text into the agent as a paste (bracketed when the agent asked for it). */
  paste(sessionId: string, text: string): void {
    this.entries.get(sessionId)?.term.paste(text);
  }

  clear(sessionId: string): void {
    this.entries.get(sessionId)?.term.clear();
  }

  selectAll(sessionId: string): void {
    this.entries.get(sessionId)?.term.selectAll();
  }

  /** Finds the next (or previous) match in the terminal's buffer; answers whether there is one. */
  find(sessionId: string, query: string, backwards = false): boolean {
    const e = this.entries.get(sessionId);
    if (!e || !query) return false;
    const opts = { incremental: !backwards, decorations: { matchOverviewRuler: '#e0af68', activeMatchColorOverviewRuler: '#ff9e64', matchBackground: '#5a4a1f', activeMatchBackground: '#9a6a1f' } };
    return backwards ? e.search.findPrevious(query, opts) : e.search.findNext(query, opts);
  }

  clearFind(sessionId: string): void {
    this.entries.get(sessionId)?.search.clearDecorations();
  }

  /** Font size, screen-reader mode, grid scrollback, theme, renderer: applied to every terminal now and to new ones. */
  setPrefs(p: Partial<TerminalPrefs>): void {
    this.prefs = { ...this.prefs, ...p };
    this.out.setBackgroundInterval(this.prefs.backgroundRefreshMs);
    for (const e of this.entries.values()) this.applyPrefs(e);
    for (const e of this.entries.values()) {
      if (this.useWebgl) this.leaseWebgl(e);
      else if (e.webgl) this.webgl.release(e);
    }
  }

  /** Whether terminals draw with WebGL now (the renderer setting, and what draws WebGL in this window). */
  get useWebgl(): boolean {
    // (`dom` needs no probe.)
    return this.prefs.renderer !== 'dom' && wantsWebgl(this.prefs.renderer, glKindOf(probeGlRenderer()));
  }

  /** The window's WebGL renderer string (null: no WebGL), as Settings shows it. */
  glRenderer(): string | null {
    return probeGlRenderer();
  }

  /** What `auto` would pick in this window. */
  autoPicksWebgl(): boolean {
    return wantsWebgl('auto', glKindOf(probeGlRenderer()));
  }

  get fontSize(): number {
    return this.prefs.fontSize;
  }

  /** The terminal shown large gets the full scrollback; the others the grid's. */
  setBig(sessionId: string | null): void {
    const was = this.bigId;
    this.bigId = sessionId;
    for (const id of [was, sessionId]) {
      const e = id ? this.entries.get(id) : undefined;
      if (e) this.applyPrefs(e);
    }
  }

  private applyPrefs(e: Entry): void {
    const o = e.term.options;
    const scrollback = e.sessionId === this.bigId ? Math.max(FOCUS_SCROLLBACK, this.prefs.gridScrollback) : this.prefs.gridScrollback;
    if (o.fontSize !== this.prefs.fontSize) o.fontSize = this.prefs.fontSize;
    if (o.screenReaderMode !== this.prefs.screenReader) o.screenReaderMode = this.prefs.screenReader;
    if (o.scrollback !== scrollback) o.scrollback = scrollback;
    const theme = this.prefs.theme === 'light' ? LIGHT_THEME : DARK_THEME;
    if (o.theme !== theme) o.theme = theme;
    this.scheduleFit(e);
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
    this.out.drop(sessionId);
    e.term.dispose();
    this.entries.delete(sessionId);
    e.gen++;
  }

  private entry(sessionId: string): Entry {
    let e = this.entries.get(sessionId);
    if (e) return e;
    const term = new Terminal({
      fontFamily: FONT_FAMILY,
      fontSize: this.prefs.fontSize,
      lineHeight: LINE_HEIGHT,
      theme: this.prefs.theme === 'light' ? LIGHT_THEME : DARK_THEME,
      scrollback: sessionId === this.bigId ? FOCUS_SCROLLBACK : this.prefs.gridScrollback,
      screenReaderMode: this.prefs.screenReader,
      cursorBlink: false,
      // The unicode and search-decoration APIs of the addons below are "proposed" in xterm 6.
      allowProposedApi: true,
      // Agents draw their own UIs; a bell per tile is noise.
      macOptionIsMeta: true,
    });
    const fitter = new FitAddon();
    const search = new SearchAddon();
    term.loadAddon(fitter);
    term.loadAddon(search);
    // Claude Code draws with glyphs whose widths Unicode 11 gets right (the default tables are Unicode 6).
    term.loadAddon(new Unicode11Addon());
    term.unicode.activeVersion = '11';
    // Links open in the OS browser through the platform's safe opener (http(s) only).
    term.loadAddon(
      new WebLinksAddon((event, uri) => {
        event.preventDefault();
        if (/^https?:\/\//i.test(uri)) this.opts.openLink?.(uri);
      }),
    );
    const host = document.createElement('div');
    host.className = 'xterm-host';
    e = {
      sessionId,
      term,
      fitter,
      search,
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
    term.onData((data) => {
      this.client?.send('input', { sessionId, data });
      this.out.noteInput();
    });
    term.onRender(() => void this.renders++);
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
      this.out.drop(e.sessionId);
      e.gen++;
      const unsub = e.unsubscribe;
      e.unsubscribe = null;
      if (unsub) unsub().catch(() => {});
    }
  }

  /** WebGL only for visible, opened terminals, within the lease's limit. */
  private leaseWebgl(e: Entry): void {
    if (!e.opened || !e.visible || e.webgl || e.webglFailed) return;
    if (!this.useWebgl) return;
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
      // A tile in the background subscribes quiet: the engine batches its small outputs (see output-pacer.ts).
      const quiet = this.isQuiet(e.sessionId);
      const unsub = await client.subscribe(
        e.sessionId,
        {
          onSnapshot: (snap) => {
            if (gen === e.gen) this.restore(e, snap);
          },
          onData: (data, consumed) => {
            if (gen !== e.gen) return consumed(data.length);
            this.out.enqueue(e.sessionId, data, () => consumed(data.length));
          },
        },
        { quiet },
      );
      if (gen !== e.gen || this.client !== client) {
        // Hidden (or reconnected) while the reply was on its way.
        if (!client.isClosed) await unsub().catch(() => {});
        return;
      }
      e.unsubscribe = unsub;
      // Focused or blurred while the reply was on its way.
      if (this.isQuiet(e.sessionId) !== quiet) client.send('pace', { sessionId: e.sessionId, quiet: !quiet });
      this.scheduleFit(e);
    } catch (err) {
      if (gen === e.gen) e.term.write(`\r\n\x1b[31m[flotilla] cannot attach: ${(err as Error).message}\x1b[0m\r\n`);
    }
  }

  /** Tiles other than the focused one are quiet: their small outputs may come a quarter second late, batched. */
  private isQuiet(sessionId: string): boolean {
    return useStore.getState().focusedId !== sessionId;
  }

  /** The focus moved: the old tile goes quiet, the new one live (for subscribed terminals). */
  private repace(was: string | null, now: string | null): void {
    for (const [id, quiet] of [
      [was, true],
      [now, false],
    ] as const) {
      const e = id ? this.entries.get(id) : undefined;
      if (e?.unsubscribe && this.client) this.client.send('pace', { sessionId: e.sessionId, quiet });
    }
  }

  private restore(e: Entry, snap: SnapshotResult): void {
    // Output queued for the old subscription is part of the snapshot now.
    this.out.drop(e.sessionId);
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
    if (!el || !e.opened || !el.isConnected || el.clientWidth <= 0 || el.clientHeight <= 0) return;
    // The fit addon measures xterm's own cell size and scrollbar (no private internals).
    const dims = e.fitter.proposeDimensions();
    if (!dims || !Number.isFinite(dims.cols) || !Number.isFinite(dims.rows)) return;
    const cols = Math.max(2, Math.min(1000, dims.cols));
    const rows = Math.max(1, Math.min(500, dims.rows));
    if (cols !== e.term.cols || rows !== e.term.rows) e.term.resize(cols, rows);
    if (this.client && e.visible && (e.lastSent?.cols !== cols || e.lastSent?.rows !== rows)) {
      e.lastSent = { cols, rows };
      this.client.call('resize', { sessionId: e.sessionId, cols, rows }).catch(() => {});
    }
  }
}

/** The window's terminals. Those of sessions that leave the view (another run is shown) are disposed. */
export const terminals = new TerminalManager(engine, {
  onFocus: (id) => {
    if (useStore.getState().focusedId !== id) useStore.getState().focus(id);
  },
  openLink: (url) => platform.openExternal(url),
});

/** Disposes the terminals of sessions that leave the view (another run is shown); returns the unsubscribe. */
export function disposeTerminalsOutOfView(): () => void {
  return useStore.subscribe((s, prev) => {
    if (s.currentRunId === prev.currentRunId && s.sessions === prev.sessions) return;
    terminals.retain((id) => s.sessions.get(id)?.runId === s.currentRunId);
  });
}
