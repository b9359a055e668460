// The one writer of a session's status. The process (a PtyProcess, here or in the pty host) reports facts — started,
// output resumed, quiet (with the screen's prompt verdict), exited — and the engine adds what only it sees: Claude Code
// hooks, the user's input and the meter's verdicts (over budget, rate limited, rejected). This machine merges them; no
// other code sets a status. Pure: no timers, no I/O (the quiet timer and the screen check stay with the pty).
import { METER_STATUSES, type MeterVerdict, type SessionStatus, isFinalStatus } from '../../shared/contract.ts';
import { exitStatus, statusFromHook, type HookEvent, type HookVerdict } from './status.ts';

/** What a pty process reports about itself. Plain data: it crosses the pty host's thread boundary as is. */
export type ProcessFact =
  | { kind: 'started'; pid: number }
  /** The command could not be started (not found, bad cwd): the process never ran. */
  | { kind: 'failed_to_start'; detail: string }
  /** Output arrived after a quiet period (or for the first time since start). */
  | { kind: 'active' }
  /** Nothing for the idle period after output or input; `prompt`: the screen shows an open question (agents without hooks). */
  | { kind: 'quiet'; prompt: boolean }
  | {
      kind: 'exited';
      exitCode: number | null;
      signal: string | null;
      /** Set when the exit followed stop(): whether it had to be killed after its grace period. */
      stopped: { killedAfterMs: number | null } | null;
      /** What node-pty's spawn helper printed when exec or chdir failed ("cannot start …"), if it did. */
      spawnFailure: string | null;
    };

export type { MeterVerdict } from '../../shared/contract.ts';

export class SessionStatusMachine {
  private _status: SessionStatus = 'queued';
  private _detail: string | null = null;
  /** Between `started` and the exit: hooks and input only count while the process runs. */
  private running = false;
  /** A hook said "turn over": plain output (redraws) must not flip the session back to working. */
  private waitingSticky = false;

  /** Called after every change (never for a fact that leaves status and detail as they were). */
  constructor(private readonly onChange: (status: SessionStatus, detail: string | null) => void) {}

  get status(): SessionStatus {
    return this._status;
  }
  get detail(): string | null {
    return this._detail;
  }

  fact(f: ProcessFact): void {
    switch (f.kind) {
      case 'started':
        this.running = true;
        this.waitingSticky = false;
        return this.set('starting', null);
      case 'failed_to_start':
        this.running = false;
        return this.set('failed', f.detail);
      case 'active':
        if (this._status === 'starting' || (this._status === 'idle' && !this.waitingSticky)) this.set('working', null);
        return;
      case 'quiet':
        if (this._status !== 'working') return;
        return f.prompt ? this.set('needs_you', 'waiting for an answer') : this.set('idle', null);
      case 'exited': {
        this.running = false;
        if (f.stopped)
          return this.set(
            'stopped',
            f.stopped.killedAfterMs === null ? null : `did not exit on SIGTERM within ${f.stopped.killedAfterMs} ms; killed`,
          );
        if (f.spawnFailure && f.exitCode === 1 && !f.signal) return this.set('failed', f.spawnFailure);
        const s = exitStatus(f.exitCode, f.signal);
        return this.set(s.status, s.detail);
      }
    }
  }

  /** User input (keys, pastes): answers a question — clears needs_you and a hook's "waiting". */
  input(): void {
    if (!this.running) return;
    this.waitingSticky = false;
    if (this._status === 'needs_you') this.set('working', null);
  }

  /**
   * A Claude Code hook of this session's agent; says what it meant (`working`: the pty should look at the quiet that
   * follows). Late hooks (after the exit) change nothing.
   */
  hook(e: HookEvent): HookVerdict['kind'] | null {
    if (!this.running) return null;
    const verdict = statusFromHook(e);
    if (!verdict) return null;
    if (verdict.kind !== 'attention') this.waitingSticky = verdict.kind === 'waiting';
    this.set(verdict.status, verdict.detail);
    return verdict.kind;
  }

  /** The meter's view (over budget, rate limited, rejected, back to work); `working` lifts only what the meter set. */
  meter(status: MeterVerdict, detail: string | null): void {
    if (isFinalStatus(this._status)) return;
    if (status === 'working' && !(METER_STATUSES as readonly SessionStatus[]).includes(this._status)) return;
    this.set(status, detail);
  }

  /** The process is gone without an exit of its own (its pty host died): a queued or running session is interrupted. */
  interrupted(reason: string): boolean {
    if (!this.running && this._status !== 'queued') return false;
    this.running = false;
    this.set('interrupted', reason);
    return true;
  }

  private set(status: SessionStatus, detail: string | null): void {
    if (status === this._status && detail === this._detail) return;
    this._status = status;
    this._detail = detail;
    this.onChange(status, detail);
  }
}
