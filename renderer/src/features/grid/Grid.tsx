import { useEffect, useRef, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { useStore } from '../../store/index.ts';
import { selectCurrentSessions } from '../runs/slice.ts';
import { Tile } from './Tile.tsx';
import { arrange } from './layout.ts';
import { terminals } from '../terminal/index.ts';

/** Columns for n tiles in a w×h box: start from ceil(sqrt(n)) and pick the count whose cells are closest to 16:10. */
export function gridColumns(n: number, w: number, h: number): number {
  if (n <= 1) return 1;
  const base = Math.ceil(Math.sqrt(n));
  let best = base;
  let bestScore = Infinity;
  for (let cols = Math.max(1, base - 2); cols <= Math.min(n, base + 2); cols++) {
    const rows = Math.ceil(n / cols);
    const cellAspect = w / cols / (h / rows);
    const empty = cols * rows - n;
    const score = Math.abs(Math.log(cellAspect / 1.6)) + empty * 0.15;
    if (score < bestScore) {
      bestScore = score;
      best = cols;
    }
  }
  return best;
}

export function Grid() {
  const bySlot = useStore(useShallow((s) => selectCurrentSessions(s).map((x) => x.id)));
  const runId = useStore((s) => s.currentRunId);
  const layout = useStore((s) => (runId ? s.layoutByRun[runId] : undefined));
  const ids = arrange(bySlot, layout);
  const focusMode = useStore((s) => s.focusMode);
  const focusedId = useStore((s) => s.focusedId);
  const ref = useRef<HTMLDivElement>(null);
  const [box, setBox] = useState({ w: 1200, h: 800 });

  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setBox({ w: el.clientWidth, h: el.clientHeight }));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  const big = focusMode && focusedId && ids.includes(focusedId) ? focusedId : null;
  // The big terminal keeps the full scrollback, grid tiles the setting's.
  useEffect(() => terminals.setBig(big), [big]);
  if (big) {
    const others = ids.filter((id) => id !== big);
    return (
      <div className="focus-layout" ref={ref}>
        <div className="focus-main">
          <Tile key={big} sessionId={big} />
        </div>
        {others.length > 0 && (
          <div className="focus-strip">
            {others.map((id) => (
              <Tile key={id} sessionId={id} compact />
            ))}
          </div>
        )}
      </div>
    );
  }

  const cols = gridColumns(ids.length, box.w, box.h);
  const rows = Math.max(1, Math.ceil(ids.length / cols));
  return (
    <div
      className="grid"
      ref={ref}
      style={{ gridTemplateColumns: `repeat(${cols}, minmax(0, 1fr))`, gridTemplateRows: `repeat(${rows}, minmax(0, 1fr))` }}
    >
      {ids.map((id) => (
        <Tile
          key={id}
          sessionId={id}
          onDropBefore={runId ? (dragged) => useStore.getState().moveTile(runId, ids, dragged, id) : undefined}
        />
      ))}
    </div>
  );
}
