// Running sessions: starting queued ones while the run has room under its concurrency, building each agent's launch
// (its config files, the meter route, the pty), following the process's status, and the lifecycle commands (stop,
// restart, resume, stop a run). Terminal I/O goes to the session's terminal, which outlives the process.
import { randomUUID } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  type EngineEvent,
  type MeterVerdict,
  type ProviderLimits,
  type SessionInfo,
  type SessionStatus,
  type SnapshotResult,
  isFinalStatus,
} from '../../shared/contract.ts';
import { EngineError } from '../errors.ts';
import { type Meter, type MeterProxy, PriceTable, proxyUrl } from '../meter/index.ts';
import type { PtyHost } from '../ptyhost/index.ts';
import type { OutputSink, PtySpec, SessionProcess, Subscription } from '../sessions/index.ts';
import { agentPresetInfo, buildAgentLaunch, parseStoredTemplate } from '../templates/index.ts';
import { sessionRoutes } from './provider-routes.ts';
import { type PreparedSandbox, attachSandbox, prepareSandbox, sandboxEndDetail, slotSandbox, tokensFile } from '../sandbox/index.ts';
import { SETUP_FAILED_EXIT, withSetup } from '../workspace/index.ts';
import type { LiveRun, LiveSession, RunRegistry } from './registry.ts';

export interface SchedulerDeps {
  registry: RunRegistry;
  meter: Meter;
  proxy: MeterProxy;
  /** Where the agents' ptys run (a worker thread of the engine). */
  ptyHost: PtyHost;
  dataDir: string;
  env: NodeJS.ProcessEnv;
  /** The engine's http origin (known once it listens): agents' proxy and hook URLs point there. */
  origin: () => string;
  providerKey: (name: string) => string | undefined;
  /** Account-wide rate limits for a provider key from settings (a template's provider.limits win). */
  accountLimits: (name: string) => ProviderLimits | undefined;
  /** A host's engine: keys come from a desktop (see ProviderAccess). */
  keysFromDesktop?: boolean;
  /** Settings' keepContainers: an ended sandboxed session's container is left for inspection (flotilla clean removes it). */
  keepContainers?: () => boolean;
  /** Prices, reference model and budgets a run is metered with (settings ← template). */
  meterRun: (run: LiveRun) => void;
  emit: (e: EngineEvent) => void;
  log: (line: string) => void;
}

const now = () => new Date().toISOString();

/** The model a slot runs: its own where the template gives one, else the run's. */
export function slotModel(t: { model: string; models?: (string | null)[] }, slot: number): string {
  return t.models?.[slot - 1] ?? t.model;
}

/** The pause between a feedback's text and its Enter (so the agent does not read the Enter as part of a paste). */
const FEEDBACK_ENTER_MS = 250;
/** A serialized screen larger than this (a huge scrollback) is not stored. */
const MAX_STORED_SCREEN = 2 * 1024 * 1024;

export class Scheduler {
  private closing = false;

  constructor(private readonly d: SchedulerDeps) {}

  /** Starts queued sessions while the run has room under its concurrency. */
  /** Sessions whose start is under way (between being picked from the queue and their agent attached). */
  private readonly starting = new Set<LiveSession>();
  /** Sandboxed sessions' host side (the meter's socket), closed when the session ends. */
  private readonly sandboxes = new Map<string, PreparedSandbox>();
  /** Containers of ended sessions being read and removed (close waits for them: the store is still open then). */
  private readonly finishing = new Set<Promise<void>>();

  async schedule(run: LiveRun): Promise<void> {
    if (this.closing) return;
    const active = run.sessions.filter((s) => this.starting.has(s) || (s.terminal.agent && !isFinalStatus(s.info.status))).length;
    const room = run.template.concurrency - active;
    // A session being started has no agent yet (start awaits its files first): two schedules at once must not both
    // pick it (the second create would replace the first in the pty host).
    const next = run.sessions
      .filter((s) => s.info.status === 'queued' && !s.terminal.agent && !this.starting.has(s))
      .slice(0, Math.max(0, room));
    for (const s of next) this.starting.add(s);
    await Promise.all(
      next.map((s) =>
        this.start(s, false)
          .finally(() => this.starting.delete(s))
          .catch((err: Error) => {
            // A session that cannot even be set up (its config files, say) fails alone; the rest of the run goes on.
            this.d.registry.setStatus(s, 'failed', `could not start: ${err.message}`, { endedAt: now() });
            this.d.registry.checkRunEnded(s.run);
            return this.schedule(s.run);
          }),
      ),
    );
  }

