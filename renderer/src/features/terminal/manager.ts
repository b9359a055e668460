// Imperative xterm management, outside React: one Terminal per session, opened once and re-parented between tiles
// (grid ↔ focus mode ↔ strip) so its buffer and parser state survive layout changes. Output is written straight from
// the WebSocket into xterm, acked from the write callback ("acked" means "parsed", after VS Code). A terminal is
// subscribed only while its tile is on screen; on (re)subscribe it restores from the engine's serialized mirror.
import type { SnapshotResult } from '../../../../electron/shared/contract.ts';
import { TerminalLimits } from '../../../../electron/shared/limits.ts';
import { useStore } from '../../store/index.ts';
import type { EngineClient, EngineConnection } from '../../transport/index.ts';
import { bufferText, installDebugHooks } from './debug.ts';
import { type Entry, createEntry, scheduleFit } from './entry.ts';
import { themeOf } from './themes.ts';
import { WebglLease, glKindOf, probeGlRenderer, wantsWebgl, type TerminalRenderer } from './webgl.ts';
import { DEFAULT_BACKGROUND_MS, WriteScheduler } from './scheduler.ts';

/** Scrollback of the focused terminal (a tile's is the grid's setting; the engine's mirror keeps the rest). */
const FOCUS_SCROLLBACK = TerminalLimits.FocusScrollback;

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

export interface TerminalManagerOptions {
  onFocus?(sessionId: string): void;
  /** A link in a terminal was clicked (http(s) only reach here). */
  openLink?(url: string): void;
}

export class TerminalManager {
  private readonly entries = new Map<string, Entry>();
  private client: EngineClient | null = null;
  private prefs: TerminalPrefs = {
    fontSize: TerminalLimits.FontSize.default,
    screenReader: false,
    gridScrollback: TerminalLimits.GridScrollback.default,
    theme: 'dark',
    renderer: 'auto',
    backgroundRefreshMs: DEFAULT_BACKGROUND_MS,
  };
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
  private screens = 0;
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
      // A host connected again: its sessions' screens come back from its mirror (output meanwhile was not relayed).
      if (s.hosts !== prev.hosts)
        for (const h of s.hosts.values())
          if (h.state === 'connected' && prev.hosts.get(h.name) && prev.hosts.get(h.name)?.state !== 'connected') this.reattachHost(h.name);
    });
    installDebugHooks({
      terminalText: (key: string | number) => this.terminalText(key),
      webglContexts: () => this.webgl.active,
      webglFreed: () => this.webgl.freed,
      terminals: () => this.entries.size,
      renders: () => this.renders,
      screens: () => this.screens,
    });
  }

  /** A terminal's text (see bufferText), by session id or by tile slot (the `terminal-<slot>` element on screen). */
  terminalText(key: string | number): string {
    let e: Entry | undefined;
    if (typeof key === 'string' && this.entries.has(key)) e = this.entries.get(key);
    else {
      const el = document.querySelector(`[data-testid="terminal-${String(key)}"]`);
      for (const x of this.entries.values()) if (el && x.container === el) e = x;
    }
    return e ? bufferText(e.term) : '';
  }

  private reattachHost(host: string): void {
    for (const e of this.entries.values()) {
      if (useStore.getState().sessions.get(e.sessionId)?.host !== host) continue;
      this.out.drop(e.sessionId);
      const unsub = e.unsubscribe;
      e.unsubscribe = null;
      e.gen++;
      e.lastSent = null;
      void (unsub ? unsub().catch(() => {}) : Promise.resolve()).then(() => {
        if (e.visible) void this.subscribe(e);
      });
    }
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
    // Moving an element blurs it: focus mode re-parents a terminal after (or before) focusSession gave it the keys.
    if (e.refocus) e.term.focus();
    e.refocus = false;
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
    const opts = {
      incremental: !backwards,
      decorations: {
        matchOverviewRuler: '#e0af68',
        activeMatchColorOverviewRuler: '#ff9e64',
        matchBackground: '#5a4a1f',
        activeMatchBackground: '#9a6a1f',
      },
    };
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
    const theme = themeOf(this.prefs.theme);
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
    e = createEntry(sessionId, {
      fontSize: this.prefs.fontSize,
      theme: this.prefs.theme,
      scrollback: sessionId === this.bigId ? FOCUS_SCROLLBACK : this.prefs.gridScrollback,
      screenReader: this.prefs.screenReader,
      openLink: (uri) => this.opts.openLink?.(uri),
    });
    const { term, host } = e;
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
    if (e.host.parentElement === e.container) {
      e.refocus = e.host.contains(document.activeElement);
      e.host.remove();
    }
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
      // A tile in the background subscribes quiet: the engine batches its small outputs, and while it gets more than a
      // tile can draw it sends the mirror's screen once per background refresh instead of the stream (output-pacer.ts).
      const quiet = this.isQuiet(e.sessionId);
      const unsub = await client.subscribe(
        e.sessionId,
        {
          onSnapshot: (snap) => {
            if (gen === e.gen) this.restore(e, snap);
          },
          onScreen: (snap, bytes) => {
            if (gen !== e.gen) return;
            this.screens++;
            this.restore(e, snap);
            this.out.count(e.sessionId, bytes);
          },
          onData: (data, consumed) => {
            if (gen !== e.gen) return consumed(data.length);
            this.out.enqueue(e.sessionId, data, () => consumed(data.length));
          },
        },
        { quiet, refreshMs: this.prefs.backgroundRefreshMs },
      );
      if (gen !== e.gen || this.client !== client) {
        // Hidden (or reconnected) while the reply was on its way.
        if (!client.isClosed) await unsub().catch(() => {});
        return;
      }
      e.unsubscribe = unsub;
      // Focused or blurred while the reply was on its way.
      if (this.isQuiet(e.sessionId) !== quiet) this.pace(e.sessionId, !quiet);
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
      if (e?.unsubscribe) this.pace(e.sessionId, quiet);
    }
  }

  private pace(sessionId: string, quiet: boolean): void {
    this.client?.send('pace', { sessionId, quiet, refreshMs: this.prefs.backgroundRefreshMs });
  }

  private restore(e: Entry, snap: SnapshotResult): void {
    // Output queued for the old subscription is part of the snapshot now.
    this.out.drop(e.sessionId, true);
    e.term.reset();
    if (snap.cols !== e.term.cols || snap.rows !== e.term.rows) e.term.resize(Math.max(2, snap.cols), Math.max(1, snap.rows));
    e.lastSent = { cols: snap.cols, rows: snap.rows };
    e.term.write(snap.data);
  }

  private scheduleFit(e: Entry): void {
    scheduleFit(e, (cols, rows) => {
      if (!this.client || !e.visible) return;
      this.client.call('resize', { sessionId: e.sessionId, cols, rows }).catch(() => {});
      return true;
    });
  }
}
