// The merge plan as a queue at the top of the Review panel: the done sessions in the order to merge them, each with
// whether it goes in cleanly and whom it conflicts with; "Merge all clean" lands every clean, unblocked step (never
// half a merge), and the plan is asked again whenever sessions finish or the conflicts change.
import { useCallback, useEffect, useState } from 'react';
import type { MergePlan } from '../../../../electron/shared/contract.ts';
import { review } from '../../api/index.ts';
import { useStore } from '../../store/index.ts';

export function MergeQueue({ runId, onPick }: { runId: string; onPick(sessionId: string): void }) {
  const [plan, setPlan] = useState<MergePlan | null>(null);
  // What the last "Merge all clean" did (kept while the plan refreshes), and why the plan cannot be shown.
  const [note, setNote] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const sessions = useStore((s) => s.sessions);
  const slotOf = (id: string) => sessions.get(id)?.slot ?? '?';
  // Asked again when a session of the run changes status or the run's warnings change.
  const doneKey = useStore((s) =>
    [...s.sessions.values()]
      .filter((x) => x.runId === runId && x.status === 'done')
      .map((x) => x.id)
      .join(','),
  );
  const warnings = useStore((s) => s.conflicts.get(runId));

  const load = useCallback(() => {
    review
      .mergePlan(runId)
      .then((p) => {
        setPlan(p);
        setError(null);
      })
      .catch((err: Error & { code?: string }) => {
        setPlan(null);
        setError(err.code === 'nothing_to_plan' ? null : err.message);
      });
  }, [runId]);
  useEffect(() => {
    const t = setTimeout(load, 200);
    return () => clearTimeout(t);
  }, [load, doneKey, warnings]);

  if (!plan && !note && !error) return null;
  const ready = plan?.steps.filter((s) => s.clean && s.blockedBy.length === 0).length ?? 0;
  const mergeAll = async () => {
    setBusy(true);
    try {
      const r = await review.mergeAllClean(runId);
      setPlan(r.plan);
      setNote(
        `Merged ${r.merged.length} session(s)${r.merged.length ? ` (#${r.merged.map((m) => slotOf(m.sessionId)).join(', #')})` : ''}` +
          (r.skipped.length ? `; left ${r.skipped.map((s) => `#${slotOf(s.sessionId)}: ${s.reason}`).join('; ')}` : ''),
      );
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="merge-queue" data-testid="merge-queue" aria-label="Merge plan">
      <div className="merge-queue-head">
        <strong>Merge plan</strong>
        {plan && plan.merged.length > 0 && <span className="dim small">{plan.merged.length} merged</span>}
        <span className="spacer" />
        <button className="btn primary small" data-testid="merge-all-clean" disabled={busy || ready === 0} onClick={() => void mergeAll()}>
          {busy ? 'Merging…' : `Merge all clean (${ready})`}
        </button>
      </div>
      {plan && plan.steps.length === 0 && <p className="dim small">Everything done is merged.</p>}
      <ol className="merge-steps">
        {plan?.steps.map((s) => (
          <li
            key={s.sessionId}
            className="merge-step"
            data-testid={`merge-step-${s.slot}`}
            data-state={!s.clean ? 'conflict' : s.blockedBy.length ? 'blocked' : 'clean'}
          >
            <button className="link" onClick={() => onPick(s.sessionId)} title="Review this session">
              #{s.slot} {sessions.get(s.sessionId)?.task ?? ''}
            </button>
            {!s.clean ? (
              <>
                <span className="merge-badge conflict">conflicts with the base</span>
                <button
                  className="btn small"
                  data-testid={`merge-rebase-${s.slot}`}
                  title="Ask its agent to rebase onto the base (a shell session: git rebase in its worktree)"
                  onClick={() =>
                    void review
                      .rebase(s.sessionId)
                      .then((r) => setNote(r.message))
                      .catch((err: Error) => setError(err.message))
                  }
                >
                  Rebase
                </button>
              </>
            ) : s.blockedBy.length ? (
              <span className="merge-badge blocked">conflicts with #{s.blockedBy.map(slotOf).join(', #')}</span>
            ) : (
              <span className="merge-badge clean">clean</span>
            )}
          </li>
        ))}
      </ol>
      {note && (
        <p className="dim small" data-testid="merge-queue-note">
          {note}
        </p>
      )}
      {error && (
        <p className="error small" data-testid="merge-queue-error">
          {error}
        </p>
      )}
    </section>
  );
}

/** Sends the reviewer's words back to the session's agent as its next prompt (with the file it is about). */
export function Feedback({ sessionId, path }: { sessionId: string; path: string | null }) {
  const [text, setText] = useState('');
  const [state, setState] = useState<{ ok: boolean; text: string } | null>(null);
  const send = async () => {
    const body = text.trim();
    if (!body) return;
    try {
      await review.sendFeedback(sessionId, path ? `${path}: ${body}` : body);
      setText('');
      setState({ ok: true, text: 'Sent: the agent is back at work on it.' });
    } catch (err) {
      setState({ ok: false, text: (err as Error).message });
    }
  };
  return (
    <div className="review-feedback">
      <textarea
        rows={2}
        data-testid="review-feedback"
        aria-label="Feedback for the agent"
        placeholder={path ? `Ask the agent to change ${path}…` : 'Ask the agent for changes…'}
        value={text}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) void send();
        }}
      />
      <button className="btn" data-testid="review-feedback-send" disabled={!text.trim()} onClick={() => void send()}>
        Send to agent
      </button>
      {state && (
        <span className={state.ok ? 'dim small' : 'error small'} data-testid="review-feedback-result">
          {state.text}
        </span>
      )}
    </div>
  );
}
