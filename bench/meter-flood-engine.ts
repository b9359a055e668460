// bench/meter-flood-engine: a real Engine (meter, pty host, API) in its own process, for bench/meter-flood.ts.
//   node --import tsx bench/meter-flood-engine.ts '{"upstreamBaseUrl":…,"apiKey":…,"paced":10,"flood":5,"floodMb":400}'
// Ready line: {origin, token, paced: [proxy base URL per paced session], flood: [session id per flooding session]}.
// Commands: mark (CPU / loop delay since the last mark).
import { Engine } from '../electron/engine/engine.ts';
import { proxyUrl } from '../electron/engine/meter/index.ts';
import { floodCommand } from '../test/fixtures/flood.ts';
import { makeRepo, tempDir } from '../test/fixtures/repo.ts';
import { serveChild } from './meter-ipc.ts';

const o = JSON.parse(process.argv[2] ?? '{}') as { upstreamBaseUrl: string; apiKey: string; paced: number; flood: number; floodMb: number };
const engine = await Engine.create({ dataDir: tempDir('flotilla-bench-flood-'), env: { ...process.env, BENCH_KEY: o.apiKey } });
const repo = makeRepo();
const idle = { preset: 'shell', command: process.execPath, args: ['-e', 'setInterval(() => {}, 1000)'] };
const paced = await engine.call('launch', {
  templateText: JSON.stringify({
    name: 'paced',
    repo,
    workspace: 'shared',
    count: o.paced,
    agent: idle,
    provider: { preset: 'custom', baseUrl: o.upstreamBaseUrl, style: 'anthropic', apiKeyEnv: 'BENCH_KEY' },
    model: 'kimi-k2.6',
  }),
});
// Each flooding agent waits for a line on stdin, then writes floodMb of output as fast as the pty takes it.
const flood = floodCommand(o.floodMb * 1024 * 1024);
const script = `process.stdin.once('data', () => { process.stdin.pause(); ${flood.args[1]} });`;
const flooding = await engine.call('launch', {
  templateText: JSON.stringify({
    name: 'flood',
    repo,
    workspace: 'shared',
    count: o.flood,
    agent: { preset: 'shell', command: flood.command, args: ['-e', script, ...flood.args.slice(2)] },
    provider: { preset: 'custom', baseUrl: 'http://127.0.0.1:9' },
  }),
});
serveChild(
  {
    origin: engine.origin,
    token: engine.token,
    paced: paced.sessions.map((s) => proxyUrl(engine.origin, engine.registry.liveSession(s.id)!.proxyToken)),
    flood: flooding.sessions.map((s) => s.id),
  },
  {},
  () => engine.close(),
);
