// A request held over budget, and what the user can do about it: raise the budget that is in the way (the held request
// then goes on by itself) or decline (the agent gets the budget error now). Shown in the tile and the Spend panel.
import { useState } from 'react';
import type { HeldInfo, SessionInfo } from '../../../../electron/shared/contract.ts';
import { spend as spendApi } from '../../api/index.ts';
import { usd } from '../../ui/format.ts';

/** A budget that lets the held request through with room to spare: double the old one, or what it needs twice over. */
export function suggestedBudget(h: HeldInfo): number {
  return Math.ceil(Math.max(h.budgetUsd * 2, h.committedUsd + h.neededUsd * 2) * 100) / 100;
}

export function HeldActions({ session, held, where }: { session: SessionInfo; held: HeldInfo; where: 'tile' | 'panel' }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const target = suggestedBudget(held);
  const act = async (what: 'raise' | 'decline') => {
    setBusy(true);
    setError(null);
    try {
      if (what === 'decline') await spendApi.declineBudget(session.id);
      else if (held.scope === 'session') await spendApi.raiseBudget(session.id, target);
      else await spendApi.raiseRunBudget(session.runId, target);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const whose = held.scope === 'session' ? 'session' : 'run';
  const id = `${where}-held-${session.slot}`;
  return (
    <div className={`held held-${where}`} data-testid={id} onMouseDown={(e) => e.stopPropagation()}>
      {where === 'panel' && (
        <span className="held-text">
          Held since {new Date(held.since).toLocaleTimeString()}: the {whose} budget of {usd(held.budgetUsd)} ({usd(held.committedUsd)}{' '}
          spent and reserved) cannot cover the next request (~{usd(held.neededUsd)}). Nothing was sent; if nobody decides, the agent gets
          the budget error at {new Date(held.until).toLocaleTimeString()}.
        </span>
      )}
      <button
        className="btn primary"
        data-testid={`${id}-raise`}
        disabled={busy}
        onClick={() => void act('raise')}
        title={`Set the ${whose} budget to ${usd(target)}`}
      >
        Raise {whose} to {usd(target)}
      </button>
      <button
        className="btn"
        data-testid={`${id}-decline`}
        disabled={busy}
        onClick={() => void act('decline')}
        title="The agent gets the budget error now"
      >
        Decline
      </button>
      {error && <span className="held-error">{error}</span>}
    </div>
  );
}
