// A host that fails, through the real proxy and meter: refused, reset after a few events, silent mid-stream, a 500
// HTML page, malformed events, an answer past the size limit. For each: the agent gets an error in its API's format,
// the ledger row is failed ('error') or cut short ('partial') with the usage seen, the session's last error says what
// happened in words (what the tile shows), and no socket or timer is left behind.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Meter, MeterProxy, SpendLedger, effectivePrices } from '../../electron/engine/meter/index.ts';
import { Store } from '../../electron/engine/store/index.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { useEngines } from '../fixtures/engine.ts';
import { FAULT_INPUT_TOKENS, type Fault, type FaultyHost, startFaultyHost } from '../fixtures/faulty-host.ts';
import { makeRepo, tempDir } from '../fixtures/repo.ts';
import { waitFor } from '../fixtures/wait.ts';

const IDLE_MS = 1_000;
const MAX_BYTES = 1024 * 1024;
let host: FaultyHost;
let store: Store;
let proxy: MeterProxy;
let meter: Meter;
let server: http.Server;
let port = 0;

beforeAll(async () => {
  host = await startFaultyHost();
  store = Store.open(tempDir('flotilla-faults-'), { exclusive: true });
  proxy = new MeterProxy({ idleTimeoutMs: IDLE_MS, maxResponseBytes: MAX_BYTES });
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
  await host.close();
});

/** Sockets and timers this process holds now. */
function handles(): { sockets: number; timers: number } {
  const n: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) n[r] = (n[r] ?? 0) + 1;
  return { sockets: n.TCPSocketWrap ?? 0, timers: n.Timeout ?? 0 };
}

const proxyConnections = () => new Promise<number>((r, j) => server.getConnections((err, n) => (err ? j(err) : r(n))));

/** One streamed Anthropic request as an agent sends it (its own connection, closed after). */
function ask(token: string): Promise<{ status: number; body: string; cut: boolean }> {
  const body = JSON.stringify({
    model: 'kimi-k2.6',
    max_tokens: 1000,
    stream: true,
    messages: [{ role: 'user', content: [{ type: 'text', text: 'hello' }] }],
  });
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path: `/s/${token}/v1/messages`,
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        const done = (cut: boolean) => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString('utf8'), cut });
        res.on('end', () => done(false));
        res.on('aborted', () => done(true));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** The last SSE event of a body: its type and JSON. */
function lastEvent(body: string): { event: string; data: any } {
  const events = body.split('\n\n').filter((e) => e.trim());
  const last = events.at(-1)!;
  return { event: /^event: (.+)$/m.exec(last)?.[1] ?? '', data: JSON.parse(/^data: (.+)$/m.exec(last)![1]!) };
}

let n = 0;
/** A fresh session routed to `upstream`, the fault armed, one request; then everything it opened must be gone. */
async function faultCase(fault: Fault | null, upstream = host.url) {
  const id = `s${++n}`;
  meter.addSession({ sessionId: id, runId: 'r', style: 'anthropic', model: 'kimi-k2.6', budgetUsd: null });
  proxy.register(`tok-${id}`, { sessionId: id, upstreamBaseUrl: upstream, apiKey: 'sk-faults', style: 'anthropic' });
  if (fault) host.arm(fault);
  const before = handles();
  const answer = await ask(`tok-${id}`);
  const row = await waitFor(() => {
    const r = store.listSessionUsage(id)[0];
    return r && r.state !== 'open' ? r : null;
  }, `the ledger row of ${id} to close`);
  const spend = meter.sessionSpend(id)!;
  await waitFor(
    async () => {
      const h = handles();
      return (
        (await host.connections()) === 0 && (await proxyConnections()) === 0 && h.sockets <= before.sockets && h.timers <= before.timers
      );
    },
    `every socket and timer of ${id} to be gone (before: ${JSON.stringify(before)})`,
  );
  proxy.unregister(`tok-${id}`);
  return { answer, row, error: spend.lastError };
}

