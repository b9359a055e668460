// The grid's layout per run, as pure functions: the tile order the user dragged and the tiles pinned to the front.
// The grid slice keeps it; the store remembers it in this origin's storage (the engine keeps its address while it
// runs, so a reload or a reopened window finds it again).

export interface RunLayout {
  /** Session ids in the order the user left them. */
  order: string[];
  /** Pinned session ids: first in the grid, in this order. */
  pinned: string[];
}

/** The tiles in the order shown: pinned first, then the saved order, then new sessions in slot order. */
export function arrange(ids: readonly string[], layout: RunLayout | undefined): string[] {
  if (!layout) return [...ids];
  const known = new Set(ids);
  const pinned = layout.pinned.filter((id) => known.has(id));
  const rest = layout.order.filter((id) => known.has(id) && !pinned.includes(id));
  const fresh = ids.filter((id) => !pinned.includes(id) && !rest.includes(id));
  return [...pinned, ...rest, ...fresh];
}

/** `dragged` moved to just before `before` (both in `shown`, the order on screen). */
export function moveBefore(shown: readonly string[], dragged: string, before: string): string[] {
  if (dragged === before) return [...shown];
  const out = shown.filter((id) => id !== dragged);
  const at = out.indexOf(before);
  // Dropped on a tile further along: it goes after it (the tile the user dropped on moves towards the gap).
  const from = shown.indexOf(dragged);
  const to = shown.indexOf(before);
  out.splice(at + (from < to ? 1 : 0), 0, dragged);
  return out;
}