  /** The session's own budget once raised (kept in the store), else its run's per-session budget. */
  private sessionBudget(s: LiveSession): number | null {
    return this.d.registry.store.getSessionBudget(s.info.id) ?? s.run.info.budget.perSessionUsd;
  }

  /**
   * `attach`: the session's container is still running (its engine died, this one started): the pty attaches to it,
   * nothing is rewritten (the agent read its files at its start), the meter takes its requests under the same tokens.
   */
  private async start(s: LiveSession, resume: boolean, attach = false): Promise<void> {
    const { registry, meter, proxy } = this.d;
    const t = s.run.template;
    const sessionDir = join(this.d.dataDir, 'sessions', s.info.id);
    await mkdir(sessionDir, { recursive: true });
    const origin = this.d.origin();
    const model = slotModel(t, s.info.slot);
    const launch = buildAgentLaunch(
      { ...t, model },
      {
        sessionId: s.info.id,
        slot: s.info.slot,
        task: s.info.task,
        branch: s.info.branch,
        runName: t.name,
        cwd: s.info.worktree,
        sessionDir,
        endpoint: { baseUrl: proxyUrl(origin, s.proxyToken), token: s.proxyToken },
        hookUrl: `${origin}/hooks/${s.hookToken}`,
        agentSessionId: s.info.agentSessionId ?? randomUUID(),
        resume,
        contextWindow: meter.runPrices(s.run.info.id)?.contextWindow(model) ?? null,
      },
      this.d.env,
    );
    for (const f of attach ? [] : launch.files) {
      await mkdir(dirname(f.path), { recursive: true });
      await writeFile(f.path, f.content, { mode: f.mode ?? 0o600 });
      if (f.mode) await chmod(f.path, f.mode);
    }
    const routes = sessionRoutes(t, s.info.id, model, meter.runPrices(s.run.info.id) ?? PriceTable.shipped(), this.d);
    meter.addSession({
      sessionId: s.info.id,
      runId: s.run.info.id,
      model,
      budgetUsd: this.sessionBudget(s),
      ...routes.metered,
    });
    proxy.register(
      s.proxyToken,
      routes.route,
      routes.several ? meter.router.choice(s.info.id, routes.several.providers, routes.several.kind) : undefined,
    );
    // The template's setup commands run first in the same terminal (not on a resume: the worktree is set up already);
    // in a container, the image's own (its devcontainer.json's create commands) before them.
    const box = slotSandbox(t, s.info.slot);
    const setup = [...(box?.setup ?? []), ...(t.setup ?? [])];
    const cmd = resume || !setup.length ? { command: launch.command, args: launch.args } : withSetup(setup, launch.command, launch.args);
    let spec: PtySpec = {
      command: cmd.command,
      args: cmd.args,
      env: launch.env,
      cwd: s.info.worktree,
      cols: s.info.cols,
      rows: s.info.rows,
    };
    if (box) {
      // The pty runs the container; its meter-only network's one way out is a socket to this engine's port.
      await this.sandboxes.get(s.info.id)?.finish();
      const where = { sessionId: s.info.id, runId: s.run.info.id, sessionDir, enginePort: Number(new URL(origin).port) };
      const prepared = attach
        ? await attachSandbox(box, { ...where, cwd: spec.cwd, cols: spec.cols, rows: spec.rows, env: spec.env })
        : await prepareSandbox(spec, box, { ...where, dataDir: this.d.dataDir });
      this.sandboxes.set(s.info.id, prepared);
      spec = prepared.spec;
      if (prepared.tokens && !attach)
        await writeFile(prepared.tokens, JSON.stringify({ proxy: s.proxyToken, hook: s.hookToken }), { mode: 0o600 });
    }
    // What ran, for inspection. Not the environment: it holds the session's proxy token. A resume rebuilds the launch
    // from the run's template anyway (the proxy port and tokens change with every engine).
    registry.store.setSessionLaunch(s.info.id, JSON.stringify({ command: launch.command, args: launch.args, cwd: spec.cwd, resume }));
    s.info = { ...s.info, command: launch.command, args: launch.args };
    const agent = this.d.ptyHost.create(s.info.id, spec, { supportsHooks: agentPresetInfo(t.agent.preset).supportsHooks });
    s.terminal.attach(agent);
    agent.on('status', (status: SessionStatus, detail: string | null) => this.onAgentStatus(s, agent, status, detail));
    agent.on('exit', (e: { exitCode: number | null; signal: string | null }) => {
      if (s.terminal.agent === agent)
        this.d.emit({ type: 'event', event: 'exit', sessionId: s.info.id, exitCode: e.exitCode, signal: e.signal });
    });
    await agent.start();
    // A re-attached agent drew its screen for the engine that died: a size change (one row less, then back) makes a
    // full-screen agent draw it again for this engine's mirror.
    if (attach && spec.rows > 2) {
      agent.resize(spec.cols, spec.rows - 1);
      agent.resize(spec.cols, spec.rows);
    }
    registry.patchSession(s, {
      command: launch.command,
      args: launch.args,
      pid: agent.pid,
      startedAt: now(),
      endedAt: null,
      exitCode: null,
      signal: null,
    });
  }

