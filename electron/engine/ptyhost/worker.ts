// The pty host: every session's hot path — node-pty, the output batcher, the headless mirror, flow control — on a
// thread of its own, so a flooding agent costs the engine's main thread (API, meter, hooks, store) only one message per
// output batch. Started by PtyHost (host.ts); it owns AgentSession instances and follows the main thread's orders.
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { AgentSession } from '../sessions/agent-session.ts';
import type { Subscription } from '../sessions/flow-control.ts';
import type { FromHost, ProcState, ToHost } from './protocol.ts';

if (!parentPort) throw new Error('the pty host runs as a worker thread (started by PtyHost)');
const port = parentPort;

interface Hosted {
  session: AgentSession;
  /** The main thread's subscriptions, each counted by the flow gate here (acks arrive from the main thread). */
  subs: Map<number, Subscription>;
}

const hosted = new Map<string, Hosted>();
/** Disposed sessions whose process node-pty has not reaped yet: the thread must not end before they are. */
const reaping = new Set<Promise<void>>();

function dispose(s: AgentSession): void {
  s.dispose();
  const p = s.whenReaped();
  reaping.add(p);
  void p.then(() => reaping.delete(p));
}
const post = (m: FromHost, transfer?: ArrayBuffer[]) => port.postMessage(m, transfer);
const NOOP_SINK = { send: () => {} };

function state(s: AgentSession): ProcState {
  return { status: s.status, detail: s.statusDetail, pid: s.pid, exitCode: s.exitCode, signal: s.signal, running: s.running };
}

function create(id: string, m: Extract<ToHost, { t: 'create' }>): void {
  const session = new AgentSession(id, m.spec, m.opts);
  const h: Hosted = { session, subs: new Map() };
  hosted.set(id, h);
  session.on('status', () => post({ t: 'state', id, state: state(session) }));
  session.on('exit', (e) => post({ t: 'exit', id, exitCode: e.exitCode, signal: e.signal }));
  session.onOutput = (data) => {
    if (h.subs.size === 0) return;
    // The mirror still holds `data` until it is parsed, so it cannot be transferred: one copy, then a transfer.
    const buf = new ArrayBuffer(data.byteLength);
    new Uint8Array(buf).set(data);
    post({ t: 'data', id, subs: [...h.subs.keys()], buf }, [buf]);
  };
}

function reply(req: number, p: Promise<unknown> | unknown): void {
  Promise.resolve(p).then(
    (value) => post({ t: 'reply', req, ok: true, value }),
    (err: Error) => post({ t: 'reply', req, ok: false, error: err.message }),
  );
}

port.on('message', (m: ToHost) => {
  // A bad order must not take every session down with the thread: answer it, or drop it (fire-and-forget ones).
  try {
    handle(m);
  } catch (err) {
    if ('req' in m) post({ t: 'reply', req: m.req, ok: false, error: (err as Error).message });
  }
});

/** Every agent killed and reaped (bounded: a child stuck in the kernel must not keep the engine from stopping). */
async function killAll(): Promise<void> {
  const all = [...hosted.values()].map((h) => h.session);
  hosted.clear();
  for (const s of all) dispose(s);
  await Promise.race([Promise.all([...reaping]), new Promise((r) => setTimeout(r, 5000))]);
}

// A bug here must not leave agents behind, nor end this thread while node-pty still waits on their pids: kill them,
// let them be reaped, then end with the error (the engine marks the sessions interrupted).
process.on('uncaughtException', (err) => {
  port.postMessage({ t: 'log', line: `pty host: ${err.stack ?? err.message}` });
  void killAll().finally(() => process.exit(1));
});

function handle(m: ToHost): void {
  if (m.t === 'shutdown') return void killAll().then(() => post({ t: 'bye' }));
  if (m.t === 'crash') return void setTimeout(() => {
    throw new Error('pty host crash (asked for by a test)');
  });
  if (m.t === 'create') return create(m.id, m);
  const h = hosted.get(m.id);
  if (!h) {
    if ('req' in m) post({ t: 'reply', req: m.req, ok: false, error: `session ${m.id} is not in the pty host` });
    return;
  }
  const s = h.session;
  switch (m.t) {
    case 'start':
      return reply(m.req, (s.start(), state(s)));
    case 'write':
      return s.write(m.data);
    case 'resize':
      return s.resize(m.cols, m.rows);
    case 'stop':
      return void s.stop(m.graceMs ?? undefined);
    case 'restart':
      return reply(m.req, s.restart(m.spec ?? undefined).then(() => state(s)));
    case 'snapshot':
      return reply(m.req, s.snapshot());
    case 'sub':
      return void h.subs.set(m.sub, s.subscribe(NOOP_SINK));
    case 'unsub':
      h.subs.get(m.sub)?.close();
      return void h.subs.delete(m.sub);
    case 'ack':
      return h.subs.get(m.sub)?.ack(m.bytes);
    case 'hook':
      return s.handleHook(m.body);
    case 'status':
      return s.setStatus(m.status, m.detail);
    case 'dispose':
      dispose(s);
      return void hosted.delete(m.id);
  }
}

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
post({ t: 'ready' });
