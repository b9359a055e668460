// bench/output: aggregate terminal throughput of N sessions flooding output, delivered through the engine (batcher,
// headless mirror, flow control, WebSocket) to a client that acks — against a baseline of reading the same commands'
// ptys directly with node-pty, in the same process and run. Also the engine's resident memory per session.
//
//   npx tsx bench/output.ts [--sessions 10] [--mb 5]
import { parseArgs } from 'node:util';
import { rmSync } from 'node:fs';
import * as pty from 'node-pty';
import WebSocket from 'ws';
import { Engine } from '../electron/engine/engine.ts';
import { EngineClient, type WebSocketCtor } from '../electron/shared/client.ts';
import type { EngineEvent } from '../electron/shared/contract.ts';
import { floodCommand, floodPtyBytes } from '../test/fixtures/flood.ts';
import { makeRepo, tempDir } from '../test/fixtures/repo.ts';
import { TICKS_PER_SEC, cpuTicks, machineBusyTicks } from './proc.ts';

const { values } = parseArgs({ options: { sessions: { type: 'string', default: '10' }, mb: { type: 'string', default: '5' } } });
const N = Number(values.sessions);
const BYTES = Math.round(Number(values.mb) * 1024 * 1024);
// Each child waits for a line on stdin, then floods: every reader is attached before the first byte.
// It lingers after its last write because Linux drops output still queued in a pty when its session leader exits.
const flood = floodCommand(BYTES, { lingerMs: 1500 });
const script = `process.stdin.once('data', () => { process.stdin.pause(); ${flood.args[1]} });`;
const args = ['-e', script, ...flood.args.slice(2)];
// What a reader sees per session: the flood (ONLCR doubles as \r\n) plus the echoed "go\r\n".
const expected = floodPtyBytes(BYTES) + 4;
const mb = (n: number) => n / 1024 / 1024;
const rss = () => process.memoryUsage().rss;

/** Aggregate MB/s, and CPU seconds per MB: the whole machine's, and this process's (the engine's, or the reader's). */
interface Rate {
  mbps: number;
  cpuPerMb: number;
  ownCpuPerMb: number;
}

async function direct(): Promise<Rate> {
  const terms = Array.from({ length: N }, () =>
    pty.spawn(flood.command, args, { cols: 120, rows: 32, cwd: process.cwd(), env: process.env as Record<string, string> }),
  );
  const got = new Array<number>(N).fill(0);
  let lastByteAt = 0;
  const done = new Promise<void>((resolve) => {
    terms.forEach((t, i) =>
      t.onData((d) => {
        got[i]! += Buffer.byteLength(d);
        lastByteAt = performance.now();
        if (got.every((g) => g >= expected)) resolve();
      }),
    );
  });
  await new Promise((r) => setTimeout(r, 300));
  const t0 = performance.now();
  const busy0 = machineBusyTicks();
  const own0 = cpuTicks([process.pid]);
  for (const t of terms) t.write('go\r');
  await done;
  const secs = (lastByteAt - t0) / 1000;
  const total = mb(got.reduce((a, b) => a + b, 0));
  const rate = {
    mbps: total / secs,
    cpuPerMb: (machineBusyTicks() - busy0) / TICKS_PER_SEC / total,
    ownCpuPerMb: (cpuTicks([process.pid]) - own0) / TICKS_PER_SEC / total,
  };
  for (const t of terms) t.kill();
  return rate;
}

async function throughEngine(): Promise<Rate & { rssPerSessionMb: number; rssAfterPerSessionMb: number }> {
  const repo = makeRepo();
  const dataDir = tempDir('flotilla-bench-');
  const engine = await Engine.create({ dataDir });
  const client = await EngineClient.connect(engine.wsUrl, WebSocket as unknown as WebSocketCtor);
  const rssBefore = rss();
  const { sessions } = await engine.call('launch', {
    templateText: JSON.stringify({
      name: 'bench-output',
      repo,
      workspace: 'shared',
      count: N,
      agent: { preset: 'shell', command: flood.command, args },
      provider: { preset: 'custom', baseUrl: 'http://127.0.0.1:9' },
    }),
  });
  const got = new Array<number>(N).fill(0);
  let lastByteAt = 0;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  await Promise.all(
    sessions.map((s, i) =>
      client.subscribe(s.id, {
        onData: (data, consumed) => {
          got[i]! += data.length;
          lastByteAt = performance.now();
          consumed(data.length);
          if (got.every((g) => g >= expected)) resolveDone();
        },
      }),
    ),
  );
  let peak = rss();
  const sampler = setInterval(() => (peak = Math.max(peak, rss())), 20);
  await new Promise((r) => setTimeout(r, 300));
  const t0 = performance.now();
  const busy0 = machineBusyTicks();
  const own0 = cpuTicks([process.pid]);
  for (const s of sessions) await client.call('input', { sessionId: s.id, data: 'go\r' });
  await done;
  const secs = (lastByteAt - t0) / 1000;
  const total = mb(got.reduce((a, b) => a + b, 0));
  const cpuPerMb = (machineBusyTicks() - busy0) / TICKS_PER_SEC / total;
  const ownCpuPerMb = (cpuTicks([process.pid]) - own0) / TICKS_PER_SEC / total;
  clearInterval(sampler);
  const ended = new Promise<void>((resolve) =>
    engine.on('event', (e: EngineEvent) => e.event === 'run' && e.run.state === 'ended' && resolve()),
  );
  await ended;
  const after = rss();
  client.close();
  await engine.close();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(repo, { recursive: true, force: true });
  return {
    mbps: total / secs,
    cpuPerMb,
    ownCpuPerMb,
    rssPerSessionMb: mb(peak - rssBefore) / N,
    rssAfterPerSessionMb: mb(after - rssBefore) / N,
  };
}

console.log(`bench/output: ${N} sessions × ${mb(BYTES).toFixed(1)} MB each (Node ${process.version})`);
const base = await direct();
const eng = await throughEngine();
const ms = (r: Rate) =>
  `${(r.cpuPerMb * 1000).toFixed(0)} ms CPU per MB (machine), ${(r.ownCpuPerMb * 1000).toFixed(0)} ms of it this process's`;
console.log(`direct pty read (baseline):           ${base.mbps.toFixed(1)} MB/s aggregate, ${ms(base)}`);
console.log(`engine → WebSocket client with acks:  ${eng.mbps.toFixed(1)} MB/s aggregate, ${ms(eng)}`);
console.log(`ratio engine / direct:                ${(eng.mbps / base.mbps).toFixed(2)}`);
// With every core busy, throughput ≈ cores / CPU per MB: what the engine adds per MB bounds the ratio.
console.log(`ratio bound by CPU (direct CPU/MB ÷ engine CPU/MB): ${(base.cpuPerMb / eng.cpuPerMb).toFixed(2)}`);
console.log(
  `engine resident memory per session:   ${eng.rssPerSessionMb.toFixed(1)} MB at peak, ${eng.rssAfterPerSessionMb.toFixed(1)} MB after the flood`,
);
process.exit(0);
