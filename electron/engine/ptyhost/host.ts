// The main thread's side of the pty host: one worker thread per engine that runs every session's pty, batcher,
// mirror and flow gate (worker.ts), and a RemoteSession per agent process with the same surface as AgentSession: the
// host reports facts, and the RemoteSession's status machine — here, on the main thread — is the only writer of status.
// If the thread dies, its sessions end as 'interrupted' (their agents are killed: their terminal is gone) and the next
// session starts a fresh host — the engine itself goes on.
import { EventEmitter } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { SessionStatus } from '../../shared/contract.ts';
import type { OutputSink, Subscription } from '../sessions/flow-control.ts';
import type { AgentSessionOptions, ExitInfo, PtySpec, SessionProcess, SnapshotData } from '../sessions/process.ts';
import { type MeterVerdict, type ProcessFact, SessionStatusMachine } from '../sessions/status-machine.ts';
import type { HookEvent } from '../sessions/status.ts';
import {
  type FromHost,
  HOST_CALLS,
  type PtyHostEvents,
  type PtyHostService,
  type ServiceClient,
  type ToHost,
  dispatchCall,
  serviceClient,
} from './protocol.ts';

/** The worker's entry: the TypeScript source through tsx when the engine runs from source (tsx, vitest), else the
 *  bundled pty-host.mjs that build/build.mjs writes next to the bundled engine. */
export function ptyHostEntry(here: string = import.meta.url): URL {
  return new URL(here.endsWith('.ts') ? './worker-boot.mjs' : './pty-host.mjs', here);
}

export interface PtyHostOptions {
  log?: (line: string) => void;
  /** Told when a host thread died with sessions in it (after they have been marked interrupted). */
  onCrash?: (reason: string, sessions: number) => void;
  entry?: URL;
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

/** One worker thread (started on first use, restarted on the first use after it died). */
export class PtyHost {
  private worker: Worker | null = null;
  private ready: Promise<void> | null = null;
  private nextReq = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly sessions = new Map<string, RemoteSession>();
  private closed = false;
  /** Bumped when a thread is replaced, so a late 'exit' of the old one is not taken for the new one's. */
  private generation = 0;
  /** The host's service, as the main thread calls it (orders to a thread that is not running are dropped). */
  readonly call: ServiceClient<PtyHostService> = serviceClient<PtyHostService>(
    HOST_CALLS,
    (m) => this.worker?.postMessage(m),
    (m) => this.request(m),
    () => this.nextReq++,
  );
  /** The host's events, handled: one method per event of the contract. */
  private readonly events: PtyHostEvents = {
    ready: () => {},
    log: (line) => this.opts.log?.(line),
    fact: (id, fact) => this.sessions.get(id)?.onFact(fact),
    data: (id, subs, buf) => this.sessions.get(id)?.onData(subs, new Uint8Array(buf)),
  };

  constructor(private readonly opts: PtyHostOptions = {}) {}

  /** The thread's id while one runs (tests make it fail through `crashForTest`). */
  get threadId(): number | null {
    return this.worker?.threadId ?? null;
  }
  get sessionCount(): number {
    return this.sessions.size;
  }

  create(id: string, spec: PtySpec, opts: AgentSessionOptions = {}): RemoteSession {
    if (this.closed) throw new Error('the pty host is closed');
    this.ensure();
    const s = new RemoteSession(id, this, spec);
    this.sessions.set(id, s);
    this.call.create(id, spec, opts);
    return s;
  }

  /** Makes the host fail as a bug would (an uncaught exception there); resolves once the engine has noticed. */
  async crashForTest(): Promise<void> {
    const w = this.worker;
    if (!w) return;
    const gone = new Promise<void>((r) => w.once('exit', () => setImmediate(r)));
    this.call.crash();
    await gone;
  }

  /**
   * Kills every agent and ends the thread — in that order: the host reaps each child first (see
   * AgentSession.whenReaped), because ending a thread while node-pty still waits on a child hangs or aborts the process.
   */
  async close(): Promise<void> {
    this.closed = true;
    const w = this.worker;
    if (w) {
      await new Promise<void>((resolve) => {
        this.call.shutdown().then(resolve, resolve);
        w.once('exit', () => resolve());
        setTimeout(resolve, 10_000).unref();
      });
    }
    this.worker = null;
    for (const s of this.sessions.values()) s.hostGone('the engine closed');
    this.sessions.clear();
    this.failPending('the engine closed');
    await w?.terminate();
  }

  // ---------------------------------------------------------------------------------------------------------------

