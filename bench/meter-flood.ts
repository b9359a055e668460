// bench/meter-flood (`bench/meter --flood 5`): does a session flooding its terminal slow the meter down for the others?
// A real Engine in its own process (bench/meter-flood-engine.ts: meter, pty host, API, store), the stand-in provider in
// another; here, 10 paced sessions each send a streaming request through the engine's meter every PACE ms, and a
// dashboard-like WebSocket client watches 5 more sessions and acks what they print. Phases alternate quiet | flood |
// quiet | flood (in a flood phase the 5 agents write as fast as their ptys take it); per phase the time to the first
// byte of each metered answer. Printed: p50 / p99 per kind of phase, and the ratio flood / quiet of the p99.
// Target (issue 12): ratio ≤ 1.2.
//
//   npx tsx bench/meter.ts --flood 5 [--sessions 10] [--requests 40]     (or: npx tsx bench/meter-flood.ts --flood 5)
import http from 'node:http';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { EngineClient, type WebSocketCtor } from '../electron/shared/client.ts';
import { startChild, type Child } from './meter-ipc.ts';

const TARGET_RATIO = 1.2;
const PACE_MS = 50;
const API_KEY = 'sk-bench-upstream';

export async function floodBench(argv: string[]): Promise<boolean> {
  const { values } = parseArgs({
    args: argv,
    strict: false,
    options: {
      flood: { type: 'string', default: '5' },
      sessions: { type: 'string', default: '10' },
      requests: { type: 'string', default: '40' },
    },
  });
  const FLOOD = Number(values.flood);
  const N = Number(values.sessions);
  const R = Number(values.requests);
  for (const [k, v] of Object.entries({ flood: FLOOD, sessions: N, requests: R }))
    if (!Number.isInteger(v) || v < 1) throw new Error(`--${k} must be a positive integer`);

  const kids: Child[] = [];
  try {
    const upstream = await startChild('./meter-upstream.ts', [API_KEY], 'upstream');
    kids.push(upstream);
    const engine = await startChild(
      './meter-flood-engine.ts',
      [
        JSON.stringify({
          upstreamBaseUrl: String(upstream.ready.anthropicBaseUrl),
          apiKey: API_KEY,
          paced: N,
          flood: FLOOD,
          floodMb: 2000,
        }),
      ],
      'engine',
    );
    kids.push(engine);
    const bases = engine.ready.paced as string[];
    const floodIds = engine.ready.flood as string[];
    const ws = await EngineClient.connect(
      `${String(engine.ready.origin).replace(/^http/, 'ws')}/ws?token=${String(engine.ready.token)}`,
      WebSocket as unknown as WebSocketCtor,
    );
    let floodBytes = 0;
    for (const id of floodIds)
      await ws.subscribe(id, {
        onData: (data, consumed) => {
          floodBytes += data.length;
          consumed(data.length);
        },
      });
    const agent = new http.Agent({ keepAlive: true, maxSockets: N * 2 });
    const body = Buffer.from(
      JSON.stringify({ model: 'kimi-k2.6', max_tokens: 1024, stream: true, messages: [{ role: 'user', content: 'SAY paced answer' }] }),
    );
    const ttfb = (base: string): Promise<number> =>
      new Promise((resolve, reject) => {
        const u = new URL(`${base}/v1/messages`);
        const t0 = performance.now();
        const req = http.request(
          {
            host: u.hostname,
            port: u.port,
            path: u.pathname,
            method: 'POST',
            agent,
            headers: { 'content-type': 'application/json', 'content-length': body.length, 'x-api-key': 'x' },
          },
          (res) => {
            let first = 0;
            res.on('data', () => (first ||= performance.now() - t0));
            res.on('end', () => (res.statusCode === 200 ? resolve(first) : reject(new Error(`HTTP ${res.statusCode}`))));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    const phase = async (): Promise<number[]> => {
      const out: number[] = [];
      await Promise.all(
        bases.map(async (base) => {
          for (let i = 0; i < R; i++) {
            out.push(await ttfb(base));
            await new Promise((r) => setTimeout(r, PACE_MS));
          }
        }),
      );
      return out;
    };
    const startFlood = async () => {
      for (const id of floodIds) await ws.call('restart', { sessionId: id });
      await new Promise((r) => setTimeout(r, 300));
      const before = floodBytes;
      for (const id of floodIds) await ws.call('input', { sessionId: id, data: 'go\r' });
      while (floodBytes - before < 5_000_000) await new Promise((r) => setTimeout(r, 20));
    };
    const stopFlood = async () => {
      for (const id of floodIds) await ws.call('stop', { sessionId: id });
    };

    await phase(); // warm-up
    const loops = { quiet: [] as number[], flood: [] as number[] };
    const cpu = { quiet: 0, flood: 0 };
    const quiet: number[] = [];
    const flooded: number[] = [];
    let floodMb = 0;
    let floodSecs = 0;
    for (let round = 0; round < 2; round++) {
      await engine.mark();
      quiet.push(...(await phase()));
      let m = await engine.mark();
      loops.quiet.push(m.loopP99Ms);
      cpu.quiet += m.cpuMs;
      await startFlood();
      await engine.mark();
      const b0 = floodBytes;
      const t0 = performance.now();
      flooded.push(...(await phase()));
      m = await engine.mark();
      loops.flood.push(m.loopP99Ms);
      cpu.flood += m.cpuMs;
      floodMb += (floodBytes - b0) / 1048576;
      floodSecs += (performance.now() - t0) / 1000;
      await stopFlood();
    }
    ws.close();
    agent.destroy();
    const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
    const ratio = pct(flooded, 99) / pct(quiet, 99);
    console.log(
      `bench/meter --flood ${FLOOD}: ${N} paced sessions × ${R} requests per phase (one every ${PACE_MS} ms), ${FLOOD} sessions flooding, phases quiet|flood ×2`,
    );
    const worst = (xs: number[]) => Math.max(...xs).toFixed(1);
    console.log(`phase   requests   TTFB p50   TTFB p99   engine main-thread loop delay p99   engine CPU (all threads)`);
    console.log(
      `quiet   ${String(quiet.length).padStart(8)}   ${pct(quiet, 50).toFixed(2).padStart(6)} ms  ${pct(quiet, 99).toFixed(2).padStart(6)} ms   ${worst(loops.quiet).padStart(6)} ms                           ${(cpu.quiet / 1000).toFixed(1)} s`,
    );
    console.log(
      `flood   ${String(flooded.length).padStart(8)}   ${pct(flooded, 50).toFixed(2).padStart(6)} ms  ${pct(flooded, 99).toFixed(2).padStart(6)} ms   ${worst(loops.flood).padStart(6)} ms                           ${(cpu.flood / 1000).toFixed(1)} s`,
    );
    console.log(`the floods delivered ${(floodMb / floodSecs).toFixed(1)} MB/s to the watching client during the flood phases`);
    const ok = ratio <= TARGET_RATIO;
    console.log(`ratio flood / quiet, TTFB p99: ${ratio.toFixed(2)}   target ≤ ${TARGET_RATIO}   ${ok ? 'PASS' : 'FAIL'}`);
    return ok;
  } finally {
    for (const k of kids.reverse()) await k.stop().catch(() => {});
  }
}

if (import.meta.url === `file://${process.argv[1]}`) process.exit((await floodBench(process.argv.slice(2))) ? 0 : 1);
