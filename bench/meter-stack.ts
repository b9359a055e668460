// The meter as the engine wires it, in this process, for benches: an exclusive store, the ledger, MeterProxy + Meter
// and an http.Server on loopback handing /s/ to the proxy, with one run ('r') to add sessions to.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Meter, MeterProxy, SpendLedger, effectivePrices, type MeterOptions } from '../electron/engine/meter/index.ts';
import { Store } from '../electron/engine/store/index.ts';

export interface MeterStack {
  meter: Meter;
  proxy: MeterProxy;
  port: number;
  close(): void;
}

export async function startMeterStack(name: string, opts: MeterOptions = {}): Promise<MeterStack> {
  const dir = mkdtempSync(join(tmpdir(), `flotilla-bench-${name}-`));
  const store = Store.open(dir, { exclusive: true });
  const proxy = new MeterProxy();
  const meter = new Meter(new SpendLedger(store), proxy, opts);
  meter.addRun({ runId: 'r', budgetUsd: null, prices: effectivePrices({}), referenceModel: 'claude-sonnet-4-5' });
  const server = http.createServer((req, res) => (proxy.handle(req, res) ? undefined : void res.writeHead(404).end()));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    meter,
    proxy,
    port: (server.address() as AddressInfo).port,
    close() {
      server.close();
      meter.close();
      proxy.destroy();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