describe('upstream faults through the proxy', () => {
  it('connection refused: a 502 in Anthropic format, a failed row, "could not reach" on the tile', async () => {
    const { answer, row, error } = await faultCase(null, host.refusedUrl);
    expect(answer.status).toBe(502);
    const body = JSON.parse(answer.body);
    expect(body).toMatchObject({ type: 'error', error: { type: 'api_error' } });
    expect(body.error.message).toMatch(/could not reach the upstream http:\/\/127\.0\.0\.1:\d+\/v1\/messages: ECONNREFUSED/);
    expect(row).toMatchObject({ state: 'error', inputTokens: 0, outputTokens: 0 });
    expect(error).toMatchObject({ kind: 'unreachable' });
    expect(error!.message).toMatch(/ECONNREFUSED/);
  });

  it('reset after a few events: the stream ends with an error event, a partial row with the usage seen', async () => {
    const { answer, row, error } = await faultCase({ kind: 'reset', afterEvents: 5 });
    expect(answer.status).toBe(200);
    expect(answer.body).toContain('word4');
    expect(lastEvent(answer.body)).toMatchObject({ event: 'error', data: { type: 'error', error: { type: 'api_error' } } });
    expect(lastEvent(answer.body).data.error.message).toMatch(/failed mid-answer: ECONNRESET|closed the connection mid-answer/);
    expect(row).toMatchObject({ state: 'partial', inputTokens: FAULT_INPUT_TOKENS });
    expect(row.outputTokens).toBeGreaterThan(0);
    expect(error).toMatchObject({ kind: 'unreachable' });
  });

  it(`a stream that stops sending: given up after ${IDLE_MS} ms with an error event, a partial row`, async () => {
    const { answer, row, error } = await faultCase({ kind: 'silent', afterEvents: 2 });
    expect(lastEvent(answer.body)).toMatchObject({ event: 'error', data: { error: { type: 'api_error' } } });
    expect(lastEvent(answer.body).data.error.message).toMatch(/^no byte from http:\/\/127\.0\.0\.1:\d+ for 1 s — Flotilla gave up on it$/);
    expect(row).toMatchObject({ state: 'partial', inputTokens: FAULT_INPUT_TOKENS });
    expect(error!.message).toMatch(/no byte from .* for 1 s/);
  });

  it('a 500 with an HTML page: the agent gets the 500 as an API error naming the page, a failed row', async () => {
    const { answer, row, error } = await faultCase({ kind: 'html500' });
    expect(answer.status).toBe(500);
    const body = JSON.parse(answer.body);
    expect(body).toMatchObject({ type: 'error', error: { type: 'api_error' } });
    expect(body.error.message).toMatch(/answered 500 with an HTML page \("500 Internal Server Error"\) instead of an API error/);
    expect(row).toMatchObject({ state: 'error', httpStatus: 500 });
    expect(error!.message).toBe(body.error.message);
  });

  it('malformed events: passed on as they came, a partial row with the usage seen, "malformed" on the tile', async () => {
    const { answer, row, error } = await faultCase({ kind: 'malformed' });
    expect(answer.status).toBe(200);
    expect(answer.body).toContain('{oops 2');
    expect(row).toMatchObject({ state: 'partial', inputTokens: FAULT_INPUT_TOKENS });
    expect(error).toMatchObject({ kind: 'bad_response' });
    expect(error!.message).toMatch(/stream could not be read \(3 malformed events\)/);
  });

  it('an answer past the size limit: cut with an error event, a partial row', async () => {
    const { answer, row, error } = await faultCase({ kind: 'huge', bytes: 8 * MAX_BYTES });
    expect(answer.body.length).toBeLessThan(MAX_BYTES + 64 * 1024);
    expect(lastEvent(answer.body).data.error.message).toMatch(/passed 1 MB — Flotilla cut it off/);
    expect(row).toMatchObject({ state: 'partial', inputTokens: FAULT_INPUT_TOKENS });
    expect(row.outputTokens).toBeGreaterThan(1000);
    expect(error).toMatchObject({ kind: 'bad_response' });
  });
});

describe('Claude Code through a failing host', () => {
  const env = useEngines({ key: 'sk-faults-cc', keyEnv: 'FAULTS_KEY' });
  it('reads the errors, retries, and finishes its task; the ledger has the failed rows and the good one', async () => {
    const flaky = await startFaultyHost(env.upstream().anthropicBaseUrl.replace(/\/anthropic$/, ''));
    try {
      const e = await env.engine();
      flaky.arm({ kind: 'html500' });
      flaky.arm({ kind: 'reset', afterEvents: 3 });
      const { run } = await e.call('launch', {
        templateText: `
name: flaky
repo: ${makeRepo()}
agent: { preset: claude-code-batch }
provider: { preset: custom, baseUrl: "${flaky.url}/anthropic", apiKeyEnv: FAULTS_KEY }
model: kimi-k2.6
tasks: ${JSON.stringify(['WRITE flaky.txt made it\nSAY done'])}
`,
      });
      await e.waitForRun(run.id);
      const s = e.registry.listSessions(run.id)[0]!;
      expect(s.status).toBe('done');
      expect(readFileSync(join(s.worktree, 'flaky.txt'), 'utf8')).toBe('made it');
      const states = e.ledger.sessionRows(s.id).map((r) => r.state);
      expect(states.slice(0, 2)).toEqual(['error', 'partial']);
      expect(states.slice(2).every((x) => x === 'exact')).toBe(true);
    } finally {
      await flaky.close();
    }
  }, 240_000);
});