  private onAgentStatus(s: LiveSession, agent: SessionProcess, status: SessionStatus, detail: string | null): void {
    if (s.terminal.agent !== agent) return;
    const { registry } = this.d;
    const final = isFinalStatus(status);
    const patch: Partial<SessionInfo> = { pid: agent.pid };
    if (final) Object.assign(patch, { exitCode: agent.exitCode, signal: agent.signal, endedAt: now() });
    if (final && status === 'failed' && agent.exitCode === SETUP_FAILED_EXIT && s.run.template.setup?.length)
      detail = 'setup failed — its output is in the tile; fix the setup command (or the repo) and Restart';
    registry.setStatus(s, status, detail, patch);
    if (final) {
      this.finishSandbox(s, status, agent.exitCode);
      void this.keepScreen(s);
      void this.schedule(s.run).catch((err) => this.d.log(`could not start a queued session: ${err.message}`));
      registry.checkRunEnded(s.run);
    } else {
      registry.reopenRun(s.run);
    }
  }

  /** A sandboxed session ended: its container says how (out of memory?) and is removed (or kept, by the setting). */
  private finishSandbox(s: LiveSession, status: SessionStatus, exitCode: number | null): void {
    const box = this.sandboxes.get(s.info.id);
    const cfg = slotSandbox(s.run.template, s.info.slot);
    if (!box || !cfg) return;
    this.sandboxes.delete(s.info.id);
    const done = box
      .finish({ keep: this.d.keepContainers?.() ?? false })
      .then((end) => {
        const detail = status === 'failed' ? sandboxEndDetail(cfg, exitCode, end?.oomKilled ?? false) : null;
        if (detail && s.info.status === 'failed') this.d.registry.setStatus(s, 'failed', detail, {});
      })
      .catch((err: Error) => this.d.log(`sandbox of session ${s.info.id}: ${err.message}`))
      .finally(() => this.finishing.delete(done));
    this.finishing.add(done);
  }

  /** The meter's view of a session (over budget, rate limited, rejected, back to work), for its status machine. */
  onMeterStatus(sessionId: string, status: MeterVerdict, detail: string | null): void {
    this.d.registry.liveSession(sessionId)?.terminal.agent?.applyMeterVerdict(status, detail);
  }

  // -------------------------------------------------------------------------------------------------------------------
  // Terminal I/O

