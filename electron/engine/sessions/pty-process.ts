// One agent in one pty: output path (pty → batcher → mirror + subscribers), flow control, lifecycle — and the facts
// its status is made of (started, output after quiet, quiet with the screen's prompt verdict, exit). It decides no
// status itself: a SessionStatusMachine does, on whichever thread owns the session (AgentSession here, RemoteSession
// on the engine's main thread when this runs in the pty host).
import { EventEmitter } from 'node:events';
import { closeSync, constants as fsConstants, openSync } from 'node:fs';
import * as nodePty from 'node-pty';
import type { IPty } from 'node-pty';
import { Limits } from '../../shared/contract.ts';
import { pidAlive } from '../pid.ts';
import { OutputBatcher } from './output-batcher.ts';
import { TerminalMirror } from './mirror.ts';
import { FlowGate, type OutputSink, type Subscription } from './flow-control.ts';
import { looksLikePermissionPrompt, signalName } from './status.ts';
import type { ProcessFact } from './status-machine.ts';
import type { AgentSessionOptions, ExitInfo, PtySpec } from './process.ts';
import { preflight, signal } from './spawn.ts';

export interface PtyProcess {
  on(event: 'fact', listener: (fact: ProcessFact) => void): this;
  on(event: 'exit', listener: (info: ExitInfo) => void): this;
  once(event: 'fact', listener: (fact: ProcessFact) => void): this;
  once(event: 'exit', listener: (info: ExitInfo) => void): this;
  off(event: 'fact', listener: (fact: ProcessFact) => void): this;
  off(event: 'exit', listener: (info: ExitInfo) => void): this;
}

const DEFAULT_IDLE_AFTER_MS = 4000;
// While paused we cannot see the child exit: node-pty reports exit only after the socket closes, and destroys a socket
// that is still open 200 ms after the child died — with our unread tail in it. So while paused, look every 50 ms.
const PAUSED_LIVENESS_POLL_MS = 50;
// Leaves the alternate screen and mouse/paste modes and soft-resets attributes, so the old program's state cannot leak
// into the new one; the history stays above the line.
const RESTART_NOTICE = Buffer.from(
  '\x1b[?1049l\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?2004l\x1b[!p\x1b[?25h\x1b[0m' + '\r\n\x1b[2m── restarted ──\x1b[0m\r\n',
  'utf8',
);
// What node-pty's forked child (Linux) or spawn helper (macOS) prints, then exits 1, when exec or chdir fails.
const SPAWN_FAILURE = /^(execvp\(3\)|chdir\(2\)|posix_spawnp?) failed\.?:?\s*([^\r\n]*)/;

export class PtyProcess extends EventEmitter {
  readonly id: string;
  private _spec: PtySpec;
  private _pid: number | null = null;
  private _exitCode: number | null = null;
  private _signal: string | null = null;
  private _cols: number;
  private _rows: number;

  private readonly idleAfterMs: number;
  private readonly stopGraceMs: number;
  private readonly supportsHooks: boolean;

  private readonly mirror: TerminalMirror;
  private readonly batcher: OutputBatcher;
  private readonly gate: FlowGate;

  private pty: IPty | null = null;
  private slaveFd: number | null = null;
  /** Bumped for every pty and on dispose, so late events of an old pty are ignored. */
  private generation = 0;
  private disposed = false;

  private lastActivityAt = 0;
  private idleTimer: NodeJS.Timeout | null = null;
  private livenessTimer: NodeJS.Timeout | null = null;
  /** An `active` fact went out and no `quiet` since: the next batch needs no fact of its own. */
  private reportedActive = false;
  /** start() has been called before (a restart prints a notice between the two runs). */
  private everStarted = false;
  /** The first output of this pty has not been looked at yet (spawn helper failures come first). */
  private firstOutput = true;
  private spawnFailure: string | null = null;

  private stopping = false;
  private escalated = false;
  private graceUsedMs = 0;
  private graceTimer: NodeJS.Timeout | null = null;
  private exitWaiters: Array<() => void> = [];
  /** Resolves once node-pty has reaped the last process started (its exit callback ran), even after dispose. */
  private reapedNow: Promise<void> = Promise.resolve();
  /** Sees every batch delivered to the mirror and the subscriptions (the pty host forwards them from here). */
  onOutput: ((data: Uint8Array) => void) | null = null;

