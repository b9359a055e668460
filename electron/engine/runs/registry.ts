// The runs and sessions this engine knows: the live ones in memory (with their terminals and tokens), every other one in
// the store. Lookups say "live, else stored" once, here; every change to a run or a session goes through here too, so
// the store and the clients hear of it in the same step.
import { randomBytes } from 'node:crypto';
import { type EngineEvent, type RunInfo, type SessionInfo, type SessionStatus, isFinalStatus } from '../../shared/contract.ts';
import { EngineError } from '../errors.ts';
import { SessionTerminal } from '../sessions/index.ts';
import type { Store } from '../store/index.ts';
import { sandboxLabels } from '../sandbox/command.ts';
import { parseStoredTemplate, type Template } from '../templates/index.ts';

export interface LiveRun {
  info: RunInfo;
  template: Template;
  /** The branch `base` named (or HEAD's branch at launch): where merges go and what drift is measured against. */
  baseBranch: string | null;
  sessions: LiveSession[];
  /** Resolves when every session has ended (again after each resume). */
  ended: Promise<void>;
  resolveEnded: () => void;
}

export interface LiveSession {
  info: SessionInfo;
  run: LiveRun;
  terminal: SessionTerminal;
  /** The agent's credential on the meter proxy (never the provider key), and the path secret of its hooks. */
  proxyToken: string;
  hookToken: string;
}

const now = () => new Date().toISOString();
export const secret = () => randomBytes(24).toString('base64url');

export class RunRegistry {
  private readonly runs = new Map<string, LiveRun>();
  private readonly sessions = new Map<string, LiveSession>();
  private readonly byHookToken = new Map<string, LiveSession>();

  constructor(
    readonly store: Store,
    private readonly emit: (e: EngineEvent) => void,
  ) {}

  // -------------------------------------------------------------------------------------------------------------------
  // Registering

  registerRun(info: RunInfo, template: Template): LiveRun {
    let resolveEnded!: () => void;
    const ended = new Promise<void>((r) => (resolveEnded = r));
    // How its sessions are contained is the template's to say (never stored): a run resumed by a later engine says it too.
    const run: LiveRun = { info: { ...info, ...sandboxLabels(template) }, template, baseBranch: null, sessions: [], ended, resolveEnded };
    this.runs.set(info.id, run);
    return run;
  }

  /**
   * A run that ended and was cleaned leaves memory: its sessions' terminals are let go and it is answered from the
   * store from now on (its screens were stored when each session ended). Returns the sessions it held.
   */
  forgetEnded(runId: string): LiveSession[] {
    const run = this.runs.get(runId);
    if (!run) return [];
    for (const s of run.sessions) {
      s.terminal.detach();
      this.sessions.delete(s.info.id);
      this.byHookToken.delete(s.hookToken);
    }
    this.runs.delete(runId);
    run.resolveEnded();
    return run.sessions;
  }

  /** Whether the registry still holds this run or session id. */
  holds(id: string): boolean {
    return this.runs.has(id) || this.sessions.has(id);
  }

  /** A run that failed to launch: it is no longer live. */
  forgetRun(run: LiveRun): void {
    this.runs.delete(run.info.id);
    run.resolveEnded();
  }

  /** `tokens`: the ones its agent already holds (a re-attached container's), else new ones. */
  registerSession(info: SessionInfo, run: LiveRun, tokens?: { proxy: string; hook: string }): LiveSession {
    const s: LiveSession = {
      info,
      run,
      terminal: new SessionTerminal(info.id, () => ({ cols: s.info.cols, rows: s.info.rows })),
      proxyToken: tokens?.proxy ?? secret(),
      hookToken: tokens?.hook ?? secret(),
    };
    run.sessions.push(s);
    this.sessions.set(info.id, s);
    this.byHookToken.set(s.hookToken, s);
    return s;
  }

  // -------------------------------------------------------------------------------------------------------------------
  // Lookups

  liveRun(runId: string): LiveRun | undefined {
    return this.runs.get(runId);
  }

  liveRuns(): LiveRun[] {
    return [...this.runs.values()];
  }

  liveSession(sessionId: string): LiveSession | undefined {
    return this.sessions.get(sessionId);
  }

  liveSessions(): LiveSession[] {
    return [...this.sessions.values()];
  }

  byHook(token: string): LiveSession | undefined {
    return this.byHookToken.get(token);
  }

  /** A session of this engine; one of an earlier engine is `not_live` (resume it first). */
  live(sessionId: string): LiveSession {
    const s = this.sessions.get(sessionId);
    if (s) return s;
    if (this.store.getSession(sessionId))
      throw new EngineError('not_live', `session ${sessionId} belongs to an earlier engine and is not running — resume it first`);
    throw new EngineError('not_found', `no session with id ${sessionId}`);
  }

  sessionInfo(sessionId: string): SessionInfo {
    const info = this.sessions.get(sessionId)?.info ?? this.store.getSession(sessionId);
    if (!info) throw new EngineError('not_found', `no session with id ${sessionId}`);
    return info;
  }

  runInfo(runId: string): RunInfo {
    const run = this.runs.get(runId)?.info ?? this.store.getRun(runId);
    if (!run) throw new EngineError('not_found', `no run with id ${runId}`);
    return run;
  }

  /** The resolved template a run was launched with. */
  template(runId: string): Template {
    const live = this.runs.get(runId);
    if (live) return live.template;
    const json = this.store.getRunTemplate(runId);
    if (json === null) throw new EngineError('not_found', `no run with id ${runId}`);
    return parseStoredTemplate(json, runId);
  }

  listRuns(): RunInfo[] {
    return this.store.listRuns().map((r) => this.runs.get(r.id)?.info ?? r);
  }

  listSessions(runId?: string): SessionInfo[] {
    return this.store.listSessions(runId).map((s) => this.sessions.get(s.id)?.info ?? s);
  }

  // -------------------------------------------------------------------------------------------------------------------
  // Changes: store first, then the clients

  patchSession(s: LiveSession, patch: Partial<SessionInfo>): void {
    s.info = { ...s.info, ...patch };
    this.store.updateSession(s.info.id, patch);
    this.emit({ type: 'event', event: 'session', session: s.info });
  }

  /** A new status, recorded in the session's history. */
  setStatus(s: LiveSession, status: SessionStatus, detail: string | null, patch: Partial<SessionInfo> = {}): void {
    this.store.addStatus(s.info.id, status, detail, now());
    this.patchSession(s, { status, statusDetail: detail, ...patch });
  }

  updateRun(run: LiveRun, patch: Partial<RunInfo>): void {
    run.info = { ...run.info, ...patch };
    this.store.updateRun(run.info.id, patch);
    this.emit({ type: 'event', event: 'run', run: run.info });
  }

  /** Marks the run ended once every session is final (and resolves waitForRun). */
  checkRunEnded(run: LiveRun): void {
    if (!run.sessions.every((x) => isFinalStatus(x.info.status))) return;
    if (run.info.state !== 'ended') this.updateRun(run, { state: 'ended', endedAt: now() });
    run.resolveEnded();
  }

  /** A session came back to life (restart, resume) in a run that had ended: the run runs again. */
  reopenRun(run: LiveRun): void {
    if (run.info.state !== 'ended') return;
    let resolveEnded!: () => void;
    run.ended = new Promise<void>((r) => (resolveEnded = r));
    run.resolveEnded = resolveEnded;
    this.updateRun(run, { state: 'running', endedAt: null });
  }

  waitForRun(runId: string): Promise<void> {
    return this.runs.get(runId)?.ended ?? Promise.resolve();
  }
}