  private request(m: ToHost & { req: number }): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (!this.worker) return reject(new Error('the pty host is not running'));
      this.pending.set(m.req, { resolve, reject });
      this.worker.postMessage(m);
    });
  }

  forget(id: string): void {
    this.sessions.delete(id);
  }

  /** Whether a session's process is still known here. */
  has(id: string): boolean {
    return this.sessions.has(id);
  }

  private ensure(): void {
    if (this.worker) return;
    const gen = ++this.generation;
    const w = new Worker(this.opts.entry ?? ptyHostEntry(), { stderr: false, stdout: false });
    this.worker = w;
    this.ready = new Promise((resolve) => {
      const onReady = (m: FromHost) => {
        if (m.t !== 'ready') return;
        w.off('message', onReady);
        resolve();
      };
      w.on('message', onReady);
    });
    w.on('message', (m: FromHost) => this.onMessage(m));
    w.on('error', (err) => this.opts.log?.(`pty host error: ${err.message}`));
    w.on('exit', (code) => {
      if (gen !== this.generation || this.worker !== w) return;
      this.worker = null;
      this.ready = null;
      const reason = `the pty host stopped (exit code ${code})`;
      const lost = [...this.sessions.values()];
      this.sessions.clear();
      this.failPending(reason);
      for (const s of lost) s.hostGone(reason);
      if (!this.closed) {
        this.opts.log?.(`${reason} with ${lost.length} session(s); the next session starts a new one`);
        this.opts.onCrash?.(reason, lost.length);
      }
    });
  }

  /** Resolves once the thread has loaded (benches wait for it before timing). */
  async whenReady(): Promise<void> {
    this.ensure();
    await this.ready;
  }

  private failPending(reason: string): void {
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) p.reject(new Error(reason));
  }

  private onMessage(m: FromHost): void {
    if (m.t !== 'reply') return dispatchCall(this.events, m, () => {});
    const p = this.pending.get(m.req);
    if (!p) return;
    this.pending.delete(m.req);
    if (m.ok) p.resolve(m.value);
    else p.reject(new Error(m.error));
  }
}

class RemoteSubscription implements Subscription {
  unacked = 0;
  closed = false;
  constructor(
    readonly sub: number,
    readonly sink: OutputSink,
    private readonly owner: RemoteSession,
  ) {}
  ack(bytes: number): void {
    if (this.closed || !(bytes > 0)) return;
    this.unacked = bytes >= this.unacked ? 0 : this.unacked - bytes;
    this.owner.ackFor(this.sub, bytes);
  }
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.owner.unsubscribe(this);
  }
  hold(on: boolean): void {
    if (!this.closed) this.owner.holdFor(this.sub, on);
  }
}

let nextSub = 1;

/** An agent process in the pty host, seen from the main thread: its facts feed the status machine here; orders go there. */
export class RemoteSession extends EventEmitter implements SessionProcess {
  private readonly machine = new SessionStatusMachine((status, detail) => {
    if (!this.disposed) this.emit('status', status, detail);
  });
  private _pid: number | null = null;
  private _exitCode: number | null = null;
  private _signal: string | null = null;
  private _running = false;
  private readonly subs = new Map<number, RemoteSubscription>();
  private exitWaiters: Array<() => void> = [];
  private disposed = false;
  private gone = false;
  private goneReason: string | null = null;

  private size: { cols: number; rows: number };

  constructor(
    readonly id: string,
    private readonly host: PtyHost,
    spec: PtySpec,
  ) {
    super();
    this.size = { cols: spec.cols, rows: spec.rows };
  }

  get status(): SessionStatus {
    return this.machine.status;
  }
  get statusDetail(): string | null {
    return this.machine.detail;
  }
  get pid(): number | null {
    return this._pid;
  }
  get exitCode(): number | null {
    return this._exitCode;
  }
  get signal(): string | null {
    return this._signal;
  }
  get running(): boolean {
    return this._running;
  }
  get maxUnacked(): number {
    let max = 0;
    for (const s of this.subs.values()) if (s.unacked > max) max = s.unacked;
    return max;
  }

  async start(): Promise<void> {
    this.alive();
    await this.host.call.start(this.id);
  }

  write(data: string): void {
    if (this.gone) return;
    // The host writes only to a running pty; keys sent just before its `started` fact arrives still reach it.
    this.machine.input();
    this.host.call.write(this.id, data);
  }

  resize(cols: number, rows: number): void {
    if (!Number.isInteger(cols) || !Number.isInteger(rows) || cols < 1 || rows < 1) {
      throw new Error(`invalid terminal size ${cols}x${rows}: columns and rows must be positive integers`);
    }
    this.size = { cols, rows };
    if (!this.gone) this.host.call.resize(this.id, cols, rows);
  }

