// Review: one session's changes (files, diffs) and what to do with them — commit, squash-merge into the base, discard,
// export a patch, open the worktree. Done sessions form a queue (slot order) walked with Prev/Next.
import { useCallback, useEffect, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { FileDiff, SessionInfo } from '../../../../electron/shared/contract.ts';
import { EngineRequestError } from '../../../../electron/shared/client.ts';
import { review } from '../../api/index.ts';
import { platform } from '../../platform/index.ts';
import { useStore } from '../../store/index.ts';
import { selectCurrentSessions } from '../runs/slice.ts';
import { loadChanges } from '../../store/sync.ts';
import { DiffView, type DiffMode } from './LazyDiff.tsx';
import { Feedback, MergeQueue } from './MergeQueue.tsx';

type Result = { ok: boolean; text: string; code?: string } | null;

function errText(err: unknown): string {
  const e = err as { message?: string };
  return e?.message ?? String(err);
}

function download(name: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/x-diff' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.style.display = 'none';
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export function ReviewPanel() {
  const sessions = useStore(useShallow(selectCurrentSessions));
  const queue = sessions.filter((s) => s.status === 'done');
  // Kept in the store: a tile menu or the palette can open the panel on a session.
  const picked = useStore((s) => s.reviewPick);
  const setPicked = useStore((s) => s.setReviewPick);
  const current: SessionInfo | undefined = sessions.find((s) => s.id === picked) ?? queue[0] ?? sessions[0];
  const sessionId = current?.id ?? null;

  // Kept in the store (the engine's `changes` events update it, a reconnect loads it again).
  const files = useStore((s) => (sessionId ? s.changes.get(sessionId) : undefined)) ?? null;
  const [filesError, setFilesError] = useState<string | null>(null);
  const [path, setPath] = useState<string | null>(null);
  const [diff, setDiff] = useState<FileDiff | null>(null);
  const [mode, setMode] = useState<DiffMode>('unified');
  const [message, setMessage] = useState('');
  const [confirm, setConfirm] = useState<'merge' | 'discard' | null>(null);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<Result>(null);
  const [folder, setFolder] = useState<string | null>(null);

  const loadFiles = useCallback(() => {
    if (!sessionId) return;
    loadChanges(sessionId)
      .then(() => setFilesError(null))
      .catch((err) => setFilesError(errText(err)));
  }, [sessionId]);

  // New session: fresh state, then its files.
  useEffect(() => {
    setPath(null);
    setDiff(null);
    setConfirm(null);
    setResult(null);
    setFolder(null);
    loadFiles();
  }, [loadFiles]);

  useEffect(() => {
    if (!sessionId || !path) return;
    let live = true;
    setDiff(null);
    review
      .diff(sessionId, path)
      .then((d) => live && setDiff(d))
      .catch((err) => live && setDiff({ path, binary: false, truncated: false, note: errText(err), diff: '' }));
    return () => {
      live = false;
    };
  }, [sessionId, path, files]);

  if (!current) return <p className="dim">No sessions to review yet.</p>;

  const qi = queue.findIndex((s) => s.id === current.id);
  const step = (d: number) => {
    if (queue.length === 0) return;
    const i = qi < 0 ? (d > 0 ? 0 : queue.length - 1) : (qi + d + queue.length) % queue.length;
    setPicked(queue[i]!.id);
  };

  const act = async (what: () => Promise<string>) => {
    setBusy(true);
    setResult(null);
    try {
      setResult({ ok: true, text: await what() });
    } catch (err) {
      setResult({ ok: false, text: errText(err), code: err instanceof EngineRequestError ? err.code : undefined });
    } finally {
      setBusy(false);
      setConfirm(null);
    }
  };

  const commit = () =>
    act(async () => {
      const r = await review.commit(current.id, message);
      setMessage('');
      loadFiles();
      return r.commit ? `Committed ${r.commit.slice(0, 10)} on ${current.branch ?? 'the session branch'}` : 'Nothing to commit.';
    });
  const merge = () =>
    act(async () => {
      const r = await review.merge(current.id, message.trim() || undefined);
      return `Merged into ${r.target} as ${r.commit} (${r.files} file${r.files === 1 ? '' : 's'})`;
    });
  const discard = () =>
    act(async () => {
      await review.discard(current.id);
      useStore.getState().setChanges(current.id, []);
      return `Discarded session #${current.slot}: worktree and branch removed.`;
    });
  const exportPatch = () =>
    act(async () => {
      const r = await review.exportPatch(current.id);
      const name = `${current.branch?.replace(/[^\w.-]+/g, '-') ?? `session-${current.slot}`}.patch`;
      download(name, r.patch);
      return `Exported ${name} (${r.patch.length} bytes).`;
    });
  const push = () =>
    act(async () => {
      const r = await review.push(current.id);
      return `Pushed ${r.branch} to ${r.remote}${r.commit ? ` (${r.commit.slice(0, 10)})` : ''}`;
    });
  const pullRequest = () =>
    act(async () => {
      const r = await review.openPullRequest(current.id);
      platform.openExternal(r.url);
      return `Opened ${r.url}`;
    });
  const openFolder = () =>
    act(async () => {
      const r = await review.openFolder(current.id);
      if (r.opened) return `Opened ${r.path}`;
      setFolder(r.path);
      return 'Worktree path shown below — copy it.';
    });

  return (
    <div className="review-panel" data-testid="review-panel">
      <MergeQueue runId={current.runId} onPick={setPicked} />
      <div className="review-picker">
        <button
          className="btn"
          data-testid="review-prev"
          disabled={queue.length === 0}
          onClick={() => step(-1)}
          title="Previous done session"
        >
          ‹ Prev
        </button>
        <select data-testid="review-session" value={current.id} onChange={(e) => setPicked(e.target.value)}>
          {sessions.map((s) => (
            <option key={s.id} value={s.id}>
              #{s.slot} · {s.status}
              {s.task ? ` · ${s.task.slice(0, 40)}` : ''}
            </option>
          ))}
        </select>
        <button className="btn" data-testid="review-next" disabled={queue.length === 0} onClick={() => step(1)} title="Next done session">
          Next ›
        </button>
        <span className="dim small" data-testid="review-queue">
          {queue.length ? `${qi >= 0 ? qi + 1 : '–'} / ${queue.length} done` : 'none done'}
        </span>
      </div>
      <div className="review-meta dim small mono">{current.branch ?? current.worktree}</div>

      <div className="review-files">
        {filesError && <p className="error">{filesError}</p>}
        {!files && !filesError && <p className="dim">Loading…</p>}
        {files && files.length === 0 && <p className="dim">No changes.</p>}
        {files?.map((f) => (
          <button
            key={f.path}
            className={`review-file${path === f.path ? ' active' : ''}`}
            data-testid={`review-file-${f.path}`}
            onClick={() => setPath(f.path)}
            title={f.oldPath ? `${f.oldPath} → ${f.path}` : f.path}
          >
            <span className={`review-status review-status-${f.status}`}>{f.status}</span>
            <span className="review-path mono">{f.path}</span>
            {f.secret && (
              <span
                className="review-secret small"
                data-testid={`review-secret-${f.path}`}
                title="This name looks like a secret (.env, a key): check it before you commit, merge or push"
              >
                ⚠ secret?
              </span>
            )}
            {f.copied && (
              <span
                className="dim small"
                data-testid={`review-copied-${f.path}`}
                title="Flotilla copied this file in (.worktreeinclude); git ignores it, so the agent's change stays in the worktree: it is in no commit, merge, patch or push"
              >
                copied in · not committed
              </span>
            )}
            {f.binary ? (
              <span className="dim small">binary</span>
            ) : (
              <span className="review-counts mono small">
                <span className="review-plus">+{f.added ?? 0}</span> <span className="review-minus">−{f.removed ?? 0}</span>
              </span>
            )}
          </button>
        ))}
      </div>

      {path && (
        <div className="review-diff-wrap">
          <div className="review-diff-head">
            <span className="mono small">{path}</span>
            <span className="spacer" />
            <button
              className={`btn${mode === 'unified' ? ' active' : ''}`}
              data-testid="review-mode-unified"
              onClick={() => setMode('unified')}
            >
              Unified
            </button>
            <button className={`btn${mode === 'split' ? ' active' : ''}`} data-testid="review-mode-split" onClick={() => setMode('split')}>
              Split
            </button>
          </div>
          {diff ? <DiffView diff={diff} mode={mode} testId="review-diff" /> : <p className="dim">Loading…</p>}
        </div>
      )}

      <Feedback sessionId={current.id} path={path} />

      <div className="review-actions">
        <input
          className="review-message"
          data-testid="review-message"
          placeholder="Commit / merge message"
          value={message}
          onChange={(e) => setMessage(e.target.value)}
        />
        <div className="review-buttons">
          <button className="btn" data-testid="review-commit" disabled={busy || !message.trim()} onClick={commit}>
            Commit
          </button>
          <button className="btn primary" data-testid="review-merge" disabled={busy} onClick={() => setConfirm('merge')}>
            Merge into base
          </button>
          <button className="btn" data-testid="review-export" disabled={busy} onClick={exportPatch}>
            Export patch
          </button>
          <button
            className="btn"
            data-testid="review-push"
            disabled={busy}
            onClick={push}
            title="Commit (message from the task) and push the session's branch to origin"
          >
            Push branch
          </button>
          <button
            className="btn"
            data-testid="review-pr"
            disabled={busy}
            onClick={pullRequest}
            title="Push, then open a pull request with the GitHub CLI (gh)"
          >
            Open pull request
          </button>
          <button className="btn" data-testid="review-open" disabled={busy} onClick={openFolder}>
            Open folder
          </button>
          <button className="btn review-danger" data-testid="review-discard" disabled={busy} onClick={() => setConfirm('discard')}>
            Discard
          </button>
        </div>
        {confirm === 'merge' && (
          <div className="review-confirm">
            Squash-merge session #{current.slot} into the run's base branch?
            <button className="btn primary" data-testid="review-merge-confirm" disabled={busy} onClick={merge}>
              Merge
            </button>
            <button className="btn" onClick={() => setConfirm(null)}>
              Cancel
            </button>
          </div>
        )}
        {confirm === 'discard' && (
          <div className="review-confirm review-confirm-danger">
            Remove session #{current.slot}'s worktree and branch for good?
            <button className="btn review-danger" data-testid="review-discard-confirm" disabled={busy} onClick={discard}>
              Discard for good
            </button>
            <button className="btn" onClick={() => setConfirm(null)}>
              Cancel
            </button>
          </div>
        )}
        {busy && <p className="dim">Working…</p>}
        {result && (
          <p className={`review-result ${result.ok ? 'review-ok' : 'review-refused'}`} data-testid="review-result">
            {result.ok ? '' : result.code?.startsWith('merge_refused') ? 'Merge refused: ' : 'Failed: '}
            {result.text}
          </p>
        )}
        {folder && (
          <input
            className="review-folder mono"
            data-testid="review-folder"
            readOnly
            value={folder}
            onFocus={(e) => e.currentTarget.select()}
          />
        )}
      </div>
    </div>
  );
}
