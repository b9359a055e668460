// The Spend panel: per-session meter rows (dollars, tokens, savings, speed, budget with an inline raise), the last
// upstream error, a total equal to the header's, a cumulative-spend chart (uPlot, from the run's ledger and the
// live updates since) and a link to the run's ledger as CSV.
import { useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { SessionInfo, SessionSpend } from '../../../../electron/shared/contract.ts';
import { spend as spendApi } from '../../api/index.ts';
import { useStore } from '../../store/index.ts';
import { selectCurrentSessions } from '../runs/slice.ts';
import { STATUS_LABEL, pct, usd } from '../../ui/format.ts';
import { HeldActions } from '../grid/Held.tsx';
import { GovernorKeys } from './GovernorKeys.tsx';
import { ProvidersTable } from './ProvidersTable.tsx';
import { COLORS, SpendChart } from './SpendChart.tsx';

function tokens(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(n >= 1e7 ? 1 : 2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(n >= 1e4 ? 0 : 1)}k`;
  return String(n);
}

function RaiseBudget({ session, spend }: { session: SessionInfo; spend: SessionSpend }) {
  const [open, setOpen] = useState(false);
  const [value, setValue] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const slot = session.slot;

  const submit = async () => {
    const amount = Number(value);
    if (!Number.isFinite(amount) || amount <= 0) return setError('Enter a positive number of dollars.');
    if (amount <= spend.usd) return setError(`Must be above the ${usd(spend.usd)} already spent.`);
    setBusy(true);
    setError(null);
    try {
      await spendApi.raiseBudget(session.id, amount);
      setOpen(false);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  if (!open)
    return (
      <button
        className="btn spend-raise"
        data-testid={`spend-raise-${slot}`}
        onClick={() => {
          setValue(String(Math.max(1, Math.ceil((spend.budgetUsd ?? spend.usd) * 2 * 100) / 100)));
          setOpen(true);
        }}
      >
        Raise budget
      </button>
    );
  return (
    <form
      className="spend-raise-form"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <span className="dim">new budget $</span>
      <input
        data-testid={`spend-raise-input-${slot}`}
        type="number"
        min="0"
        step="any"
        autoFocus
        value={value}
        onChange={(e) => setValue(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Escape') setOpen(false);
        }}
      />
      <button className="btn primary" type="submit" data-testid={`spend-raise-ok-${slot}`} disabled={busy}>
        {busy ? '…' : 'Raise'}
      </button>
      <button className="btn" type="button" onClick={() => setOpen(false)}>
        Cancel
      </button>
      {error && <div className="spend-raise-error">{error}</div>}
    </form>
  );
}

/** The refused request as a curl line (the key as $VAR, never its value): to the clipboard, or shown to copy. */
function CopyAsCurl({ session }: { session: SessionInfo }) {
  const [text, setText] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const copy = async () => {
    try {
      const saved = await spendApi.rejectedRequest(session.id);
      if (!saved) return setNote('The request was not kept.');
      setText(saved.curl);
      await navigator.clipboard.writeText(saved.curl);
      setNote(`Copied. Saved as ${saved.savedAs}`);
    } catch (err) {
      setNote(`Not copied (${(err as Error).message}) — select the text below.`);
    }
  };
  return (
    <div className="spend-curl">
      <button className="btn" data-testid={`spend-curl-${session.slot}`} onClick={() => void copy()}>
        Copy as curl
      </button>
      {note && <span className="dim small"> {note}</span>}
      {text && <textarea className="spend-curl-text mono" data-testid={`spend-curl-text-${session.slot}`} readOnly value={text} rows={4} />}
    </div>
  );
}

function SessionRow({ session }: { session: SessionInfo }) {
  const spend = useStore((s) => s.spend.get(session.id));
  const slot = session.slot;
  const color = COLORS[(slot - 1) % COLORS.length];
  const used = spend?.budgetUsd ? spend.usd / spend.budgetUsd : null;
  const over = session.status === 'over_budget' || (used != null && used >= 1);
  const level = over ? 'over' : used != null && used >= 0.8 ? 'warn' : 'ok';
  return (
    <div className={`spend-row spend-${level}`} data-testid={`spend-row-${slot}`}>
      <div className="spend-row-head">
        <span className="spend-slot" style={{ borderColor: color }}>
          {slot}
        </span>
        <span className={`badge badge-${session.status}`}>{STATUS_LABEL[session.status]}</span>
        <span className="spend-usd" data-testid={`spend-usd-${slot}`}>
          {usd(spend?.usd ?? 0)}
          {spend && spend.estimateUsd > 0 && (
            <em className="spend-estimate" title={`${usd(spend.estimateUsd)} still streaming`}>
              estimate
            </em>
          )}
        </span>
      </div>
      {spend && (
        <>
          <div className="spend-grid">
            <span title="Uncached input tokens">in {tokens(spend.inputTokens)}</span>
            <span title="Cache read / cache write tokens">
              cache {tokens(spend.cacheReadTokens)}/{tokens(spend.cacheWriteTokens)}
            </span>
            <span title="Output tokens">out {tokens(spend.outputTokens)}</span>
            <span title="Billed model requests">{spend.requests} req</span>
            <span title={`Same tokens on ${spend.referenceModel}: ${usd(spend.referenceUsd)}`}>
              saved {usd(spend.savingsUsd)} <span className="dim">vs {spend.referenceModel}</span>
            </span>
            <span title="Time to first token, last request">TTFT {spend.ttftMs != null ? `${Math.round(spend.ttftMs)} ms` : '—'}</span>
            <span title="Output tokens per second, last request">
              {spend.tokensPerSec != null ? `${spend.tokensPerSec.toFixed(0)} t/s` : '— t/s'}
            </span>
            {spend.unpricedTokens > 0 && <span className="spend-warn-text">{tokens(spend.unpricedTokens)} unpriced tokens</span>}
          </div>
          {spend.budgetUsd != null && (
            <div className="spend-budget" data-testid={`spend-budget-${slot}`}>
              <span className="spend-bar">
                <span style={{ width: `${Math.min(100, (used ?? 0) * 100)}%` }} />
              </span>
              <span className="spend-budget-text">
                {pct(used ?? 0)} of {usd(spend.budgetUsd)}
                {over ? (
                  <strong className="spend-over"> over budget</strong>
                ) : level === 'warn' ? (
                  <span className="spend-warn-text"> near budget</span>
                ) : null}
              </span>
              {over && <RaiseBudget session={session} spend={spend} />}
            </div>
          )}
          {spend.held && <HeldActions session={session} held={spend.held} where="panel" />}
          {spend.waiting && (
            <div className="spend-waiting" data-testid={`spend-waiting-${slot}`}>
              waiting for the rate governor: {spend.waiting.requests} request(s), {spend.waiting.ahead} session(s) ahead
            </div>
          )}
          {spend.lastError && (
            <div
              className={`spend-error spend-error-${spend.lastError.kind}`}
              data-testid={`spend-error-${slot}`}
              title={spend.lastError.at}
            >
              <span className="spend-error-kind">
                {spend.lastError.kind.replace(/_/g, ' ')} · {spend.lastError.status}
              </span>{' '}
              {spend.lastError.message}
              {spend.lastError.note && <div className="spend-error-note dim">{spend.lastError.note}</div>}
              {spend.lastError.fixRule && (
                <div className="spend-error-fix" data-testid={`spend-error-fix-${slot}`}>
                  Known fix: the compat rule <code>{spend.lastError.fixRule}</code> (provider.compat: moonshot)
                </div>
              )}
              {spend.lastError.savedAs && <CopyAsCurl session={session} />}
            </div>
          )}
          {spend.window && (spend.window.compactions.length > 0 || spend.window.localOverflows > 0) && (
            <div className="spend-window" data-testid={`spend-window-${slot}`}>
              <span className="dim">context:</span>{' '}
              {spend.window.compactions.map((c) => (
                <span key={c.at} className="spend-compaction" title={c.at}>
                  compacted {new Date(c.at).toLocaleTimeString()} · {tokens(c.beforeTokens)} →{' '}
                  {c.afterTokens === null ? '…' : tokens(c.afterTokens)}
                </span>
              ))}
              {spend.window.localOverflows > 0 && (
                <span title="Requests over the window (or past 88 % of it) answered by Flotilla instead of uploaded: the agent compacts on the answer">
                  {spend.window.localOverflows} answered before the upload
                </span>
              )}
              {spend.window.trimmed > 0 && <span>{spend.window.trimmed} compaction(s) trimmed to fit</span>}
            </div>
          )}
          {spend.compat.length > 0 && (
            <div className="spend-compat" data-testid={`spend-compat-${slot}`}>
              <span className="dim">rewritten to fit the model:</span>
              {spend.compat.map((c) => (
                <span key={c.rule} className="spend-compat-rule" title={c.last}>
                  {c.rule} ×{c.count}
                </span>
              ))}
            </div>
          )}
        </>
      )}
    </div>
  );
}

export function SpendPanel() {
  const sessions = useStore(useShallow(selectCurrentSessions));
  const runId = useStore((s) => s.currentRunId);
  const run = useStore((s) => (s.currentRunId ? s.runSpend.get(s.currentRunId) : undefined));
  const sessionSum = useStore((s) => {
    let sum = 0;
    for (const x of s.spend.values()) if (x.runId === s.currentRunId) sum += x.usd;
    return sum;
  });
  if (!runId) return <div className="dim">No run yet.</div>;
  // The header shows the run's total; the row shows the same figure (the sessions' sum before the first run update).
  const total = run?.usd ?? sessionSum;
  const csvHref = spendApi.csvUrl(runId) ?? undefined;
  return (
    <div className="spend-panel">
      <SpendChart sessions={sessions} />
      <div className="spend-rows">
        {sessions.map((s) => (
          <SessionRow key={s.id} session={s} />
        ))}
      </div>
      <div className="spend-total" data-testid="spend-total" title={run ? `${run.requests} requests` : undefined}>
        <span>Total</span>
        {run && (
          <span className="dim">
            {tokens(run.inputTokens)} in · {tokens(run.cacheReadTokens + run.cacheWriteTokens)} cache · {tokens(run.outputTokens)} out ·{' '}
            {run.requests} req
          </span>
        )}
        <span className="spend-usd">
          {usd(total)}
          {run && run.estimateUsd > 0 && <em className="spend-estimate">estimate</em>}
        </span>
      </div>
      {run && run.savingsUsd !== 0 && (
        <div className="spend-savings dim">
          saved {usd(run.savingsUsd)} vs {run.referenceModel} ({usd(run.referenceUsd)})
        </div>
      )}
      <ProvidersTable runId={runId} />
      <GovernorKeys />
      <div className="spend-actions">
        {csvHref ? (
          <a className="btn" data-testid="spend-csv" href={csvHref} download>
            Export CSV
          </a>
        ) : (
          <span className="dim">CSV export needs the engine token</span>
        )}
      </div>
    </div>
  );
}
