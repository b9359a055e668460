// The window's size, position and open panel, remembered across starts (window-state.json in the app's user data).
// Plain functions: reading never throws (a broken file means the defaults), and a saved position that no display
// shows any more (a monitor unplugged) is dropped so the window never opens off screen.
export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface WindowState {
  bounds: Partial<Pick<Rect, 'x' | 'y'>> & Pick<Rect, 'width' | 'height'>;
  maximized: boolean;
  /** The side panel open when the window last closed (spend, review, …), or null. */
  panel: string | null;
}

export const WINDOW_STATE_FILE = 'window-state.json';
export const DEFAULT_WINDOW: WindowState = { bounds: { width: 1440, height: 900 }, maximized: false, panel: null };
export const MIN_WINDOW = { width: 800, height: 500 };

const num = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

export function parseWindowState(text: string | null): WindowState {
  if (!text) return DEFAULT_WINDOW;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return DEFAULT_WINDOW;
  }
  const o = (raw ?? {}) as { bounds?: Partial<Rect>; maximized?: unknown; panel?: unknown };
  const b = o.bounds ?? {};
  const bounds: WindowState['bounds'] = {
    width: num(b.width) ? Math.max(MIN_WINDOW.width, Math.round(b.width)) : DEFAULT_WINDOW.bounds.width,
    height: num(b.height) ? Math.max(MIN_WINDOW.height, Math.round(b.height)) : DEFAULT_WINDOW.bounds.height,
  };
  if (num(b.x) && num(b.y)) Object.assign(bounds, { x: Math.round(b.x), y: Math.round(b.y) });
  return {
    bounds,
    maximized: o.maximized === true,
    panel: typeof o.panel === 'string' && /^[a-z-]{1,32}$/.test(o.panel) ? o.panel : null,
  };
}

function overlap(a: Rect, b: Rect): { width: number; height: number } {
  return {
    width: Math.max(0, Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x)),
    height: Math.max(0, Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y)),
  };
}

/**
 * Where the window opens: the saved bounds when a display's work area shows enough of them (its title bar reachable),
 * else the saved size centred (no x/y) — never larger than the biggest work area.
 */
export function placeWindow(saved: WindowState, workAreas: readonly Rect[]): WindowState['bounds'] {
  const biggest = workAreas.reduce<Rect | null>((m, a) => (!m || a.width * a.height > m.width * m.height ? a : m), null);
  const width = biggest ? Math.min(saved.bounds.width, biggest.width) : saved.bounds.width;
  const height = biggest ? Math.min(saved.bounds.height, biggest.height) : saved.bounds.height;
  const { x, y } = saved.bounds;
  if (x === undefined || y === undefined) return { width, height };
  // The top strip (title bar) must be on a display, 100 × 40 px of it at least.
  const titleBar = { x, y, width, height: 40 };
  const visible = workAreas.some((a) => {
    const o = overlap(titleBar, a);
    return o.width >= 100 && o.height >= 40;
  });
  return visible ? { x, y, width, height } : { width, height };
}

export function windowStateText(s: WindowState): string {
  return `${JSON.stringify(s, null, 2)}\n`;
}
