// A run of several providers in the Spend panel: per provider, what it answered, how fast (medians of time to first
// token and output rate), what it cost, its errors and the requests it passed on to another provider. Read from the run's
// ledger, again each time the run's request count moves (no polling).
import { useEffect, useState } from 'react';
import { type ProviderFigures, providerTable } from '../../../../electron/shared/provider-table.ts';
import { spend as spendApi } from '../../api/index.ts';
import { useStore } from '../../store/index.ts';
import { usd } from '../../ui/format.ts';

export function ProvidersTable({ runId }: { runId: string }) {
  const requests = useStore((s) => s.runSpend.get(runId)?.requests ?? 0);
  const [rows, setRows] = useState<ProviderFigures[]>([]);
  useEffect(() => {
    let live = true;
    spendApi
      .ledger(runId)
      .then((ledger) => live && setRows(providerTable(ledger)))
      .catch(() => {});
    return () => {
      live = false;
    };
  }, [runId, requests]);
  if (rows.length === 0) return null;
  return (
    <table className="providers-table" data-testid="providers-table">
      <caption>Providers</caption>
      <thead>
        <tr>
          <th>provider</th>
          <th title="Requests it answered">req</th>
          <th title="Median time to first token">TTFT p50</th>
          <th title="Median output tokens per second">tok/s p50</th>
          <th>$</th>
          <th title="Errors the agents saw">errors</th>
          <th title="Requests that failed before the first byte and went on to another provider">failovers</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.provider} data-testid={`provider-row-${r.provider}`}>
            <td>
              <code>{r.provider}</code>
            </td>
            <td>{r.requests}</td>
            <td>{r.ttftP50Ms === null ? '—' : `${Math.round(r.ttftP50Ms)} ms`}</td>
            <td>{r.tokensPerSecP50 === null ? '—' : r.tokensPerSecP50.toFixed(0)}</td>
            <td>{usd(r.usd)}</td>
            <td className={r.errors ? 'spend-warn-text' : undefined}>{r.errors}</td>
            <td>{r.failovers}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
