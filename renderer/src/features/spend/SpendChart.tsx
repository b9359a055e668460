// Cumulative spend per session over time (uPlot): a step line per session from the run's ledger and the live updates
// since, a time axis, a dollar axis, a legend whose rows read the values under the cursor (the hover readout).
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { SessionInfo } from '../../../../electron/shared/contract.ts';
import type { SpendPoint } from './slice.ts';
import { useStore } from '../../store/index.ts';
import { usd } from '../../ui/format.ts';

export const COLORS = ['#6ea8fe', '#f6c177', '#9ccfd8', '#eb6f92', '#a6e3a1', '#c4a7e7', '#f5a97f', '#7dc4e4', '#ee99a0', '#b7bdf8'];

/** Aligned columns for uPlot: the union of all update times (seconds), each session's spend carried forward. */
export function alignSeries(series: { points: SpendPoint[] }[], now: number): [number[], ...(number | null)[][]] {
  const times = [...new Set(series.flatMap((s) => s.points.map((p) => p.t)).concat(now))].sort((a, b) => a - b);
  const cols = series.map((s) => {
    let i = 0;
    let last: number | null = null;
    return times.map((t) => {
      while (i < s.points.length && s.points[i]!.t <= t) last = s.points[i++]!.usd;
      return last;
    });
  });
  return [times.map((t) => t / 1000), ...cols];
}

export function SpendChart({ sessions }: { sessions: SessionInfo[] }) {
  const history = useStore((s) => s.history);
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const series = sessions.map((s) => ({ slot: s.slot, points: history.get(s.id) ?? [] })).filter((x) => x.points.length > 0);
  const key = series.map((s) => s.slot).join(',');

  // One plot per set of sessions; new points only set its data.
  useEffect(() => {
    const el = box.current;
    if (!el || series.length === 0) return;
    const dark = document.documentElement.dataset.theme !== 'light';
    const axis = { stroke: dark ? '#7d8796' : '#5f6b7a', grid: { stroke: dark ? '#222a36' : '#e1e6eb', width: 1 }, ticks: { show: false } };
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height: 150,
      scales: { x: { time: true } },
      series: [
        { label: 'time', value: (_u, v) => (v == null ? '—' : new Date(v * 1000).toLocaleTimeString()) },
        ...series.map((s) => ({
          label: `#${s.slot}`,
          stroke: COLORS[(s.slot - 1) % COLORS.length],
          width: 1.5,
          paths: uPlot.paths.stepped!({ align: 1 }),
          points: { show: false },
          value: (_u: uPlot, v: number | null) => (v == null ? '—' : usd(v)),
        })),
      ],
      axes: [{ ...axis }, { ...axis, size: 56, values: (_u, vals) => vals.map((v) => usd(v)) }],
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
    };
    plot.current = new uPlot(opts, alignSeries(series, Date.now()) as uPlot.AlignedData, el);
    const ro = new ResizeObserver(() => plot.current?.setSize({ width: Math.max(200, el.clientWidth), height: 150 }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);

  useEffect(() => {
    const u = plot.current;
    if (!u || series.length === 0) return;
    u.setData(alignSeries(series, Date.now()) as uPlot.AlignedData);
    // Each legend row says how many updates its line has (the tests read it; so can a curious user's inspector).
    const rows = u.root.querySelectorAll('.u-legend tr.u-series');
    series.forEach((s, i) => {
      const row = rows[i + 1];
      row?.setAttribute('data-testid', `spend-line-${s.slot}`);
      row?.setAttribute('data-points', String(s.points.length));
    });
  });

  if (series.length === 0) return <div className="spend-chart-empty dim">No spend yet.</div>;
  return (
    <div className="spend-chart-plot" data-testid="spend-chart" ref={box} role="img" aria-label="Cumulative spend per session over time" />
  );
}
