// An agent process on this thread with its status: a PtyProcess whose facts, together with hooks, input and the
// meter's verdicts, feed one SessionStatusMachine. The engine runs its ptys in the pty host instead (RemoteSession is
// the same composition across the thread boundary); unit tests and benches use this one.
import type { SessionStatus } from '../../shared/contract.ts';
import type { AgentSessionOptions, ExitInfo, PtySpec, SessionProcess } from './process.ts';
import { PtyProcess } from './pty-process.ts';
import { type MeterVerdict, type ProcessFact, SessionStatusMachine } from './status-machine.ts';
import type { HookEvent } from './status.ts';

export type { PtySpec, AgentSessionOptions, ExitInfo } from './process.ts';

export interface AgentSession {
  on(event: 'status', listener: (status: SessionStatus, detail: string | null) => void): this;
  on(event: 'fact', listener: (fact: ProcessFact) => void): this;
  on(event: 'exit', listener: (info: ExitInfo) => void): this;
  once(event: 'status', listener: (status: SessionStatus, detail: string | null) => void): this;
  once(event: 'fact', listener: (fact: ProcessFact) => void): this;
  once(event: 'exit', listener: (info: ExitInfo) => void): this;
  off(event: 'status', listener: (status: SessionStatus, detail: string | null) => void): this;
  off(event: 'fact', listener: (fact: ProcessFact) => void): this;
  off(event: 'exit', listener: (info: ExitInfo) => void): this;
}

export class AgentSession extends PtyProcess implements SessionProcess {
  private readonly machine = new SessionStatusMachine((status, detail) => this.emit('status', status, detail));

  constructor(id: string, spec: PtySpec, opts: AgentSessionOptions = {}) {
    super(id, spec, opts);
    this.on('fact', (f) => this.machine.fact(f));
  }

  get status(): SessionStatus {
    return this.machine.status;
  }
  get statusDetail(): string | null {
    return this.machine.detail;
  }

  /** User input: answers a question (clears needs_you and a hook's "waiting"), then goes to the agent. */
  override write(data: string): void {
    if (!this.running) return;
    this.machine.input();
    super.write(data);
  }

  handleHook(e: HookEvent): void {
    if (this.machine.hook(e) === 'working') this.noteActivity();
  }

  applyMeterVerdict(status: MeterVerdict, detail: string | null): void {
    this.machine.meter(status, detail);
  }
}
