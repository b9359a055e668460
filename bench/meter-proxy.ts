// bench/meter-proxy: the engine side of bench/meter.ts in its own process, wired as electron/engine/engine.ts does
// (Store.open exclusive → SpendLedger → MeterProxy → Meter; addRun, addSession, proxy.register; an http.Server hands
// /s/ paths to proxy.handle first), plus a BARE MeterProxy (no Meter tap, same tokens) on a second port, and a FLOOR (a
// minimal Node pass-through: request and answer piped, nothing else) on a third.
//   node --import tsx bench/meter-proxy.ts '{"upstreamBaseUrl":…,"apiKey":…,"sessions":10,"model":…}'
// Ready line: {meteredPort, barePort, floorPort, tokens}. Commands: mark (CPU / loop delay since the last mark); report (closes the
// meter, answers the ledger's rows, exact rows, totals and the meter's run spend).
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { Meter, MeterProxy, SpendLedger, effectivePrices } from '../electron/engine/meter/index.ts';
import { Store, ensureDataDir } from '../electron/engine/store/index.ts';
import { serveChild } from './meter-ipc.ts';

const cfg = JSON.parse(process.argv[2] ?? '{}') as { upstreamBaseUrl: string; apiKey: string; sessions: number; model: string };

async function listen(proxy: MeterProxy): Promise<{ server: http.Server; port: number }> {
  const server = http.createServer((req, res) => {
    if (proxy.handle(req, res)) return;
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port };
}

const tmp = mkdtempSync(join(tmpdir(), 'flotilla-bench-meter-'));
const dataDir = await ensureDataDir(join(tmp, 'data'));
const store = Store.open(dataDir, { exclusive: true });
const ledger = new SpendLedger(store);
const proxy = new MeterProxy();
const meter = new Meter(ledger, proxy);
const runId = 'bench-run';
meter.addRun({ runId, budgetUsd: 10_000, prices: effectivePrices({}), referenceModel: 'claude-sonnet-4-5' });
const bareProxy = new MeterProxy();
const tokens: string[] = [];
for (let s = 0; s < cfg.sessions; s++) {
  const sessionId = `bench-session-${s + 1}`;
  const token = `tok${s + 1}-${Math.random().toString(36).slice(2, 14)}`;
  tokens.push(token);
  meter.addSession({ sessionId, runId, style: 'anthropic', model: cfg.model, budgetUsd: 1_000 });
  const route = { sessionId, upstreamBaseUrl: cfg.upstreamBaseUrl, apiKey: cfg.apiKey, style: 'anthropic' as const };
  proxy.register(token, route);
  bareProxy.register(token, { ...route });
}
const metered = await listen(proxy);
const bare = await listen(bareProxy);

// The FLOOR: the least a Node hop can do — the request and the answer piped, the session's token swapped for the key,
// nothing parsed, nothing recorded — with the same keep-alive pooling the proxy uses. What bare and metered are held to.
const upstreamBase = new URL(cfg.upstreamBaseUrl);
const floorAgent = new http.Agent({ keepAlive: true, maxSockets: 256, scheduling: 'lifo' });
const floorServer = http.createServer((req, res) => {
  const rest = (req.url ?? '/').replace(/^\/s\/[^/]+/, '');
  const headers = { ...req.headers, host: upstreamBase.host, 'x-api-key': cfg.apiKey };
  const up = http.request(
    {
      host: upstreamBase.hostname,
      port: upstreamBase.port,
      method: req.method,
      path: upstreamBase.pathname.replace(/\/$/, '') + rest,
      headers,
      agent: floorAgent,
    },
    (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      upRes.pipe(res);
    },
  );
  up.on('error', () => res.destroy());
  req.pipe(up);
});
await new Promise<void>((r) => floorServer.listen(0, '127.0.0.1', r));
const floorPort = (floorServer.address() as AddressInfo).port;

serveChild(
  { meteredPort: metered.port, barePort: bare.port, floorPort, tokens },
  {
    report: () => {
      meter.close();
      const rows = ledger.rows(runId);
      const spend = meter.runSpend(runId);
      return {
        rows: rows.length,
        exact: rows.filter((r) => r.state === 'exact').length,
        totals: ledger.totals({ runId }),
        spendRequests: spend?.requests ?? -1,
      };
    },
  },
  async () => {
    meter.close();
    floorAgent.destroy();
    for (const s of [metered.server, bare.server, floorServer]) {
      s.closeAllConnections();
      s.close();
    }
    proxy.destroy();
    bareProxy.destroy();
    store.close();
    rmSync(tmp, { recursive: true, force: true });
  },
);
