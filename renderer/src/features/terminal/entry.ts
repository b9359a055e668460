// One session's terminal as the manager keeps it: the xterm with its addons (fit, search, Unicode 11, web links), the
// element it is opened in (moved between tiles, never re-opened) and the state of its subscription, sizing and WebGL lease.
import { FitAddon } from '@xterm/addon-fit';
import { SearchAddon } from '@xterm/addon-search';
import { Unicode11Addon } from '@xterm/addon-unicode11';
import { WebLinksAddon } from '@xterm/addon-web-links';
import { Terminal } from '@xterm/xterm';
import { TerminalLimits } from '../../../../electron/shared/limits.ts';
import { FONT_FAMILY, LINE_HEIGHT, themeOf } from './themes.ts';
import type { WebglHolder } from './webgl.ts';

/** Column changes reflow the buffer and SIGWINCH the agent: wait for the layout to settle (VS Code debounces too). */
const RESIZE_DEBOUNCE_MS = 100;

export interface Entry extends WebglHolder {
  sessionId: string;
  term: Terminal;
  fitter: FitAddon;
  search: SearchAddon;
  /** The element xterm was opened in; moved between tile containers. */
  host: HTMLDivElement;
  opened: boolean;
  container: HTMLElement | null;
  visible: boolean;
  /** The terminal had the keyboard when it was taken out of its container: the next attach gives it back. */
  refocus: boolean;
  /** Bumped on every subscribe/unsubscribe decision so a late reply can tell it is stale. */
  gen: number;
  unsubscribe: (() => Promise<void>) | null;
  resizeTimer: ReturnType<typeof setTimeout> | null;
  io: IntersectionObserver | null;
  ro: ResizeObserver | null;
  lastSent: { cols: number; rows: number } | null;
}

export interface EntryOptions {
  fontSize: number;
  theme: 'dark' | 'light';
  scrollback: number;
  screenReader: boolean;
  /** A link was clicked (http(s) only reach here). */
  openLink(url: string): void;
}

export function createEntry(sessionId: string, o: EntryOptions): Entry {
  const term = new Terminal({
    fontFamily: FONT_FAMILY,
    fontSize: o.fontSize,
    lineHeight: LINE_HEIGHT,
    theme: themeOf(o.theme),
    scrollback: o.scrollback,
    screenReaderMode: o.screenReader,
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
      if (/^https?:\/\//i.test(uri)) o.openLink(uri);
    }),
  );
  const host = document.createElement('div');
  host.className = 'xterm-host';
  return {
    sessionId,
    term,
    fitter,
    search,
    host,
    opened: false,
    container: null,
    visible: false,
    refocus: false,
    gen: 0,
    unsubscribe: null,
    resizeTimer: null,
    io: null,
    ro: null,
    lastSent: null,
    webgl: null,
    webglFailed: false,
  };
}

/**
 * Fits the terminal to its container after the layout settles; `report(cols, rows)` tells the engine a new size (it
 * answers true when it did, so the same size is not sent again).
 */
export function scheduleFit(e: Entry, report: (cols: number, rows: number) => boolean | undefined): void {
  if (e.resizeTimer) clearTimeout(e.resizeTimer);
  e.resizeTimer = setTimeout(() => {
    e.resizeTimer = null;
    fit(e, report);
  }, RESIZE_DEBOUNCE_MS);
}

function fit(e: Entry, report: (cols: number, rows: number) => boolean | undefined): void {
  const el = e.container;
  if (!el || !e.opened || !el.isConnected || el.clientWidth <= 0 || el.clientHeight <= 0) return;
  // The fit addon measures xterm's own cell size and scrollbar (no private internals).
  const dims = e.fitter.proposeDimensions();
  if (!dims || !Number.isFinite(dims.cols) || !Number.isFinite(dims.rows)) return;
  const cols = Math.max(TerminalLimits.MinCols, Math.min(TerminalLimits.MaxCols, dims.cols));
  const rows = Math.max(TerminalLimits.MinRows, Math.min(TerminalLimits.MaxRows, dims.rows));
  if (cols !== e.term.cols || rows !== e.term.rows) e.term.resize(cols, rows);
  if (e.lastSent?.cols !== cols || e.lastSent?.rows !== rows) {
    if (report(cols, rows)) e.lastSent = { cols, rows };
  }
}
