// What the rest of the engine sees of an agent's process: the same surface whether the pty lives on this thread
// (AgentSession, used directly by the unit tests) or in the pty host (RemoteSession, what the engine runs).
import type { SessionStatus } from '../../shared/contract.ts';
import type { OutputSink, Subscription } from './flow-control.ts';
import type { MeterVerdict } from './status-machine.ts';
import type { HookEvent } from './status.ts';

export interface PtySpec {
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
  cols: number;
  rows: number;
}

export interface AgentSessionOptions {
  /** Mirror scrollback in lines (default Limits.MirrorScrollback). */
  scrollback?: number;
  /** Silence after which a working session counts as idle (default 4000 ms). */
  idleAfterMs?: number;
  /** SIGTERM → SIGKILL grace for stop() (default Limits.StopGraceMs). */
  stopGraceMs?: number;
  /** The agent reports its state through Claude Code hooks; otherwise the screen heuristic spots prompts. */
  supportsHooks?: boolean;
}

export interface ExitInfo {
  exitCode: number | null;
  signal: string | null;
}

export interface SnapshotData {
  cols: number;
  rows: number;
  data: string;
}

export interface SessionProcess {
  readonly id: string;
  readonly status: SessionStatus;
  readonly statusDetail: string | null;
  readonly pid: number | null;
  readonly exitCode: number | null;
  readonly signal: string | null;
  /** True while the process runs (from start() until its exit). */
  readonly running: boolean;
  /** The largest un-acked byte count among the subscriptions (diagnostics and benches). */
  readonly maxUnacked: number;
  /** Spawns the agent; resolves once it runs (its pid known) or has failed to start. */
  start(): void | Promise<void>;
  write(data: string): void;
  resize(cols: number, rows: number): void;
  /** SIGTERM, then SIGKILL after the grace period; resolves when the process has exited. */
  stop(graceMs?: number): Promise<void>;
  restart(spec?: PtySpec): Promise<void>;
  snapshot(): Promise<SnapshotData>;
  /** The screen as the mirror has it now: no scrollback, no wait for output still being parsed (background tiles). */
  screen(): Promise<SnapshotData>;
  subscribe(sink: OutputSink): Subscription;
  /** A Claude Code hook of this agent: its status machine takes it (no round trip to the pty). */
  handleHook(e: HookEvent): void;
  /** The meter's verdict (over budget, rate limited, rejected, back to work), merged by the status machine. */
  applyMeterVerdict(status: MeterVerdict, detail: string | null): void;
  dispose(): void;
  on(event: 'status', listener: (status: SessionStatus, detail: string | null) => void): this;
  on(event: 'exit', listener: (info: ExitInfo) => void): this;
  off(event: 'status', listener: (status: SessionStatus, detail: string | null) => void): this;
  off(event: 'exit', listener: (info: ExitInfo) => void): this;
}