  stop(graceMs?: number): Promise<void> {
    if (!this._running || this.gone) return Promise.resolve();
    const exited = new Promise<void>((resolve) => this.exitWaiters.push(resolve));
    this.host.call.stop(this.id, graceMs ?? null);
    return exited;
  }

  async restart(spec?: PtySpec): Promise<void> {
    this.alive();
    if (spec) this.size = { cols: spec.cols, rows: spec.rows };
    await this.host.call.restart(this.id, spec ?? null);
  }

  snapshot(): Promise<SnapshotData> {
    if (this.disposed) return Promise.reject(new Error(`session ${this.id} is disposed`));
    // The screen lived in the host that died: say so instead of showing nothing.
    if (this.gone)
      return Promise.resolve({
        cols: this.size.cols,
        rows: this.size.rows,
        data: `\x1b[2m── interrupted: ${this.goneReason ?? 'the pty host stopped'}; its screen is lost ──\x1b[0m\r\n`,
      });
    return this.host.call.snapshot(this.id);
  }

  screen(): Promise<SnapshotData> {
    if (this.disposed || this.gone) return this.snapshot();
    return this.host.call.screen(this.id);
  }

  subscribe(sink: OutputSink): Subscription {
    if (this.disposed) throw new Error(`session ${this.id} is disposed`);
    const sub = new RemoteSubscription(nextSub++, sink, this);
    this.subs.set(sub.sub, sub);
    if (!this.gone) this.host.call.sub(this.id, sub.sub);
    return sub;
  }

  handleHook(e: HookEvent): void {
    if (this.machine.hook(e) === 'working' && !this.gone) this.host.call.noteActivity(this.id);
  }

  applyMeterVerdict(status: MeterVerdict, detail: string | null): void {
    this.machine.meter(status, detail);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const s of this.subs.values()) s.closed = true;
    this.subs.clear();
    if (!this.gone) this.host.call.dispose(this.id);
    this.host.forget(this.id);
    this.settleExit();
  }

  // ---------------------------------------------------------------------------------------------------------------
  // From the host

  ackFor(sub: number, bytes: number): void {
    if (!this.gone) this.host.call.ack(this.id, sub, bytes);
  }

  holdFor(sub: number, on: boolean): void {
    if (!this.gone) this.host.call.hold(this.id, sub, on);
  }

  unsubscribe(sub: RemoteSubscription): void {
    this.subs.delete(sub.sub);
    if (!this.gone && !this.disposed) this.host.call.unsub(this.id, sub.sub);
  }

  onFact(fact: ProcessFact): void {
    if (fact.kind === 'started') {
      this._pid = fact.pid;
      this._exitCode = null;
      this._signal = null;
      this._running = true;
    } else if (fact.kind === 'exited') {
      this._exitCode = fact.exitCode;
      this._signal = fact.signal;
      this._running = false;
    }
    this.machine.fact(fact);
    if (fact.kind === 'exited' || fact.kind === 'failed_to_start') this.exited({ exitCode: this._exitCode, signal: this._signal });
  }

  onData(subs: number[], data: Uint8Array): void {
    for (const id of subs) {
      const sub = this.subs.get(id);
      if (!sub || sub.closed) continue;
      sub.unacked += data.byteLength;
      try {
        sub.sink.send(data);
      } catch {
        // A sink that throws is gone (its socket died); it must not stall the session or the other clients.
        sub.close();
      }
    }
  }

  /** The host thread died: this process is gone with it (its agent is killed: nobody can read its terminal now). */
  hostGone(reason: string): void {
    if (this.gone) return;
    this.gone = true;
    this.goneReason = reason;
    const wasRunning = this._running;
    if (this._pid !== null && wasRunning) killGroup(this._pid);
    this._running = false;
    if (this.machine.interrupted(reason)) this.exited({ exitCode: null, signal: null });
    this.settleExit();
  }

  private exited(info: ExitInfo): void {
    if (!this.disposed) this.emit('exit', info);
    this.settleExit();
  }

  private alive(): void {
    if (this.disposed) throw new Error(`session ${this.id} is disposed`);
    if (this.gone) throw new Error(`session ${this.id} is gone with its pty host`);
  }

  private settleExit(): void {
    const w = this.exitWaiters;
    this.exitWaiters = [];
    for (const f of w) f();
  }
}

function killGroup(pid: number): void {
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, 'SIGKILL');
    } catch {
      /* gone already */
    }
  }
}
