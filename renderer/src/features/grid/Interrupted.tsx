// Sessions whose engine (or pty host) died while they ran: Claude Code sessions can be resumed — its --resume carries
// the conversation on in the same worktree — and other agents restarted. One session in its tile, or all at once.
import { useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { SessionInfo } from '../../../../electron/shared/contract.ts';
import { runs } from '../../api/index.ts';
import { useStore } from '../../store/index.ts';
import { selectCurrentSessions } from '../runs/slice.ts';

const canResume = (s: SessionInfo) => s.agentSessionId !== null;

function bringBack(s: SessionInfo): Promise<unknown> {
  return canResume(s) ? runs.resume(s.id) : runs.restart(s.id);
}

export function InterruptedActions({ session }: { session: SessionInfo }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const resume = canResume(session);
  const go = async () => {
    setBusy(true);
    setError(null);
    try {
      await bringBack(session);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <span className="held-actions" onMouseDown={(e) => e.stopPropagation()}>
      <button
        className="btn small primary"
        data-testid={`tile-${resume ? 'resume' : 'restart'}-${session.slot}`}
        disabled={busy}
        title={resume ? 'Claude Code carries on its conversation where it was (--resume)' : 'Start the agent again in its worktree'}
        onClick={go}
      >
        {busy ? '…' : resume ? 'Resume' : 'Restart'}
      </button>
      {error && <span className="error">{error}</span>}
    </span>
  );
}

/** Above the grid while sessions of the shown run are interrupted: bring them all back. */
export function InterruptedBar() {
  const list = useStore(useShallow((s) => selectCurrentSessions(s).filter((x) => x.status === 'interrupted')));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  if (list.length === 0) return null;
  const resumable = list.filter(canResume).length;
  const all = async () => {
    setBusy(true);
    setError(null);
    const failed: string[] = [];
    for (const s of list) await bringBack(s).catch((err: Error) => failed.push(`slot ${s.slot}: ${err.message}`));
    if (failed.length) setError(failed.join('; '));
    setBusy(false);
  };
  return (
    <div className="interrupted-bar" data-testid="interrupted-bar">
      <span>
        {list.length} session{list.length === 1 ? ' was' : 's were'} interrupted when {list.length === 1 ? 'its' : 'their'} engine stopped
        {resumable > 0 && resumable < list.length ? ` (${resumable} can resume their conversation, the rest restart)` : ''}.
      </span>
      <button className="btn small primary" data-testid="resume-all" disabled={busy} onClick={all}>
        {busy ? 'Bringing them back…' : resumable === list.length ? 'Resume all' : resumable === 0 ? 'Restart all' : 'Resume / restart all'}
      </button>
      {error && <span className="error">{error}</span>}
    </div>
  );
}
