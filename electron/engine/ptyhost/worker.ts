// The pty host: every session's hot path — node-pty, the output batcher, the headless mirror, flow control — on a
// thread of its own, so a flooding agent costs the engine's main thread (API, meter, hooks, store) only one message per
// output batch. Started by PtyHost (host.ts); it owns PtyProcess instances and serves PtyHostService (protocol.ts).
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { PtyProcess } from '../sessions/pty-process.ts';
import type { Subscription } from '../sessions/flow-control.ts';
import { type FromHost, type PtyHostEvents, type PtyHostService, type ToHost, dispatchCall } from './protocol.ts';

if (!parentPort) throw new Error('the pty host runs as a worker thread (started by PtyHost)');
const port = parentPort;

interface Hosted {
  session: PtyProcess;
  /** The main thread's subscriptions, each counted by the flow gate here (acks arrive from the main thread). */
  subs: Map<number, Subscription>;
}

const hosted = new Map<string, Hosted>();
/** Disposed sessions whose process node-pty has not reaped yet: the thread must not end before they are. */
const reaping = new Set<Promise<void>>();

function dispose(s: PtyProcess): void {
  s.dispose();
  const p = s.whenReaped();
  reaping.add(p);
  void p.then(() => reaping.delete(p));
}
const post = (m: FromHost, transfer?: ArrayBuffer[]) => port.postMessage(m, transfer);
/** The main thread, as the host sees it: one method per event of the contract. */
const main: PtyHostEvents = {
  ready: () => post({ t: 'ready', args: [] }),
  log: (line) => post({ t: 'log', args: [line] }),
  fact: (id, fact) => post({ t: 'fact', args: [id, fact] }),
  data: (id, subs, buf) => post({ t: 'data', args: [id, subs, buf] }, [buf]),
};
const NOOP_SINK = { send: () => {} };

/** The session an order is for; a fire-and-forget order for one that is gone is dropped by the caller. */
function find(id: string): Hosted | undefined {
  return hosted.get(id);
}
function need(id: string): Hosted {
  const h = hosted.get(id);
  if (!h) throw new Error(`session ${id} is not in the pty host`);
  return h;
}

/** Kill every agent, then wait until each is reaped (bounded: a child stuck in the kernel must not keep the engine). */
async function killAll(): Promise<void> {
  const all = [...hosted.values()].map((h) => h.session);
  hosted.clear();
  for (const s of all) dispose(s);
  await Promise.race([Promise.all([...reaping]), new Promise((r) => setTimeout(r, 5000))]);
}

const service: PtyHostService = {
  create(id, spec, opts) {
    const session = new PtyProcess(id, spec, opts);
    const h: Hosted = { session, subs: new Map() };
    hosted.set(id, h);
    session.on('fact', (f) => main.fact(id, f));
    session.onOutput = (data) => {
      if (h.subs.size === 0) return;
      // The mirror still holds `data` until it is parsed, so it cannot be transferred: one copy, then a transfer.
      const buf = new ArrayBuffer(data.byteLength);
      new Uint8Array(buf).set(data);
      main.data(id, [...h.subs.keys()], buf);
    };
  },
  async start(id) {
    need(id).session.start();
  },
  write: (id, data) => find(id)?.session.write(data),
  resize: (id, cols, rows) => find(id)?.session.resize(cols, rows),
  stop: (id, graceMs) => void find(id)?.session.stop(graceMs ?? undefined),
  restart: (id, spec) => need(id).session.restart(spec ?? undefined),
  snapshot: (id) => need(id).session.snapshot(),
  screen: (id) => need(id).session.screen(),
  noteActivity: (id) => find(id)?.session.noteActivity(),
  sub(id, sub) {
    const h = find(id);
    h?.subs.set(sub, h.session.subscribe(NOOP_SINK));
  },
  unsub(id, sub) {
    const h = find(id);
    h?.subs.get(sub)?.close();
    h?.subs.delete(sub);
  },
  ack: (id, sub, bytes) => find(id)?.subs.get(sub)?.ack(bytes),
  hold: (id, sub, on) => find(id)?.subs.get(sub)?.hold(on),
  dispose(id) {
    const h = find(id);
    if (!h) return;
    dispose(h.session);
    hosted.delete(id);
  },
  shutdown: () => killAll(),
  crash: () =>
    void setTimeout(() => {
      throw new Error('pty host crash (asked for by a test)');
    }),
};

const reply = (req: number, result: Promise<unknown>) =>
  result.then(
    (value) => post({ t: 'reply', req, ok: true, value }),
    (err: Error) => post({ t: 'reply', req, ok: false, error: err.message }),
  );

port.on('message', (m: ToHost) => {
  // A bad order must not take every session down with the thread: answer it, or drop it (fire-and-forget ones).
  try {
    dispatchCall(service, m, reply);
  } catch (err) {
    if (m.req !== undefined) post({ t: 'reply', req: m.req, ok: false, error: (err as Error).message });
  }
});

// A bug here must not leave agents behind, nor end this thread while node-pty still waits on their pids: kill them,
// let them be reaped, then end with the error (the engine marks the sessions interrupted).
process.on('uncaughtException', (err) => {
  main.log(`pty host: ${err.stack ?? err.message}`);
  void killAll().finally(() => process.exit(1));
});

/**
 * Linux: this thread runs at a lower priority (nice +10) than the engine's main thread. When CPU is short — ten agents
 * on two cores — the meter, the hooks and the API go first; a flooding agent then waits on its pty (which this thread
 * reads more slowly) instead of on the CPU the meter needs. setpriority on a thread id affects that thread only.
 */
function lowerPriority(): void {
  if (process.platform !== 'linux') return;
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, 10);
  } catch {
    /* not permitted or no /proc: run at the normal priority */
  }
}

lowerPriority();
main.ready();