  subscribe(sessionId: string, sink: OutputSink): { subscription: Subscription; snapshot: Promise<SnapshotResult> } {
    const live = this.d.registry.liveSession(sessionId);
    if (live) return live.terminal.subscribe(sink);
    // A session of an earlier engine: its last screen, as stored when it ended (nothing follows).
    const info = this.d.registry.sessionInfo(sessionId);
    const screen = this.d.registry.store.getScreen(sessionId) ?? { cols: info.cols, rows: info.rows, data: '' };
    return { snapshot: Promise.resolve({ sessionId, ...screen }), subscription: { ack: () => {}, close: () => {}, hold: () => {} } };
  }

  /** Keeps the session's screen in the store (an ended run's tiles show it after this engine is gone). */
  private async keepScreen(s: LiveSession): Promise<void> {
    try {
      const snap = await s.terminal.snapshot();
      if (snap.data && snap.data.length <= MAX_STORED_SCREEN) this.d.registry.store.saveScreen(s.info.id, snap);
    } catch (err) {
      this.d.log(`could not keep session ${s.info.slot}'s last screen: ${(err as Error).message}`);
    }
  }

  /** The screen now; for a session no longer live (an earlier engine's, or a cleaned run's), its last stored screen. */
  snapshot(sessionId: string): Promise<SnapshotResult> {
    const live = this.d.registry.liveSession(sessionId);
    if (live) return live.terminal.snapshot();
    return this.subscribe(sessionId, { send: () => {} }).snapshot;
  }

  /** The screen now, as the mirror has parsed it (no scrollback, no wait); an ended session's last stored screen. */
  screen(sessionId: string): Promise<SnapshotResult> {
    const live = this.d.registry.liveSession(sessionId);
    if (live) return live.terminal.screen();
    return this.snapshot(sessionId);
  }

  input(sessionId: string, data: string): void {
    const s = this.d.registry.live(sessionId);
    const agent = s.terminal.agent;
    if (!agent) throw new EngineError('queued', `session ${s.info.slot} is queued and has not started yet`);
    agent.write(data);
  }

  /**
   * Types `text` into the session's agent as its next prompt, then Enter on its own a moment later (Claude Code reads
   * a burst of keys as a paste; an Enter inside it would be a newline). Lines are joined with spaces.
   */
  async sendFeedback(sessionId: string, text: string): Promise<void> {
    const info = this.d.registry.sessionInfo(sessionId);
    const live = this.d.registry.liveSession(sessionId);
    const agent = live?.terminal.agent;
    if (!live || !agent || isFinalStatus(live.info.status)) {
      const back = info.agentSessionId ? 'resume it (its conversation goes on)' : 'restart it';
      throw new EngineError('not_running', `session ${info.slot} is ${info.status}, not running — ${back}, then send the feedback again`, {
        field: 'sessionId',
      });
    }
    if (live.info.status === 'queued')
      throw new EngineError('queued', `session ${info.slot} is queued and has not started yet — send the feedback once it runs`);
    agent.write(text.replace(/\s*\r?\n\s*/g, ' ').trim());
    await new Promise((r) => setTimeout(r, FEEDBACK_ENTER_MS));
    if (live.terminal.agent === agent) agent.write('\r');
  }

  resize(sessionId: string, cols: number, rows: number): void {
    const s = this.d.registry.live(sessionId);
    s.terminal.agent?.resize(cols, rows);
    s.info = { ...s.info, cols, rows };
    this.d.registry.store.updateSession(sessionId, { cols, rows });
  }

  // -------------------------------------------------------------------------------------------------------------------
  // Lifecycle

  async stop(sessionId: string): Promise<void> {
    const s = this.d.registry.live(sessionId);
    // A request held for its budget is answered before the agent goes, not left to a dead connection.
    this.d.meter.endSession(sessionId);
    const agent = s.terminal.agent;
    if (agent) return agent.stop();
    // A queued session never started: it is simply stopped.
    this.d.registry.setStatus(s, 'stopped', 'stopped before it started', { endedAt: now() });
    this.d.registry.checkRunEnded(s.run);
  }

