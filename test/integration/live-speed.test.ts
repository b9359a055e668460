// Speed you can see: while a slow answer streams, the session's spend events already carry an output rate (a tile
// showed "— t/s" until the first request ended); when it ends the exact rate replaces the live one.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Meter, MeterProxy, SpendLedger, effectivePrices } from '../../electron/engine/meter/index.ts';
import { Store } from '../../electron/engine/store/index.ts';
import type { EngineEvent, SessionSpend } from '../../electron/shared/contract.ts';
import { tempDir } from '../fixtures/repo.ts';
import { type Upstream, startUpstream } from '../upstream/index.ts';

const KEY = 'sk-live-speed';
let upstream: Upstream;
let store: Store;
let proxy: MeterProxy;
let meter: Meter;
let server: http.Server;
let port = 0;

beforeAll(async () => {
  upstream = await startUpstream({ apiKey: KEY });
  store = Store.open(tempDir('flotilla-live-speed-'), { exclusive: true });
  proxy = new MeterProxy();
  meter = new Meter(new SpendLedger(store), proxy);
  meter.addRun({ runId: 'r', budgetUsd: null, prices: effectivePrices({}), referenceModel: 'claude-sonnet-4-5' });
  server = http.createServer((req, res) => (proxy.handle(req, res) ? undefined : void res.writeHead(404).end()));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  meter.close();
  proxy.destroy();
  store.close();
  await upstream.close();
});

describe('live output rate', () => {
  it('shows tokens/s while a slow answer streams, then the exact rate', async () => {
    meter.addSession({ sessionId: 's1', runId: 'r', style: 'anthropic', model: 'kimi-k2.6', budgetUsd: null });
    proxy.register('tok', { sessionId: 's1', upstreamBaseUrl: upstream.url, apiKey: KEY, style: 'anthropic' });
    const seen: Array<{ at: number; spend: SessionSpend }> = [];
    meter.on('event', (e: EngineEvent) => {
      if (e.event === 'spend' && e.spend.sessionId === 's1') seen.push({ at: Date.now(), spend: e.spend });
    });
    const res = await fetch(`http://127.0.0.1:${port}/s/tok/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer tok' },
      body: JSON.stringify({
        model: 'kimi-k2.6',
        max_tokens: 4000,
        stream: true,
        tools: [{ name: 'Write', input_schema: { type: 'object' } }],
        messages: [{ role: 'user', content: [{ type: 'text', text: 'LONG 400\nSLOW 15' }] }],
      }),
    });
    await res.arrayBuffer();
    const ended = Date.now();
    const live = seen.filter((x) => x.at < ended && x.spend.tokensPerSec !== null);
    expect(live.length).toBeGreaterThan(0);
    expect(live[0]!.spend.tokensPerSec!).toBeGreaterThan(0);
    // After the end: the figure from the settled request (its exact output tokens over its streaming time).
    const final = await new Promise<SessionSpend>((resolve) => {
      const check = () => {
        const s = meter.sessionSpend('s1');
        if (s && s.requests === 1) resolve(s);
        else setTimeout(check, 20);
      };
      check();
    });
    expect(final.tokensPerSec!).toBeGreaterThan(0);
  });
});
