// Conflicts: the current run's warnings grouped by path; a click shows that path as each of its sessions changed it,
// side by side.
import { useEffect, useState } from 'react';
import type { ConflictWarning, PathDiff } from '../../../../electron/shared/contract.ts';
import { review } from '../../api/index.ts';
import { useStore } from '../../store/index.ts';
import { DiffView } from './LazyDiff.tsx';

const EMPTY: ConflictWarning[] = [];

function since(iso: string): string {
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return iso;
  const s = Math.max(0, Math.round((Date.now() - t) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.round(s / 60)}m ago`;
  return new Date(t).toLocaleString();
}

export function ConflictsPanel() {
  const runId = useStore((s) => s.currentRunId);
  const warnings = useStore((s) => (s.currentRunId ? (s.conflicts.get(s.currentRunId) ?? EMPTY) : EMPTY));
  const sessions = useStore((s) => s.sessions);
  const [selected, setSelected] = useState<ConflictWarning | null>(null);
  const [across, setAcross] = useState<PathDiff[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  const slotOf = (id: string) => sessions.get(id)?.slot;
  const bySlot = (ids: string[]) => [...ids].sort((a, b) => (slotOf(a) ?? 1e9) - (slotOf(b) ?? 1e9));
  /** The engine names sessions by id; show their slots instead. */
  const readable = (text: string, ids: string[]) => ids.reduce((t, id) => t.split(id).join(`#${slotOf(id) ?? '?'}`), text);
  const groups = new Map<string, ConflictWarning[]>();
  for (const w of warnings) groups.set(w.path, [...(groups.get(w.path) ?? []), w]);

  useEffect(() => {
    if (!selected || !runId) return;
    let live = true;
    setAcross(null);
    setError(null);
    review
      .pathAcross(runId, selected.path, selected.sessions)
      .then((r) => live && setAcross([...r].sort((a, b) => a.slot - b.slot)))
      .catch((err: Error) => live && setError(err.message));
    return () => {
      live = false;
    };
  }, [selected, runId]);

  if (!runId) return <p className="dim">No run yet.</p>;

  return (
    <div className="conflict-panel">
      {groups.size === 0 && <p className="dim">No conflicts: no two sessions touch the same file.</p>}
      {[...groups].map(([path, list]) => (
        <div key={path} className="conflict-group">
          <div className="conflict-path mono">{path}</div>
          {list.map((w) => (
            <button
              key={w.key}
              className={`conflict-item${selected?.key === w.key ? ' active' : ''}`}
              data-testid={`conflict-${w.path}`}
              title={w.detail ? readable(w.detail, w.sessions) : undefined}
              onClick={() => setSelected(w)}
            >
              <span className={`conflict-kind conflict-kind-${w.kind}`}>{w.kind}</span>
              <span className="conflict-slots">
                {bySlot(w.sessions).map((id) => (
                  <span key={id} className="conflict-slot">
                    #{slotOf(id) ?? '?'}
                  </span>
                ))}
              </span>
              <span className="dim small">{since(w.since)}</span>
              {w.detail && <span className="conflict-detail dim small">{readable(w.detail, w.sessions)}</span>}
            </button>
          ))}
        </div>
      ))}
      {selected && (
        <div className="conflict-compare-wrap">
          <div className="conflict-compare-head">
            <span className="mono">{selected.path}</span>
            <button className="btn" onClick={() => setSelected(null)}>
              Close
            </button>
          </div>
          {error && <p className="error">{error}</p>}
          {!across && !error && <p className="dim">Loading…</p>}
          {across && (
            <div className="conflict-compare" data-testid="conflict-compare">
              {across.length === 0 && <p className="dim">None of the sessions has changes to this file any more.</p>}
              {across.map((a) => (
                <div key={a.sessionId} className="conflict-col" data-testid={`conflict-col-${a.slot}`}>
                  <div className="conflict-col-head">session #{a.slot}</div>
                  <DiffView diff={a.diff} />
                </div>
              ))}
            </div>
          )}
        </div>
      )}
    </div>
  );
}