  async restart(sessionId: string): Promise<void> {
    const s = this.d.registry.live(sessionId);
    const agent = s.terminal.agent;
    // No process yet, or one that went down with its pty host: a fresh one (the old screen went with that host).
    if (!agent || s.info.status === 'interrupted') {
      s.terminal.detach();
      return this.start(s, false);
    }
    await agent.restart();
    this.d.registry.patchSession(s, { pid: agent.pid, startedAt: now(), endedAt: null, exitCode: null, signal: null });
  }

  /** Brings back a session (of this or an earlier engine) in its worktree; Claude Code continues its conversation. */
  async resume(sessionId: string): Promise<void> {
    const { registry } = this.d;
    const existing = registry.liveSession(sessionId);
    if (existing) {
      if (existing.terminal.agent && !isFinalStatus(existing.info.status)) return;
      existing.terminal.detach();
      return this.start(existing, existing.info.agentSessionId !== null);
    }
    const { s, info } = this.revive(sessionId);
    await this.start(s, info.agentSessionId !== null);
  }

  /**
   * A sandboxed session of an earlier engine whose container is still running: back in the grid, attached to it, with
   * the tokens its agent holds (kept in its dir while the container ran). Throws when it cannot be (the caller removes
   * the container and says so).
   */
  async reattach(sessionId: string): Promise<void> {
    const file = tokensFile(join(this.d.dataDir, 'sessions', sessionId));
    const text = await readFile(file, 'utf8').catch(() => {
      throw new Error(
        'no tokens were kept for it (its network is host, or an earlier build started it): its agent cannot reach this engine',
      );
    });
    const tokens = JSON.parse(text) as { proxy?: unknown; hook?: unknown };
    if (typeof tokens.proxy !== 'string' || typeof tokens.hook !== 'string') throw new Error(`${file} holds no tokens`);
    const { s } = this.revive(sessionId, { proxy: tokens.proxy, hook: tokens.hook });
    if (!slotSandbox(s.run.template, s.info.slot)) throw new Error('its run no longer says it is sandboxed');
    await this.start(s, true, true);
  }

  /** A stored session (and its run) made live again. */
  private revive(sessionId: string, tokens?: { proxy: string; hook: string }): { s: LiveSession; info: SessionInfo } {
    const { registry } = this.d;
    const info = registry.store.getSession(sessionId);
    if (!info) throw new EngineError('not_found', `no session with id ${sessionId}`);
    const runInfo = registry.store.getRun(info.runId);
    const json = registry.store.getRunTemplate(info.runId);
    if (!runInfo || json === null) throw new EngineError('not_found', `the run of session ${sessionId} is gone`);
    let run = registry.liveRun(runInfo.id);
    if (!run) {
      run = registry.registerRun({ ...runInfo, state: 'running', endedAt: null }, parseStoredTemplate(json, runInfo.id));
      this.d.meterRun(run);
    }
    const s = registry.registerSession(info, run, tokens);
    registry.store.claimRun(run.info.id);
    registry.updateRun(run, { state: 'running', endedAt: null });
    return { s, info };
  }

  async stopRun(runId: string): Promise<void> {
    const run = this.d.registry.liveRun(runId);
    if (!run) return;
    await Promise.all(run.sessions.map((s) => (isFinalStatus(s.info.status) ? undefined : this.stop(s.info.id))));
  }

  /** Stops every live agent (SIGTERM, then SIGKILL after the grace period) and frees the terminals. */
  async close(): Promise<void> {
    this.closing = true;
    const { registry } = this.d;
    await Promise.all(
      registry.liveSessions().map(async (s) => {
        if (s.terminal.agent && !isFinalStatus(s.info.status)) {
          await this.keepScreen(s);
          await s.terminal.agent.stop().catch(() => {});
        }
        s.terminal.dispose();
      }),
    );
    for (const run of registry.liveRuns()) registry.checkRunEnded(run);
    await Promise.all([...this.sandboxes.values()].map((b) => b.finish()));
    this.sandboxes.clear();
    await Promise.all([...this.finishing]);
  }
}