  constructor(id: string, spec: PtySpec, opts: AgentSessionOptions = {}) {
    super();
    this.id = id;
    this._spec = spec;
    this._cols = spec.cols;
    this._rows = spec.rows;
    this.idleAfterMs = opts.idleAfterMs ?? DEFAULT_IDLE_AFTER_MS;
    this.stopGraceMs = opts.stopGraceMs ?? Limits.StopGraceMs;
    this.supportsHooks = opts.supportsHooks ?? false;
    this.mirror = new TerminalMirror(spec.cols, spec.rows, opts.scrollback ?? Limits.MirrorScrollback);
    this.gate = new FlowGate({
      pause: () => this.pausePty(),
      resume: () => this.resumePty(),
    });
    this.batcher = new OutputBatcher((data) => this.onBatch(data));
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
  get cols(): number {
    return this._cols;
  }
  get rows(): number {
    return this._rows;
  }
  get spec(): PtySpec {
    return this._spec;
  }
  /** True while the process runs (from start() until its exit). */
  get running(): boolean {
    return this.pty !== null;
  }
  /** Whether the pty is currently paused by flow control (diagnostics and tests). */
  get paused(): boolean {
    return this.gate.paused;
  }
  /** Bytes written to the mirror and not yet parsed (diagnostics and tests; bounded: the mirror skips when far behind). */
  get mirrorPending(): number {
    return this.mirror.pending;
  }
  /** Bytes the mirror skipped because it was too far behind. */
  get mirrorSkipped(): number {
    return this.mirror.skipped;
  }
  /** The largest un-acked byte count among the subscriptions (diagnostics and tests). */
  get maxUnacked(): number {
    return this.gate.maxUnacked;
  }

  /**
   * Spawns the pty. A command that cannot be started (not on PATH, not executable, missing cwd) ends the session at
   * once: a `failed_to_start` fact naming the command (synchronously), then 'exit' on the next tick.
   */
  start(): void {
    if (this.disposed) throw new Error(`session ${this.id} is disposed`);
    if (this.pty) throw new Error(`session ${this.id} is already running (pid ${this._pid})`);
    const spec = this._spec;
    const gen = ++this.generation;
    this._exitCode = null;
    this._signal = null;
    this._pid = null;
    this.stopping = false;
    this.escalated = false;
    this.reportedActive = false;
    this.everStarted = true;
    this.firstOutput = true;
    this.spawnFailure = null;
    this.gate.reset();

    const problem = preflight(spec);
    let pty: IPty | null = null;
    let error = problem;
    if (!problem) {
      try {
        pty = nodePty.spawn(spec.command, spec.args, {
          name: spec.env.TERM ?? 'xterm-256color',
          cols: this._cols,
          rows: this._rows,
          cwd: spec.cwd,
          env: spec.env,
          // Raw Buffers: no decode/encode on the hot path, and no split UTF-8 sequences (the mirror and the clients'
          // xterms keep partial sequences across writes themselves).
          encoding: null,
        });
      } catch (e) {
        error = `cannot start "${spec.command}": ${(e as Error).message}`;
      }
    }
    if (!pty) {
      this.report({ kind: 'failed_to_start', detail: error ?? `cannot start "${spec.command}"` });
      process.nextTick(() => {
        if (gen !== this.generation) return;
        this.emit('exit', { exitCode: null, signal: null } satisfies ExitInfo);
        this.settleExitWaiters();
      });
      return;
    }
    this.pty = pty;
    this._pid = pty.pid;
    this.holdSlave(pty);
    this.report({ kind: 'started', pid: pty.pid });
    pty.onData((chunk: string | Buffer) => {
      if (gen === this.generation) this.batcher.push(chunk as Buffer);
    });
    let reaped!: () => void;
    this.reapedNow = new Promise<void>((r) => (reaped = r));
    pty.onExit(({ exitCode, signal }) => {
      reaped();
      if (gen === this.generation) this.onExit(exitCode, signal);
    });
  }

  /**
   * User input (keys, pastes); counts as activity (the quiet after it is looked at), and the output that answers it is
   * reported as `active` again (input ends a hook's "waiting": the answer's output means working). Ignored when not running.
   */
  write(data: string): void {
    if (!this.pty) return;
    this.reportedActive = false;
    this.touchActivity();
    this.pty.write(data);
  }

  /** Something outside the pty saw the agent busy (a hook): the quiet that follows is looked at too. */
  noteActivity(): void {
    if (this.pty) this.touchActivity();
  }

  resize(cols: number, rows: number): void {
    if (!Number.isInteger(cols) || !Number.isInteger(rows) || cols < 1 || rows < 1) {
      throw new Error(`invalid terminal size ${cols}x${rows}: columns and rows must be positive integers`);
    }
    if (cols === this._cols && rows === this._rows) return;
    this._cols = cols;
    this._rows = rows;
    // Output already received was produced for the old size: let the mirror take it at that size first.
    this.batcher.flush();
    this.mirror.resize(cols, rows);
    try {
      this.pty?.resize(cols, rows);
    } catch {
      // The pty closed under us (exit in flight); the size still applies to the mirror and a restart.
    }
  }

  /** SIGTERM, then SIGKILL (to the process group) after the grace period. Resolves when the process has exited. */
  stop(graceMs: number = this.stopGraceMs): Promise<void> {
    const pty = this.pty;
    if (!pty) return Promise.resolve();
    const exited = this.waitForExit();
    if (!this.stopping) {
      this.stopping = true;
      this.graceUsedMs = Math.max(0, graceMs);
      // A stuck client must not keep the agent from writing its last words while it shuts down.
      this.gate.releaseSinks();
      signal(pty.pid, 'SIGTERM', false);
      this.graceTimer = setTimeout(() => {
        this.graceTimer = null;
        if (this.pty !== pty) return;
        this.escalated = true;
        signal(pty.pid, 'SIGKILL', true);
      }, this.graceUsedMs);
    }
    return exited;
  }

  /** Stops the process if running, then starts a new one (same spec, or the given one) below a "── restarted ──" line. */
  async restart(spec?: PtySpec): Promise<void> {
    if (this.disposed) throw new Error(`session ${this.id} is disposed`);
    await this.stop();
    if (this.disposed) throw new Error(`session ${this.id} is disposed`);
    if (spec) {
      this._spec = spec;
      this.resize(spec.cols, spec.rows);
    }
    this.batcher.flush();
    if (this.everStarted) this.deliver(RESTART_NOTICE);
    this.start();
  }

  /**
   * Resolves when node-pty has reaped the session's last process. A thread that hosts ptys must not end before: node-pty
   * waits for each child on a thread of its own, which the thread's teardown joins (a live child hangs it) and whose
   * late callback into a torn-down thread aborts the process.
   */
  whenReaped(): Promise<void> {
    return this.reapedNow;
  }

  /** The mirror serialized after everything received so far is parsed; see index.ts for pairing it with subscribe(). */
  snapshot(): Promise<{ cols: number; rows: number; data: string }> {
    if (this.disposed) return Promise.reject(new Error(`session ${this.id} is disposed`));
    this.batcher.flush();
    return new Promise((resolve, reject) => {
      this.mirror.whenParsed(() => {
        if (this.mirror.isDisposed) reject(new Error(`session ${this.id} was disposed before its snapshot was ready`));
        else resolve({ cols: this.mirror.cols, rows: this.mirror.rows, data: this.mirror.serialize() });
      });
    });
  }

  /**
   * The screen as the mirror has parsed it so far, without scrollback and without waiting: what a background tile that
   * gets screens instead of the stream is shown each refresh (a flood's newest bytes may not be in it yet).
   */
  screen(): Promise<{ cols: number; rows: number; data: string }> {
    if (this.disposed) return Promise.reject(new Error(`session ${this.id} is disposed`));
    return Promise.resolve({ cols: this.mirror.cols, rows: this.mirror.rows, data: this.mirror.serialize({ scrollback: 0 }) });
  }

  subscribe(sink: OutputSink): Subscription {
    if (this.disposed) throw new Error(`session ${this.id} is disposed`);
    return this.gate.subscribe(sink);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.generation++;
    const pty = this.pty;
    this.pty = null;
    if (pty) {
      signal(pty.pid, 'SIGKILL', true);
      // Close our end now rather than when the kernel reports the hangup (a grandchild may hold the slave open).
      (pty as unknown as { destroy?: () => void }).destroy?.();
    }
    this.releaseSlave();
    this.clearTimers();
    this.batcher.dispose();
    this.gate.closeAll();
    this.mirror.dispose();
    this.settleExitWaiters();
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Output path

  private onBatch(data: Uint8Array): void {
    if (this.firstOutput) {
      this.firstOutput = false;
      const m = SPAWN_FAILURE.exec(Buffer.from(data.buffer, data.byteOffset, Math.min(data.byteLength, 200)).toString('latin1'));
      if (m) this.spawnFailure = m[2] || m[1]!;
    }
    if (!this.reportedActive) {
      this.reportedActive = true;
      this.report({ kind: 'active' });
    }
    this.touchActivity();
    this.deliver(data);
  }

  /** To the mirror and every subscriber, with flow-control accounting. */
  private deliver(data: Uint8Array): void {
    this.mirror.write(data);
    this.gate.deliver(data);
    this.onOutput?.(data);
  }

  private pausePty(): void {
    this.pty?.pause();
    if (this.livenessTimer === null && this.pty) {
      const pid = this.pty.pid;
      this.livenessTimer = setInterval(() => {
        if (!this.gate.paused || !this.pty) return this.stopLivenessPoll();
        if (!pidAlive(pid)) {
          this.stopLivenessPoll();
          this.gate.disable();
        }
      }, PAUSED_LIVENESS_POLL_MS);
    }
  }

  private resumePty(): void {
    this.stopLivenessPoll();
    this.pty?.resume();
  }

  private stopLivenessPoll(): void {
    if (this.livenessTimer !== null) clearInterval(this.livenessTimer);
    this.livenessTimer = null;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Activity → the `active` / `quiet` facts

  /** Records activity and makes sure one idle timer is armed (re-armed lazily: no clearTimeout per batch). */
  private touchActivity(): void {
    this.lastActivityAt = Date.now();
    if (this.idleTimer === null) this.idleTimer = setTimeout(this.onIdleTimer, this.idleAfterMs);
  }

  private readonly onIdleTimer = (): void => {
    this.idleTimer = null;
    if (!this.pty) return;
    const quietFor = Date.now() - this.lastActivityAt;
    if (quietFor < this.idleAfterMs) {
      this.idleTimer = setTimeout(this.onIdleTimer, this.idleAfterMs - quietFor);
      return;
    }
    // Agents with hooks say when they wait; for the others, the screen says whether a question is open.
    if (this.supportsHooks) return this.reportQuiet(false);
    const gen = this.generation;
    this.mirror.whenParsed(() => {
      if (gen !== this.generation || !this.pty) return;
      // Output that came while the mirror caught up starts a new period (and its own quiet, later).
      if (Date.now() - this.lastActivityAt < this.idleAfterMs) return this.touchActivity();
      this.reportQuiet(looksLikePermissionPrompt(this.mirror.screenLines()));
    });
  };

  private reportQuiet(prompt: boolean): void {
    this.reportedActive = false;
    this.report({ kind: 'quiet', prompt });
  }

  private report(fact: ProcessFact): void {
    if (!this.disposed) this.emit('fact', fact);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Exit

  private onExit(exitCode: number, signalNumber: number | undefined): void {
    this.batcher.flush();
    this.pty = null;
    this.releaseSlave();
    this.clearTimers();
    const sig = signalName(signalNumber);
    this._signal = sig;
    this._exitCode = sig ? null : exitCode;
    this.report({
      kind: 'exited',
      exitCode: this._exitCode,
      signal: sig,
      stopped: this.stopping ? { killedAfterMs: this.escalated ? this.graceUsedMs : null } : null,
      spawnFailure: this.spawnFailure && `cannot start "${this._spec.command}": ${this.spawnFailure}`,
    });
    this.stopping = false;
    if (!this.disposed) this.emit('exit', { exitCode: this._exitCode, signal: sig } satisfies ExitInfo);
    this.settleExitWaiters();
  }

  /**
   * Linux: keeps our own descriptor of the pty's slave side open while the agent runs. Without it, the agent's exit
   * closes the last slave descriptor, the master reports POLLHUP, and libuv ends the stream at the next short read —
   * dropping whatever the kernel still holds (node-pty#726: the last few KB of output of a process that exits while we
   * are behind). With it, the master never hangs up: node-pty closes it 200 ms after the exit, by which time everything
   * is read (the liveness poll unpauses a paused pty as soon as the agent is gone). Costs one fd per running session.
   */
  private holdSlave(pty: IPty): void {
    if (process.platform !== 'linux') return;
    const name = (pty as unknown as { ptsName?: string }).ptsName;
    if (!name) return;
    try {
      this.slaveFd = openSync(name, fsConstants.O_RDWR | fsConstants.O_NOCTTY);
    } catch {
      this.slaveFd = null; // the agent already exited and the pty is going away; nothing left to protect
    }
  }

  private releaseSlave(): void {
    if (this.slaveFd === null) return;
    try {
      closeSync(this.slaveFd);
    } catch {
      /* already closed */
    }
    this.slaveFd = null;
  }

  private waitForExit(): Promise<void> {
    return new Promise((resolve) => this.exitWaiters.push(resolve));
  }

  private settleExitWaiters(): void {
    const waiters = this.exitWaiters;
    this.exitWaiters = [];
    for (const w of waiters) w();
  }

  private clearTimers(): void {
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    if (this.graceTimer !== null) clearTimeout(this.graceTimer);
    this.graceTimer = null;
    this.stopLivenessPoll();
  }
}
