// bench/remote: what a host costs over being local. A throwaway sshd on loopback and a throwaway user stand for the
// host (test/fixtures/sshd.ts; needs root), so the network adds ~nothing and the figures are our own hops: the page's
// engine → SSH tunnel → the host's engine → its pty, and back. One engine, in this process, runs ten `cat` sessions
// here and ten on the host (installed and started there by the first launch), and a client of it types one key at a
// time into a session of each, timing each echo (keystroke → the echoed byte back at the client): p50/p99, the host's
// over the local's (the baseline, same run). Then the tunnel is killed: the time until the host is connected again,
// and until all ten of its sessions are re-subscribed with their screens (what the grid does), against the first
// attach of the same ten.
//
//   npx tsx bench/remote.ts [--sessions 10] [--keys 300]
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { Engine } from '../electron/engine/engine.ts';
import { addHost } from '../electron/engine/hosts/index.ts';
import { EngineClient, type WebSocketCtor } from '../electron/shared/client.ts';
import type { SessionInfo } from '../electron/shared/contract.ts';
import { makeRepo, tempDir } from '../test/fixtures/repo.ts';
import { cannotRunSshd, remoteRepo, startSshd } from '../test/fixtures/sshd.ts';

const { values } = parseArgs({ options: { sessions: { type: 'string', default: '10' }, keys: { type: 'string', default: '300' } } });
const N = Number(values.sessions);
const KEYS = Number(values.keys);
if (cannotRunSshd) {
  console.log(`bench/remote: cannot run here: ${cannotRunSshd}`);
  process.exit(2);
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const template = (repo: string) =>
  JSON.stringify({
    name: 'echo',
    repo,
    workspace: 'shared',
    count: N,
    agent: { preset: 'shell', command: 'sh', args: ['-c', 'echo READY; exec cat'] },
    provider: { preset: 'custom', baseUrl: 'http://127.0.0.1:9' },
  });

/** Keystroke → echo round trips through the client, one key at a time. */
async function echoTimes(client: EngineClient, sessionId: string): Promise<number[]> {
  let waiting: { ch: string; resolve: () => void } | null = null;
  const unsub = await client.subscribe(sessionId, {
    onData: (data, consumed) => {
      consumed(data.length);
      if (waiting && Buffer.from(data).toString('latin1').includes(waiting.ch)) waiting.resolve();
    },
  });
  const times: number[] = [];
  for (let i = 0; i < KEYS; i++) {
    const ch = String.fromCharCode(97 + (i % 26));
    const t0 = performance.now();
    await new Promise<void>((resolve) => {
      waiting = { ch, resolve };
      client.send('input', { sessionId, data: ch });
    });
    times.push(performance.now() - t0);
    if (i % 60 === 59) client.send('input', { sessionId, data: '\r' }); // keep cat's line short
    await new Promise((r) => setTimeout(r, 2));
  }
  await unsub();
  return times;
}

/** Subscribes to every session: resolves when each snapshot is in (ms), with the unsubscribe functions. */
async function attachAll(client: EngineClient, sessions: SessionInfo[]) {
  const t0 = performance.now();
  const snaps = new Map<string, string>();
  const unsubs = await Promise.all(
    sessions.map((s) =>
      client.subscribe(s.id, { onSnapshot: (snap) => void snaps.set(s.id, snap.data), onData: (d, consumed) => consumed(d.length) }),
    ),
  );
  return { ms: performance.now() - t0, unsubs, ready: [...snaps.values()].filter((d) => d.includes('READY')).length };
}

const sshd = await startSshd();
let engine: Engine | null = null;
try {
  const user = sshd.addUser();
  process.env.FLOTILLA_SSH_CONFIG = sshd.config;
  const dataDir = tempDir('flotilla-bench-remote-');
  await addHost(dataDir, 'box', user.alias);
  engine = await Engine.create({ dataDir });
  const client = await EngineClient.connect(engine.wsUrl, WebSocket as unknown as WebSocketCtor);
  const local = await client.call('launch', { templateText: template(makeRepo()) });
  const t0 = performance.now();
  const remote = await client.call('launch', { templateText: template(remoteRepo(user)), host: 'box' });
  const firstLaunchMs = performance.now() - t0;
  const started = async (ids: string[]) => {
    for (;;) {
      const snaps = await Promise.all(ids.map((sessionId) => client.call('snapshot', { sessionId })));
      if (snaps.every((s) => s.data.includes('READY'))) return;
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  await started([...local.sessions, ...remote.sessions].map((s) => s.id));

  const here = await echoTimes(client, local.sessions[0]!.id);
  const there = await echoTimes(client, remote.sessions[0]!.id);

  const first = await attachAll(client, remote.sessions);
  await Promise.all(first.unsubs.map((u) => u()));
  // The tunnel dies (as on sleep or a VPN drop): reconnect, then the grid re-subscribes the host's ten sessions.
  const back = new Promise<number>((resolve) => {
    const off = client.onEvent((e) => {
      if (e.event === 'host' && e.host.state === 'connected') {
        off();
        resolve(performance.now());
      }
    });
  });
  const tunnel = execFileSync('pgrep', ['-P', String(process.pid), '-f', 'ControlPath=none'], { encoding: 'utf8' }).trim();
  const killedAt = performance.now();
  process.kill(Number(tunnel), 'SIGKILL');
  const connectedAt = await back;
  const again = await attachAll(client, remote.sessions);
  await Promise.all(again.unsubs.map((u) => u()));
  client.close();

  const line = (label: string, xs: number[]) => `${label} p50 ${pct(xs, 50).toFixed(2)} ms   p99 ${pct(xs, 99).toFixed(2)} ms`;
  console.log(`bench/remote: ${N} sessions here and ${N} on a host over SSH (loopback sshd), ${KEYS} keystrokes each way`);
  console.log(`first launch on the host (install + start + tunnel): ${(firstLaunchMs / 1000).toFixed(1)} s`);
  console.log(line('keystroke echo, local (baseline):', here));
  console.log(line('keystroke echo, on the host:     ', there));
  console.log(
    `ratio host/local: p50 ${(pct(there, 50) / pct(here, 50)).toFixed(2)}   p99 ${(pct(there, 99) / pct(here, 99)).toFixed(2)}   (our hops add ${(pct(there, 50) - pct(here, 50)).toFixed(2)} ms at p50)`,
  );
  console.log(`attach ${N} host sessions (baseline): ${first.ms.toFixed(0)} ms (${first.ready}/${N} screens)`);
  console.log(
    `tunnel killed → connected again: ${(connectedAt - killedAt).toFixed(0)} ms; then ${N} sessions re-attached: ${again.ms.toFixed(0)} ms (${again.ready}/${N} screens), ratio to the first attach ${(again.ms / first.ms).toFixed(2)}`,
  );
} finally {
  await engine?.close();
  await sshd.stop();
}
