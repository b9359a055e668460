// The rate governor in the Spend panel: per provider key (named by its variable, never its value), what runs against
// its limits over the last minute, what waits, and a pause the provider's own 429 asked for.
import type { GovernorKey } from '../../../../electron/shared/contract.ts';
import { useStore } from '../../store/index.ts';

const of = (n: number, limit: number | null) => (limit === null ? String(n) : `${n}/${limit}`);
const k = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(0)}k` : String(n));

function KeyRow({ g }: { g: GovernorKey }) {
  const l = g.limits;
  const limited = l.concurrency !== null || l.rpm !== null || l.tpm !== null;
  return (
    <div className="governor-key" data-testid={`governor-${g.key}`}>
      <code>{g.key}</code>
      <span title="Requests in flight">in flight {of(g.inFlight, l.concurrency)}</span>
      <span title="Requests started in the last minute">req/min {of(g.rpm, l.rpm)}</span>
      <span title="Tokens in the last minute (estimates corrected by the usage that came back)">
        tok/min {l.tpm === null ? k(g.tpm) : `${k(g.tpm)}/${k(l.tpm)}`}
      </span>
      <span className={g.queued > 0 ? 'spend-warn-text' : 'dim'} data-testid={`governor-queued-${g.key}`}>
        {g.queued} waiting
      </span>
      {g.pausedUntil && (
        <span className="spend-warn-text">paused by the provider until {new Date(g.pausedUntil).toLocaleTimeString()}</span>
      )}
      {!limited && <span className="dim">no limits set (provider.limits, or settings limits.{g.key})</span>}
    </div>
  );
}

export function GovernorKeys() {
  const keys = useStore((s) => s.governor);
  if (keys.length === 0) return null;
  return (
    <div className="governor" data-testid="governor">
      <div className="dim">Rate governor</div>
      {keys.map((g) => (
        <KeyRow key={g.key} g={g} />
      ))}
    </div>
  );
}
