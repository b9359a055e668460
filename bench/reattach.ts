// bench/reattach: sessions outlive their clients. `flotilla open` starts a detached engine on a fresh data dir, ten
// sessions are launched and print 2 000 lines each, a client attaches (the baseline: list the sessions, subscribe to
// all ten, every snapshot in), every client goes away, then a new client attaches the same way — as a reopened
// window does. Printed: both attach times, the ratio, whether every snapshot came back with the sessions' last lines.
// Target (issue 12): the grid back within 1 s.
//
//   npx tsx bench/reattach.ts [--sessions 10] [--lines 2000]
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { EngineClient, type WebSocketCtor } from '../electron/shared/client.ts';
import { readEngineFile } from '../electron/engine/daemon.ts';
import { makeRepo, tempDir } from '../test/fixtures/repo.ts';

const { values } = parseArgs({ options: { sessions: { type: 'string', default: '10' }, lines: { type: 'string', default: '2000' } } });
const N = Number(values.sessions);
const LINES = Number(values.lines);
const TARGET_MS = 1000;
const BIN = resolve(import.meta.dirname, '../bin/flotilla.js');
const dataDir = tempDir('flotilla-bench-reattach-');

const flotilla = (...args: string[]) =>
  spawnSync(process.execPath, [BIN, ...args, '--data-dir', dataDir], { encoding: 'utf8', timeout: 90_000 });

/** Connect, list the sessions, subscribe to each: resolves when every snapshot is in, with the time and the snapshots. */
async function attach(url: string): Promise<{ ms: number; client: EngineClient; snaps: Map<string, string> }> {
  const t0 = performance.now();
  const client = await EngineClient.connect(url, WebSocket as unknown as WebSocketCtor);
  const sessions = await client.call('listSessions', {});
  const snaps = new Map<string, string>();
  await Promise.all(
    sessions.map((s) =>
      client.subscribe(s.id, { onSnapshot: (snap) => void snaps.set(s.id, snap.data), onData: (d, consumed) => consumed(d.length) }),
    ),
  );
  return { ms: performance.now() - t0, client, snaps };
}

const open = flotilla('open', '--no-browser');
if (open.status !== 0) throw new Error(`flotilla open failed: ${open.stderr}`);
try {
  const info = (await readEngineFile(dataDir))!;
  const wsUrl = `${info.origin.replace(/^http/, 'ws')}/ws?token=${info.token}`;
  const setup = await EngineClient.connect(wsUrl, WebSocket as unknown as WebSocketCtor);
  const script = `for (let i = 1; i <= ${LINES}; i++) console.log('session output line ' + i + ' ' + 'x'.repeat(60)); console.log('LAST LINE'); setInterval(() => {}, 1000)`;
  const { sessions } = await setup.call('launch', {
    templateText: JSON.stringify({
      name: 'reattach',
      repo: makeRepo(),
      workspace: 'shared',
      count: N,
      agent: { preset: 'shell', command: process.execPath, args: ['-e', script] },
      provider: { preset: 'custom', baseUrl: 'http://127.0.0.1:9' },
    }),
  });
  // Everything printed and parsed by the mirrors before anyone attaches.
  for (;;) {
    const snaps = await Promise.all(sessions.map((s) => setup.call('snapshot', { sessionId: s.id })));
    if (snaps.every((x) => x.data.includes('LAST LINE'))) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  setup.close();

  const first = await attach(wsUrl);
  first.client.close();
  await new Promise((r) => setTimeout(r, 500)); // every client gone
  const again = await attach(wsUrl);
  const complete = [...again.snaps.values()].filter((d) => d.includes('LAST LINE')).length;
  again.client.close();
  const bytes = [...again.snaps.values()].reduce((a, d) => a + d.length, 0);
  console.log(`bench/reattach: ${N} sessions × ${LINES} lines, detached engine (flotilla open)`);
  console.log(`first attach (baseline):  ${first.ms.toFixed(0)} ms`);
  console.log(
    `reattach after all clients left: ${again.ms.toFixed(0)} ms   ratio ${(again.ms / first.ms).toFixed(2)}   (${complete}/${N} snapshots end with the last line, ${(bytes / 1024).toFixed(0)} KB in all)`,
  );
  const ok = again.ms <= TARGET_MS && complete === N;
  console.log(`target: every snapshot back within ${TARGET_MS} ms   ${ok ? 'PASS' : 'FAIL'}`);
  process.exitCode = ok ? 0 : 1;
} finally {
  flotilla('stop');
}
