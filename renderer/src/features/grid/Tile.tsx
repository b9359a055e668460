import { useEffect, useRef, useState } from 'react';
import { useStore } from '../../store/index.ts';
import { focusSession } from './focus.ts';
import { terminals } from '../terminal/index.ts';
import { STATUS_LABEL, pct, usd } from '../../ui/format.ts';
import { HeldActions } from './Held.tsx';
import { InterruptedActions } from './Interrupted.tsx';
import { TileMenu } from './TileMenu.tsx';
import { FindBar, TerminalContextMenu } from '../terminal/TerminalTools.tsx';

const DRAG_TYPE = 'application/x-flotilla-session';
/** Output faster than this shows a "flooding" badge (the tile is busy drawing, not stuck). */
const FLOOD_BYTES_PER_SEC = 200 * 1024;

/** The terminal's output rate, read once a second. */
function useOutputRate(sessionId: string): number {
  const [rate, setRate] = useState(0);
  useEffect(() => {
    const t = setInterval(() => setRate(terminals.rateOf(sessionId)), 1000);
    return () => clearInterval(t);
  }, [sessionId]);
  return rate;
}

/** The context fill at which the tile's ctx turns amber. */
const CONTEXT_WARN = 0.8;

export function Tile({
  sessionId,
  compact = false,
  onDropBefore,
}: {
  sessionId: string;
  compact?: boolean;
  onDropBefore?: (dragged: string) => void;
}) {
  const [dropping, setDropping] = useState(false);
  const rate = useOutputRate(sessionId);
  const session = useStore((s) => s.sessions.get(sessionId));
  const runId = session?.runId;
  const pinned = useStore((s) => (runId ? (s.layoutByRun[runId]?.pinned.includes(sessionId) ?? false) : false));
  const spend = useStore((s) => s.spend.get(sessionId));
  const focused = useStore((s) => s.focusedId === sessionId);
  const focusMode = useStore((s) => s.focusMode);
  const conflictCount = useStore((s) => {
    const runId = s.sessions.get(sessionId)?.runId;
    const list = runId ? s.conflicts.get(runId) : undefined;
    return list ? list.filter((w) => w.sessions.includes(sessionId)).length : 0;
  });
  const watchFailure = useStore((s) => s.watchFailures.get(sessionId));
  const hostName = session?.host;
  // A slot may be contained differently from its run (slots: [{sandbox: …}]), or run on the host (null).
  const sandbox = useStore((s) => {
    const run = runId ? s.runs.get(runId) : undefined;
    return (run?.sandboxes && session ? run.sandboxes[session.slot - 1] : run?.sandbox) ?? undefined;
  });
  const host = useStore((s) => (hostName ? s.hosts.get(hostName) : undefined));
  const termRef = useRef<HTMLDivElement>(null);
  const [menuAt, setMenuAt] = useState<{ x: number; y: number } | null>(null);

  useEffect(() => {
    const el = termRef.current;
    if (!el) return;
    return terminals.attach(sessionId, el);
  }, [sessionId]);

  if (!session) return null;
  const slot = session.slot;
  const status = session.status;
  const title = session.task ?? session.command;
  return (
    <section
      className={`tile status-${status}${focused ? ' focused' : ''}${compact ? ' compact' : ''}${dropping ? ' drop-target' : ''}`}
      onDragOver={(e) => {
        if (!onDropBefore || !e.dataTransfer.types.includes(DRAG_TYPE)) return;
        e.preventDefault();
        setDropping(true);
      }}
      onDragLeave={() => setDropping(false)}
      onDrop={(e) => {
        setDropping(false);
        const dragged = e.dataTransfer.getData(DRAG_TYPE);
        if (dragged && onDropBefore) {
          e.preventDefault();
          onDropBefore(dragged);
        }
      }}
      data-testid={`tile-${slot}`}
      data-session-id={sessionId}
      data-status={status}
      onMouseDown={() => {
        if (!focused) focusSession(sessionId, compact ? true : undefined);
      }}
    >
      <header
        className="tile-head"
        draggable={!!onDropBefore}
        title={onDropBefore ? 'Drag to reorder the grid' : undefined}
        onDragStart={(e) => {
          e.dataTransfer.setData(DRAG_TYPE, sessionId);
          e.dataTransfer.effectAllowed = 'move';
        }}
        onDoubleClick={() => focusSession(sessionId, !focusMode)}
      >
        <span className="slot">{slot}</span>
        {pinned && (
          <span className="pin" title="Pinned to the front" aria-label="pinned">
            📌
          </span>
        )}
        {hostName && (
          <span className="host-label" data-testid={`tile-host-${slot}`} title={`Runs on ${hostName} (${host?.destination ?? 'a host'})`}>
            {hostName}
          </span>
        )}
        {sandbox && !compact && (
          <span className="sandbox-label" data-testid={`tile-sandbox-${slot}`} title={`In a container: ${sandbox}`}>
            {sandbox}
          </span>
        )}
        <span className="task" title={title}>
          {title}
        </span>
        {conflictCount > 0 && (
          <span
            className="conflict-badge"
            data-testid={`tile-conflicts-${slot}`}
            title={`${conflictCount} conflict warning(s) involve this session`}
          >
            ⚠ {conflictCount}
          </span>
        )}
        {rate > FLOOD_BYTES_PER_SEC && (
          <span
            className="flood-badge"
            data-testid={`tile-flood-${slot}`}
            title="This terminal is receiving a lot of output; background tiles draw it in turns"
          >
            ⇶ {(rate / 1024 / 1024).toFixed(1)} MB/s
          </span>
        )}
        {spend?.provider && (
          <span className="metric provider-name" data-testid={`tile-provider-${slot}`} title="The provider serving this session">
            {spend.provider}
          </span>
        )}
        <span className="metric" data-testid={`tile-rate-${slot}`} title="Output tokens per second (live while a response streams)">
          {spend?.tokensPerSec != null ? `${spend.tokensPerSec.toFixed(0)} t/s` : '— t/s'}
        </span>
        <span
          className={`metric${spend?.contextFill != null && spend.contextFill >= CONTEXT_WARN ? ' ctx-warn' : ''}`}
          data-testid={`tile-ctx-${slot}`}
          title={spend?.contextTokens != null ? `${spend.contextTokens} of ${spend.contextWindow ?? '?'} tokens` : 'Context window fill'}
        >
          ctx {spend?.contextFill != null ? pct(spend.contextFill) : '—'}
        </span>
        {spend?.window?.compacting && (
          <span
            className="badge badge-compacting"
            data-testid={`tile-compacting-${slot}`}
            title="The context is full: the agent is compacting"
          >
            context full — compacting
          </span>
        )}
        <span className={`metric spend${spend && spend.estimateUsd > 0 ? ' estimate' : ''}`} data-testid={`tile-spend-${slot}`}>
          {usd(spend?.usd ?? 0)}
        </span>
        <span className={`badge badge-${status}`} data-testid={`tile-status-${slot}`} title={session.statusDetail ?? undefined}>
          {STATUS_LABEL[status]}
        </span>
        {!compact && <TileMenu session={session} />}
        {!compact && (
          <button
            className="icon-btn"
            title={focusMode ? 'Back to the grid (Ctrl+Shift+G)' : 'Focus this session'}
            aria-label={focusMode ? 'Back to the grid' : `Focus session ${slot}`}
            onMouseDown={(e) => e.stopPropagation()}
            onClick={() => focusSession(sessionId, !focusMode)}
          >
            {focusMode ? '▣' : '⤢'}
          </button>
        )}
      </header>
      {session.statusDetail &&
        (status === 'needs_you' ||
          status === 'rejected' ||
          status === 'failed' ||
          status === 'over_budget' ||
          status === 'rate_limited' ||
          status === 'held') && (
          <div className="tile-detail">
            {session.statusDetail}
            {spend?.held && <HeldActions session={session} held={spend.held} where="tile" />}
          </div>
        )}
      {host && host.state !== 'connected' && (
        <div className="tile-detail tile-host-away" data-testid={`tile-host-away-${slot}`} role="status">
          {host.state === 'reconnecting'
            ? `${host.name} unreachable — reconnecting (${host.attempt ?? 1}); the session goes on there`
            : (host.message ?? `${host.name}: ${host.state}`)}
        </div>
      )}
      {spend?.lastError && (status === 'working' || status === 'idle') && !compact && (
        <div className="tile-detail tile-upstream-error" data-testid={`tile-error-${slot}`} role="status" title={spend.lastError.at}>
          Last request failed: {spend.lastError.message}
        </div>
      )}
      {watchFailure && !compact && (
        <div className="tile-detail tile-watch" data-testid={`tile-watch-${slot}`} role="status">
          Edits are not watched live: {watchFailure.message}
        </div>
      )}
      {status === 'interrupted' && (
        <div className="tile-detail" data-testid={`tile-interrupted-${slot}`}>
          {session.statusDetail ?? 'its engine stopped while it ran'}
          <InterruptedActions session={session} />
        </div>
      )}
      <div
        className="tile-term"
        data-testid={`terminal-${slot}`}
        ref={termRef}
        onContextMenu={(e) => {
          e.preventDefault();
          setMenuAt({ x: e.clientX, y: e.clientY });
        }}
      />
      {!compact && <FindBar sessionId={sessionId} />}
      {menuAt && <TerminalContextMenu sessionId={sessionId} at={menuAt} onClose={() => setMenuAt(null)} />}
    </section>
  );
}
