// An engine killed in the first second of a response keeps that request's input tokens: the usage of Anthropic's
// message_start reaches the ledger the moment it passes the meter, not with the next once-a-second progress write.
// The meter runs in a child process (store, ledger, proxy, meter, as the engine wires them) that is SIGKILLed as soon
// as the client has the message_start — the meter handles a chunk before relaying it, so the write has happened.
import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../../electron/engine/store/index.ts';
import { tempDir } from '../fixtures/repo.ts';

const PROJECT = resolve(import.meta.dirname, '../..');
const module = (p: string) => JSON.stringify(pathToFileURL(join(PROJECT, p)).href);

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

const MESSAGE_START = {
  type: 'message_start',
  message: {
    id: 'msg_1',
    type: 'message',
    role: 'assistant',
    model: 'kimi-k2.6',
    content: [],
    stop_reason: null,
    usage: { input_tokens: 1234, cache_read_input_tokens: 50_000, cache_creation_input_tokens: 0, output_tokens: 1 },
  },
};

describe('a crash right after message_start', () => {
  it('leaves an interrupted row with the input tokens message_start reported', async () => {
    // An upstream that starts the stream and then never finishes it.
    const upstream = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`event: message_start\ndata: ${JSON.stringify(MESSAGE_START)}\n\n`);
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    cleanups.push(() => {
      upstream.closeAllConnections();
      upstream.close();
    });
    const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;

    const dataDir = tempDir('flotilla-crash-');
    const script = join(tempDir('flotilla-crash-script-'), 'meter-child.mts');
    writeFileSync(
      script,
      `import http from 'node:http';
import { Store } from ${module('electron/engine/store/index.ts')};
import { Meter, MeterProxy, SpendLedger, effectivePrices } from ${module('electron/engine/meter/index.ts')};
const [dataDir, upstreamBaseUrl] = process.argv.slice(2);
const store = Store.open(dataDir, { exclusive: true });
const ledger = new SpendLedger(store);
const proxy = new MeterProxy();
const meter = new Meter(ledger, proxy);
meter.addRun({ runId: 'run-1', budgetUsd: null, prices: effectivePrices({}), referenceModel: 'claude-sonnet-4-5' });
meter.addSession({ sessionId: 's-1', runId: 'run-1', style: 'anthropic', model: 'kimi-k2.6', budgetUsd: null });
proxy.register('tok', { sessionId: 's-1', upstreamBaseUrl, apiKey: 'sk-x', style: 'anthropic' });
const server = http.createServer((req, res) => { if (!proxy.handle(req, res)) res.writeHead(404).end(); });
server.listen(0, '127.0.0.1', () => process.stdout.write('ready ' + server.address().port + '\\n'));
`,
    );
    const child = spawn(process.execPath, ['--import', 'tsx', script, dataDir, upstreamUrl], {
      cwd: PROJECT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    cleanups.push(() => child.kill('SIGKILL'));
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    const port = await new Promise<number>((res, rej) => {
      child.stdout.on('data', (d) => {
        const m = /ready (\d+)/.exec(String(d));
        if (m) res(Number(m[1]));
      });
      child.once('exit', (code) => rej(new Error(`the meter child exited (${code}) before it was ready: ${stderr}`)));
    });

    // The agent's request; the child dies the moment the message_start is through.
    await new Promise<void>((res, rej) => {
      const req = http.request(
        { host: '127.0.0.1', port, method: 'POST', path: '/s/tok/v1/messages', headers: { 'content-type': 'application/json' } },
        (r) => {
          let seen = '';
          r.on('data', (chunk) => {
            seen += chunk;
            if (seen.includes('message_start')) {
              child.kill('SIGKILL');
              res();
            }
          });
          r.on('error', () => {});
        },
      );
      req.on('error', (err) => (child.exitCode === null && child.signalCode === null ? rej(err) : undefined));
      req.end(JSON.stringify({ model: 'kimi-k2.6', max_tokens: 100, stream: true, messages: [{ role: 'user', content: 'hi' }] }));
    });
    await exited;

    const store = Store.open(dataDir, { exclusive: true });
    cleanups.unshift(() => store.close());
    expect(store.interruptOpenUsage()).toBe(1);
    const [row] = store.listUsage('run-1');
    expect(row).toMatchObject({ state: 'interrupted', model: 'kimi-k2.6', inputTokens: 1234, cacheReadTokens: 50_000 });
    expect(row!.usd).toBeGreaterThan(0);
  });
});
