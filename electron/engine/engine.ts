// The engine: launches runs from templates, owns the live sessions, persists them, and serves the API.
// Plain Node (no electron import): it runs as `flotilla serve`, in-process for `flotilla run`, and as the desktop app's child.
import { EventEmitter } from 'node:events';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, writeFile, chmod, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve as resolvePath, sep } from 'node:path';
import {
  type ChangedFile,
  type CommandArgs,
  type ConflictWarning,
  type EngineEvent,
  type FileDiff,
  type LedgerRow,
  type PriceEntry,
  type RunSpend,
  type SessionSpend,
  type LaunchProgress,
  type LaunchResult,
  type RunInfo,
  type RunReport,
  type SessionInfo,
  type SessionStatus,
  type SnapshotResult,
  isFinalStatus,
  Limits,
} from '../shared/contract.ts';
import { EngineError } from './errors.ts';
import { DemoHost } from './demo/index.ts';
import { fetchBalance } from './meter/balance.ts';
import { ApiServer } from './api/index.ts';
import {
  Meter,
  MeterProxy,
  PriceTable,
  ProviderKeys,
  SpendLedger,
  effectivePrices,
  loadSettings,
  parseSettings,
  proxyUrl,
  saveSettings,
  type Settings,
} from './meter/index.ts';
import { AgentSession, type HookEvent, type OutputSink, type PtySpec, type Subscription } from './sessions/index.ts';
import { Store } from './store/index.ts';
import { libraryDirs, listLibrary, readLibraryTemplate, saveLibraryTemplate, type TemplateEntry } from './templates/library.ts';
import {
  type Template,
  agentPresetInfo,
  buildAgentLaunch,
  findOnPath,
  loadTemplateFile,
  parseTemplate,
  slotTask,
} from './templates/index.ts';
import {
  createWorktrees,
  cleanRun,
  repoToplevel,
  resolveRef,
  runSlug,
  sessionBranch,
  ConflictDetector,
  MergeRefused,
  commitSession,
  currentBranch,
  exportPatch,
  fileDiff,
  removeWorktrees,
  sessionChanges,
  squashMerge,
} from './workspace/index.ts';

export interface EngineOptions {
  dataDir: string;
  host?: string;
  port?: number;
  /** API token; random per launch when not given. */
  token?: string;
  /** Environment that provider keys and PATH come from (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Directory of the built UI to serve at / (optional). */
  staticDir?: string | null;
  log?: (line: string) => void;
}

interface LiveRun {
  info: RunInfo;
  template: Template;
  /** Worktree mode: watches every session's changes and warns of collisions. */
  detector: ConflictDetector | null;
  /** The branch `base` named (or HEAD's branch at launch): where merges go and what drift is measured against. */
  baseBranch: string | null;
  /** Shared mode: which sessions' tool calls touched each repo-relative path. */
  claims: Map<string, Set<string>>;
  sessions: LiveSession[];
  ended: Promise<void>;
  resolveEnded: () => void;
}

interface LiveSession {
  info: SessionInfo;
  run: LiveRun;
  agent: AgentSession | null;
  /** Clients watching the session: they outlive the agent process (queued → started, resume) and follow it. */
  clients: Set<ClientSubscription>;
  proxyToken: string;
  hookToken: string;
}

interface ClientSubscription {
  sink: OutputSink;
  /** The subscription to the current agent process; null while the session is queued. */
  current: Subscription | null;
}

const now = () => new Date().toISOString();
/** Where a running engine tells other local processes (the CLI) how to reach it; mode 0600, removed on close. */
export const ENGINE_FILE = 'engine.json';
const secret = () => randomBytes(24).toString('base64url');

export class Engine extends EventEmitter {
  readonly token: string;
  readonly proxy = new MeterProxy();
  readonly meter: Meter;
  private readonly ledger: SpendLedger;
  private readonly runs = new Map<string, LiveRun>();
  private readonly sessions = new Map<string, LiveSession>();
  private readonly sessionsByHookToken = new Map<string, LiveSession>();
  private readonly env: NodeJS.ProcessEnv;
  private readonly log: (line: string) => void;
  private server!: ApiServer;
  private closing = false;
  /** The built-in demo's simulated provider (started by the first demo(); closed with the engine). */
  private demoHost: DemoHost | null = null;

  private constructor(
    readonly store: Store,
    readonly dataDir: string,
    private settings: Settings,
    private readonly keys: ProviderKeys,
    private readonly opts: EngineOptions,
  ) {
    super();
    this.token = opts.token ?? secret();
    this.env = opts.env ?? process.env;
    this.log = opts.log ?? (() => {});
    this.ledger = new SpendLedger(store);
    this.meter = new Meter(this.ledger, this.proxy);
    this.meter.on('spend', (spend) => this.emitEvent({ type: 'event', event: 'spend', spend }));
    this.meter.on('runSpend', (spend) => this.emitEvent({ type: 'event', event: 'runSpend', spend }));
    this.meter.on('budget', (b) => this.emitEvent({ type: 'event', event: 'budget', ...b }));
    this.meter.on('intent', (intent) => {
      this.emitEvent({ type: 'event', event: 'intent', intent });
      this.noteEdit(intent.sessionId, intent.path, intent.tool, true);
    });
    this.meter.on('upstreamError', (sessionId, error) => this.emitEvent({ type: 'event', event: 'upstreamError', sessionId, error }));
    this.meter.on('status', (sessionId, status, detail) => {
      const agent = this.sessions.get(sessionId)?.agent;
      if (!agent || isFinalStatus(agent.status)) return;
      // The meter only lifts the states it set itself.
      if (status === 'working' && agent.status !== 'over_budget' && agent.status !== 'rate_limited') return;
      agent.setStatus(status, detail);
    });
  }

  static async create(opts: EngineOptions): Promise<Engine> {
    const { ensureDataDir } = await import('./store/index.ts');
    const dataDir = await ensureDataDir(opts.dataDir);
    const settings = await loadSettings(dataDir);
    const keys = await ProviderKeys.load(dataDir);
    // Exclusive (WAL) mode: a write costs ~0.3 ms instead of several ms of lock-file churn, which matters on the meter's
    // path. Other processes (the `flotilla runs` CLI) reach this engine's data through its API (engine.json) meanwhile.
    const store = Store.open(dataDir, { exclusive: true });
    const reconciled = store.reconcileAfterRestart();
    const engine = new Engine(store, dataDir, settings, keys, opts);
    if (reconciled.sessions > 0) engine.log(`${reconciled.sessions} session(s) of an earlier engine were marked stopped`);
    const interrupted = engine.ledger.interruptOpen();
    if (interrupted > 0) engine.log(`${interrupted} model request(s) open when an earlier engine died were recorded as interrupted`);
    engine.server = new ApiServer(engine, {
      host: opts.host ?? '127.0.0.1',
      port: opts.port ?? 0,
      token: engine.token,
      staticDir: opts.staticDir ?? null,
    });
    try {
      await engine.server.listen();
    } catch (err) {
      store.close();
      throw err;
    }
    await writeFile(join(dataDir, ENGINE_FILE), JSON.stringify({ pid: process.pid, origin: engine.origin, token: engine.token }), {
      mode: 0o600,
    });
    return engine;
  }

  /** http://127.0.0.1:PORT */
  get origin(): string {
    return this.server.origin;
  }

  /** The URL a user opens: the UI with the token. */
  get uiUrl(): string {
    return `${this.origin}/?token=${this.token}`;
  }

  get wsUrl(): string {
    return `${this.origin.replace(/^http/, 'ws')}/ws?token=${this.token}`;
  }

  private emitEvent(e: EngineEvent): void {
    this.emit('event', e);
  }

  private progress(p: LaunchProgress): void {
    this.emitEvent({ type: 'event', event: 'launchProgress', progress: p });
  }

  // -------------------------------------------------------------------------------------------------------------------
  // Template library (the launch dialog's picker and "Save template")

  /** Repos whose template folder was listed: readTemplate may read from them. */
  private readonly templateRepos = new Set<string>();

  async listTemplates(args: CommandArgs<'listTemplates'> = {}): Promise<TemplateEntry[]> {
    const dirs = libraryDirs(this.dataDir, args.repo);
    this.templateRepos.add(dirs.repo);
    return listLibrary(dirs);
  }

  async readTemplate(args: CommandArgs<'readTemplate'>): Promise<{ text: string }> {
    const dirs = libraryDirs(this.dataDir, args.repo);
    const allowed = new Set([dirs.data, dirs.repo, libraryDirs(this.dataDir, undefined).repo, ...this.templateRepos]);
    return readLibraryTemplate(args.path, [...allowed]);
  }

  async saveTemplate(args: CommandArgs<'saveTemplate'>): Promise<TemplateEntry & { overwritten: boolean }> {
    const dirs = libraryDirs(this.dataDir, args.repo);
    const saved = await saveLibraryTemplate(
      { name: args.name, text: args.text, dir: dirs[args.where], source: args.where, overwrite: args.overwrite },
      { cwd: process.cwd(), knownPrices: effectivePrices(this.settings) },
    );
    if (args.where === 'repo') this.templateRepos.add(dirs.repo);
    return saved;
  }

  // -------------------------------------------------------------------------------------------------------------------
  // Launch

  async launch(args: CommandArgs<'launch'>): Promise<LaunchResult> {
    if (this.closing) throw new EngineError('closing', 'the engine is shutting down');
    const cwd = process.cwd();
    const topts = { cwd, repo: args.repo, count: args.count, overrides: args.overrides, knownPrices: effectivePrices(this.settings) };
    let template: Template;
    if (args.templatePath) template = await loadTemplateFile(args.templatePath, topts);
    else if (args.templateText) template = parseTemplate(args.templateText, '<template>', topts);
    else throw new EngineError('bad_request', 'launch needs templatePath or templateText');

    // Everything that can be checked before touching the repository is checked first: nothing half-made.
    const command = findOnPath(template.agent.command, this.env.PATH);
    if (!command) {
      const info = agentPresetInfo(template.agent.preset);
      throw new EngineError(
        'agent_missing',
        `agent binary '${template.agent.command}' (preset ${template.agent.preset}) not found on PATH — install it: ${info.installHint}`,
      );
    }
    let repo = template.repo;
    let baseCommit: string | null = null;
    if (template.workspace === 'worktree') {
      repo = await repoToplevel(template.repo);
      baseCommit = await resolveRef(repo, template.base);
    } else {
      repo = await repoToplevel(template.repo).catch(() => template.repo);
      baseCommit = await resolveRef(repo, template.base).catch(() => null);
    }

    const runId = randomUUID();
    const slug = runSlug(template.name, runId);
    const run: RunInfo = {
      id: runId,
      name: template.name,
      slug,
      repo,
      base: template.base,
      baseCommit,
      workspace: template.workspace,
      state: 'launching',
      templatePath: template.file,
      model: template.model,
      agentPreset: template.agent.preset,
      providerPreset: template.provider.preset,
      budget: {
        perSessionUsd: template.budget.perSessionUsd ?? this.settings.defaultBudget?.perSessionUsd ?? null,
        runUsd: template.budget.runUsd ?? this.settings.defaultBudget?.runUsd ?? null,
      },
      concurrency: template.concurrency,
      startedAt: now(),
      endedAt: null,
      error: null,
    };
    const resolved = { ...template, repo };
    const live = this.registerRun(run, resolved);
    this.meterRun(live);
    this.store.insertRun(run, JSON.stringify(resolved));
    this.emitEvent({ type: 'event', event: 'run', run });
    this.progress({ runId, phase: 'validating', done: 0, total: template.count, message: `launching ${template.count} session(s)` });

    const slots = Array.from({ length: template.count }, (_, i) => i + 1);
    const worktreeRoot = join(this.dataDir, 'worktrees', runId);
    let paths = new Map<number, { path: string; branch: string | null }>();
    if (template.workspace === 'worktree') {
      try {
        const entries = await createWorktrees({
          repo,
          baseCommit: baseCommit!,
          slug,
          slots,
          root: worktreeRoot,
          onProgress: (done, total, entry) =>
            this.progress({ runId, phase: 'worktrees', done, total, message: `worktree ${entry.slot}/${total} ready` }),
        });
        paths = new Map(entries.map((e) => [e.slot, { path: e.path, branch: e.branch }]));
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        this.updateRun(live, { state: 'failed', error: message, endedAt: now() });
        this.progress({ runId, phase: 'failed', done: 0, total: template.count, message });
        this.runs.delete(runId);
        live.resolveEnded();
        throw err;
      }
    } else {
      for (const slot of slots) paths.set(slot, { path: repo, branch: null });
    }

    for (const slot of slots) {
      const ws = paths.get(slot)!;
      const info: SessionInfo = {
        id: randomUUID(),
        runId,
        slot,
        task: slotTask(template, slot),
        status: 'queued',
        statusDetail: null,
        branch: ws.branch ?? (template.workspace === 'worktree' ? sessionBranch(slug, slot) : null),
        worktree: ws.path,
        command: template.agent.command,
        args: [],
        agentSessionId: template.agent.preset.startsWith('claude-code') ? randomUUID() : null,
        pid: null,
        exitCode: null,
        signal: null,
        startedAt: null,
        endedAt: null,
        cols: Limits.DefaultCols,
        rows: Limits.DefaultRows,
      };
      this.registerSession(info, live);
      this.store.insertSession(info, JSON.stringify({}));
      this.store.addStatus(info.id, 'queued', null, now());
      this.emitEvent({ type: 'event', event: 'session', session: info });
    }
    live.baseBranch = await baseBranchOf(repo, template.base);
    if (template.workspace === 'worktree' && baseCommit) this.watchRun(live, repo, baseCommit);
    this.updateRun(live, { state: 'running' });
    this.progress({ runId, phase: 'starting', done: 0, total: template.count, message: 'starting sessions' });
    await this.schedule(live);
    this.progress({ runId, phase: 'done', done: template.count, total: template.count, message: 'launched' });
    return { run: live.info, sessions: live.sessions.map((s) => s.info) };
  }

  /** `flotilla demo`: a simulated K2 provider and demo agents editing a scratch repository (see demo/index.ts). */
  async demo(args: CommandArgs<'demo'> = {}): Promise<LaunchResult> {
    if (this.closing) throw new EngineError('closing', 'the engine is shutting down');
    this.demoHost ??= new DemoHost(this.env);
    return this.demoHost.launch(this, { count: args.count });
  }

  private registerRun(info: RunInfo, template: Template): LiveRun {
    let resolveEnded!: () => void;
    const ended = new Promise<void>((r) => (resolveEnded = r));
    const live: LiveRun = { info, template, detector: null, baseBranch: null, claims: new Map(), sessions: [], ended, resolveEnded };
    this.runs.set(info.id, live);
    return live;
  }

  private watchRun(run: LiveRun, repo: string, baseCommit: string): void {
    const detector = new ConflictDetector({ repo, baseCommit, baseBranch: run.baseBranch });
    run.detector = detector;
    detector.on('changes', (sessionId: string, files: ChangedFile[]) =>
      this.emitEvent({ type: 'event', event: 'changes', sessionId, files }),
    );
    detector.on('warnings', (warnings: ConflictWarning[]) =>
      this.emitEvent({ type: 'event', event: 'conflicts', runId: run.info.id, warnings }),
    );
    detector.on('scanError', (_id: string | null, err: Error) => this.log(`change scan failed: ${err.message}`));
    for (const s of run.sessions) detector.addSession(s.info.id, s.info.worktree);
  }

  /** Prices: shipped ← settings ← template; savings against the template's, else the settings', reference model. */
  private meterRun(run: LiveRun): void {
    const t = run.template;
    this.meter.addRun({
      runId: run.info.id,
      budgetUsd: run.info.budget.runUsd,
      prices: effectivePrices(this.settings, t.prices),
      referenceModel: t.referenceModel ?? this.settings.referenceModel ?? 'claude-sonnet-4-5',
    });
  }

  private registerSession(info: SessionInfo, run: LiveRun): LiveSession {
    const s: LiveSession = { info, run, agent: null, clients: new Set(), proxyToken: secret(), hookToken: secret() };
    run.sessions.push(s);
    this.sessions.set(info.id, s);
    this.sessionsByHookToken.set(s.hookToken, s);
    return s;
  }

  /** Starts queued sessions while the run has room under its concurrency. */
  private async schedule(run: LiveRun): Promise<void> {
    if (this.closing) return;
    const active = run.sessions.filter((s) => s.agent && !isFinalStatus(s.info.status)).length;
    const room = run.template.concurrency - active;
    const next = run.sessions.filter((s) => s.info.status === 'queued' && !s.agent).slice(0, Math.max(0, room));
    await Promise.all(
      next.map((s) =>
        this.startSession(s, false).catch((err: Error) => {
          // A session that cannot even be set up (its config files, say) fails alone; the rest of the run goes on.
          const detail = `could not start: ${err.message}`;
          this.store.addStatus(s.info.id, 'failed', detail, now());
          this.patchSession(s, { status: 'failed', statusDetail: detail, endedAt: now() });
          this.checkRunEnded(s.run);
          return this.schedule(s.run);
        }),
      ),
    );
  }

  private async startSession(s: LiveSession, resume: boolean): Promise<void> {
    const t = s.run.template;
    const sessionDir = join(this.dataDir, 'sessions', s.info.id);
    await mkdir(sessionDir, { recursive: true });
    const launch = buildAgentLaunch(
      t,
      {
        sessionId: s.info.id,
        slot: s.info.slot,
        task: s.info.task,
        branch: s.info.branch,
        runName: t.name,
        cwd: s.info.worktree,
        sessionDir,
        endpoint: { baseUrl: proxyUrl(this.origin, s.proxyToken), token: s.proxyToken },
        hookUrl: `${this.origin}/hooks/${s.hookToken}`,
        agentSessionId: s.info.agentSessionId ?? randomUUID(),
        resume,
      },
      this.env,
    );
    for (const f of launch.files) {
      await mkdir(dirname(f.path), { recursive: true });
      await writeFile(f.path, f.content, { mode: f.mode ?? 0o600 });
      if (f.mode) await chmod(f.path, f.mode);
    }
    if (!this.meter.sessionSpend(s.info.id))
      this.meter.addSession({
        sessionId: s.info.id,
        runId: s.run.info.id,
        style: t.provider.style,
        model: t.model,
        budgetUsd: s.run.info.budget.perSessionUsd,
      });
    this.proxy.register(s.proxyToken, {
      sessionId: s.info.id,
      upstreamBaseUrl: t.provider.baseUrl,
      apiKey: this.providerKey(t.provider.apiKeyEnv) ?? null,
      style: t.provider.style,
    });
    const spec: PtySpec = {
      command: launch.command,
      args: launch.args,
      env: launch.env,
      cwd: s.info.worktree,
      cols: s.info.cols,
      rows: s.info.rows,
    };
    // What ran, for inspection. Not the environment: it holds the session's proxy token. A resume rebuilds the launch
    // from the run's template anyway (the proxy port and tokens change with every engine).
    this.store.updateSession(s.info.id, { command: launch.command, args: launch.args });
    this.store.setSessionLaunch(s.info.id, JSON.stringify({ command: launch.command, args: launch.args, cwd: spec.cwd, resume }));
    s.info = { ...s.info, command: launch.command, args: launch.args };
    this.attachAgent(s, new AgentSession(s.info.id, spec, { supportsHooks: agentPresetInfo(t.agent.preset).supportsHooks }));
    s.agent!.start();
    this.patchSession(s, { pid: s.agent!.pid, startedAt: now(), endedAt: null, exitCode: null, signal: null });
  }

  private attachAgent(s: LiveSession, agent: AgentSession): void {
    s.agent = agent;
    for (const c of s.clients) {
      c.current?.close();
      c.current = agent.subscribe(c.sink);
    }
    agent.on('status', (status: SessionStatus, detail: string | null) => this.onAgentStatus(s, agent, status, detail));
    agent.on('exit', (e: { exitCode: number | null; signal: string | null }) => {
      if (s.agent !== agent) return;
      this.emitEvent({ type: 'event', event: 'exit', sessionId: s.info.id, exitCode: e.exitCode, signal: e.signal });
    });
  }

  private onAgentStatus(s: LiveSession, agent: AgentSession, status: SessionStatus, detail: string | null): void {
    if (s.agent !== agent) return;
    const final = isFinalStatus(status);
    const patch: Partial<SessionInfo> = { status, statusDetail: detail, pid: agent.pid };
    if (final) {
      patch.exitCode = agent.exitCode;
      patch.signal = agent.signal;
      patch.endedAt = now();
    }
    this.store.addStatus(s.info.id, status, detail, now());
    this.patchSession(s, patch);
    if (final) {
      void this.schedule(s.run).catch((err) => this.log(`could not start a queued session: ${err.message}`));
      this.checkRunEnded(s.run);
    } else if (s.run.info.state === 'ended') {
      this.updateRun(s.run, { state: 'running', endedAt: null });
    }
  }

  private checkRunEnded(run: LiveRun): void {
    if (run.sessions.every((x) => isFinalStatus(x.info.status))) {
      if (run.info.state !== 'ended') this.updateRun(run, { state: 'ended', endedAt: now() });
      run.resolveEnded();
    }
  }

  private patchSession(s: LiveSession, patch: Partial<SessionInfo>): void {
    s.info = { ...s.info, ...patch };
    this.store.updateSession(s.info.id, patch);
    this.emitEvent({ type: 'event', event: 'session', session: s.info });
  }

  private updateRun(run: LiveRun, patch: Partial<RunInfo>): void {
    run.info = { ...run.info, ...patch };
    this.store.updateRun(run.info.id, patch);
    this.emitEvent({ type: 'event', event: 'run', run: run.info });
  }

  // -------------------------------------------------------------------------------------------------------------------
  // Queries and commands

  listRuns(): RunInfo[] {
    return this.store.listRuns().map((r) => this.runs.get(r.id)?.info ?? r);
  }

  listSessions(runId?: string): SessionInfo[] {
    return this.store.listSessions(runId).map((s) => this.sessions.get(s.id)?.info ?? s);
  }

  private live(sessionId: string): LiveSession {
    const s = this.sessions.get(sessionId);
    if (!s) {
      const stored = this.store.getSession(sessionId);
      if (stored)
        throw new EngineError('not_live', `session ${sessionId} belongs to an earlier engine and is not running — resume it first`);
      throw new EngineError('not_found', `no session with id ${sessionId}`);
    }
    return s;
  }

  private agentOf(sessionId: string): AgentSession {
    const s = this.live(sessionId);
    if (!s.agent) throw new EngineError('queued', `session ${s.info.slot} is queued and has not started yet`);
    return s.agent;
  }

  /**
   * The screen so far and every later byte: snapshot and subscription are taken in the same tick (no gap, no overlap).
   * A queued session can be watched too: output flows once it starts (and again after a resume).
   */
  subscribe(sessionId: string, sink: OutputSink): { subscription: Subscription; snapshot: Promise<SnapshotResult> } {
    const s = this.live(sessionId);
    const snapshot = this.snapshot(sessionId);
    const client: ClientSubscription = { sink, current: s.agent ? s.agent.subscribe(sink) : null };
    s.clients.add(client);
    return {
      snapshot,
      subscription: {
        ack: (bytes) => client.current?.ack(bytes),
        close: () => {
          client.current?.close();
          s.clients.delete(client);
        },
      },
    };
  }

  async snapshot(sessionId: string): Promise<SnapshotResult> {
    const s = this.live(sessionId);
    if (!s.agent) return { sessionId, cols: s.info.cols, rows: s.info.rows, data: '' };
    const snap = await s.agent.snapshot();
    return { sessionId, ...snap };
  }

  input(sessionId: string, data: string): void {
    this.agentOf(sessionId).write(data);
  }

  resize(sessionId: string, cols: number, rows: number): void {
    const s = this.live(sessionId);
    s.agent?.resize(cols, rows);
    s.info = { ...s.info, cols, rows };
    this.store.updateSession(sessionId, { cols, rows });
  }

  async stop(sessionId: string): Promise<void> {
    const s = this.live(sessionId);
    if (!s.agent) {
      // A queued session never started: it is simply stopped.
      this.store.addStatus(s.info.id, 'stopped', 'stopped before it started', now());
      this.patchSession(s, { status: 'stopped', statusDetail: 'stopped before it started', endedAt: now() });
      this.checkRunEnded(s.run);
      return;
    }
    await s.agent.stop();
  }

  async restart(sessionId: string): Promise<void> {
    const s = this.live(sessionId);
    if (!s.agent) return this.startSession(s, false);
    await s.agent.restart();
    this.patchSession(s, { pid: s.agent.pid, startedAt: now(), endedAt: null, exitCode: null, signal: null });
  }

  /** Brings back a session of an earlier engine in its worktree; Claude Code continues its conversation (--resume). */
  async resume(sessionId: string): Promise<void> {
    const existing = this.sessions.get(sessionId);
    if (existing) {
      if (existing.agent && !isFinalStatus(existing.info.status)) return;
      existing.agent?.dispose();
      existing.agent = null;
      return this.startSession(existing, existing.info.agentSessionId !== null);
    }
    const info = this.store.getSession(sessionId);
    if (!info) throw new EngineError('not_found', `no session with id ${sessionId}`);
    const runInfo = this.store.getRun(info.runId);
    const templateJson = this.store.getRunTemplate(info.runId);
    if (!runInfo || !templateJson) throw new EngineError('not_found', `the run of session ${sessionId} is gone`);
    let run = this.runs.get(runInfo.id);
    if (!run) {
      run = this.registerRun({ ...runInfo, state: 'running', endedAt: null }, JSON.parse(templateJson) as Template);
      this.meterRun(run);
    }
    const s = this.registerSession(info, run);
    this.store.claimRun(run.info.id);
    this.updateRun(run, { state: 'running', endedAt: null });
    await this.startSession(s, info.agentSessionId !== null);
  }

  async stopRun(runId: string): Promise<void> {
    const run = this.runs.get(runId);
    if (!run) return;
    await Promise.all(run.sessions.map((s) => (isFinalStatus(s.info.status) ? undefined : this.stop(s.info.id))));
  }

  /** Removes a run's worktrees and branches (the run must have ended). */
  async cleanRun(runId: string): Promise<{ removedWorktrees: number; removedBranches: number }> {
    const live = this.runs.get(runId);
    if (live && !live.sessions.every((s) => isFinalStatus(s.info.status)))
      throw new EngineError('run_active', `run ${live.info.name} still has sessions running — stop them first (stopRun)`);
    const run = live?.info ?? this.store.getRun(runId);
    if (!run) throw new EngineError('not_found', `no run with id ${runId}`);
    if (run.workspace !== 'worktree') return { removedWorktrees: 0, removedBranches: 0 };
    const result = await cleanRun(run.repo, run.slug, join(this.dataDir, 'worktrees', runId));
    return result;
  }

  waitForRun(runId: string): Promise<void> {
    const run = this.runs.get(runId);
    return run ? run.ended : Promise.resolve();
  }

  async report(runId: string): Promise<RunReport> {
    const run = this.runs.get(runId)?.info ?? this.store.getRun(runId);
    if (!run) throw new EngineError('not_found', `no run with id ${runId}`);
    const sessions = this.listSessions(runId);
    const totals = this.ledger.totals({ runId });
    const live = this.runs.get(runId);
    // A report is a final word: let the detector catch up with the last writes first.
    if (live?.detector) await live.detector.rescanAll();
    const changed = async (s: SessionInfo): Promise<string[]> => {
      if (live?.detector) return live.detector.changes(s.id).map((f) => f.path);
      if (run.workspace === 'shared') return this.sharedChanges(runId, s.id).then((files) => files.map((f) => f.path));
      if (!run.baseCommit || !existsSync(s.worktree)) return [];
      return (await sessionChanges(s.worktree, run.baseCommit).catch(() => [])).map((f) => f.path);
    };
    return {
      run: { id: run.id, name: run.name, startedAt: run.startedAt, endedAt: run.endedAt },
      sessions: await Promise.all(
        sessions.map(async (s) => {
          const t = this.ledger.totals({ sessionId: s.id });
          return {
            id: s.id,
            slot: s.slot,
            task: s.task,
            status: s.status,
            exitCode: s.exitCode,
            branch: s.branch,
            worktree: s.worktree,
            spend: {
              usd: t.usd,
              inputTokens: t.inputTokens,
              cacheReadTokens: t.cacheReadTokens,
              outputTokens: t.outputTokens,
              requests: t.requests,
            },
            changedFiles: await changed(s),
          };
        }),
      ),
      conflicts: this.conflicts(runId).map((w) => ({ path: w.path, sessions: w.sessions, kind: w.kind })),
      totals: { usd: totals.usd, requests: totals.requests },
    };
  }

  // -------------------------------------------------------------------------------------------------------------------
  // Changes, conflicts, review

  conflicts(runId: string): ConflictWarning[] {
    const run = this.runs.get(runId);
    if (!run) return [];
    if (run.detector) return run.detector.warnings();
    // Shared workspace: a path two sessions' tool calls touched is an overlap (no branches to merge-tree).
    return [...run.claims]
      .filter(([, ids]) => ids.size > 1)
      .map(([path, ids]) => ({
        key: `overlap:${[...ids].sort().join('+')}:${path}`,
        path,
        sessions: [...ids].sort(),
        kind: 'overlap' as const,
        since: run.info.startedAt,
        detail: 'shared workspace: both sessions edited this file',
      }));
  }

  /** Shared workspace: the checkout's changes, each attributed to the sessions whose tool calls touched it. */
  private async sharedChanges(runId: string, sessionId: string | null): Promise<ChangedFile[]> {
    const run = this.runs.get(runId)?.info ?? this.store.getRun(runId);
    if (!run?.baseCommit) return [];
    const claims = this.runs.get(runId)?.claims ?? new Map<string, Set<string>>();
    const files = await sessionChanges(run.repo, run.baseCommit);
    return files
      .map((f) => ({ ...f, sessions: [...(claims.get(f.path) ?? [])].sort() }))
      .filter((f) => sessionId === null || f.sessions.includes(sessionId));
  }

  /** Changed files of a session; in shared mode, `sessions: []` marks a change nobody claimed (unattributed). */
  async changes(sessionId: string): Promise<ChangedFile[]> {
    const info = this.sessionInfo(sessionId);
    const run = this.runs.get(info.runId);
    if (run?.detector) {
      await run.detector.settled();
      return run.detector.changes(sessionId);
    }
    const stored = run?.info ?? this.store.getRun(info.runId)!;
    if (stored.workspace === 'shared') return this.sharedChanges(info.runId, null);
    if (!stored.baseCommit) return [];
    return sessionChanges(info.worktree, stored.baseCommit);
  }

  async diff(sessionId: string, path: string): Promise<FileDiff> {
    const info = this.sessionInfo(sessionId);
    const run = this.runInfo(info.runId);
    if (!run.baseCommit) throw new EngineError('no_base', `run ${run.name} has no base commit to diff against`);
    return fileDiff(info.worktree, run.baseCommit, path);
  }

  /** One path as each of several sessions changed it (all sessions of the run that changed it, by default). */
  async pathAcross(runId: string, path: string, sessionIds?: string[]): Promise<{ sessionId: string; slot: number; diff: FileDiff }[]> {
    const run = this.runInfo(runId);
    const sessions = this.listSessions(runId).filter((s) => (sessionIds ? sessionIds.includes(s.id) : true));
    const out: { sessionId: string; slot: number; diff: FileDiff }[] = [];
    for (const s of sessions) {
      if (!run.baseCommit || !existsSync(s.worktree)) continue;
      const d = await fileDiff(s.worktree, run.baseCommit, path);
      if (sessionIds || d.diff || d.binary) out.push({ sessionId: s.id, slot: s.slot, diff: d });
    }
    return out;
  }

  async commit(sessionId: string, message: string): Promise<{ commit: string | null }> {
    const info = this.sessionInfo(sessionId);
    if (this.runInfo(info.runId).workspace !== 'worktree') throw new EngineError('shared', 'commit works per worktree; this run shares one checkout');
    const r = await commitSession(info.worktree, message);
    this.runs.get(info.runId)?.detector?.touch(sessionId);
    return r;
  }

  /** Squash-merge a session into the run's base branch: refused (with the reason) rather than half-done. */
  async merge(args: CommandArgs<'merge'>): Promise<{ commit: string; files: number; target: string }> {
    const info = this.sessionInfo(args.sessionId);
    const run = this.runs.get(info.runId);
    const stored = this.runInfo(info.runId);
    if (stored.workspace !== 'worktree') throw new EngineError('shared', 'this run works in your checkout directly: there is nothing to merge');
    const target = args.target ?? run?.baseBranch ?? (await baseBranchOf(stored.repo, stored.base));
    if (!target)
      throw new EngineError('no_target', `the run's base (${stored.base}) is not a branch — pass a target branch to merge into`);
    const message = args.message ?? `${stored.name}: session ${info.slot}${info.task ? ` — ${info.task}` : ''}`;
    try {
      const r = await squashMerge({ repo: stored.repo, target, worktree: info.worktree, message });
      // Every other session's overlap and drift is now measured against the new base.
      run?.detector?.setBaseBranchMoved();
      return { ...r, target };
    } catch (err) {
      if (err instanceof MergeRefused) throw new EngineError(`merge_refused_${err.reason}`, err.message);
      throw err;
    }
  }

  /** Removes a session's worktree and branch. The session's record and ledger stay. */
  async discard(sessionId: string, confirm: boolean): Promise<void> {
    if (!confirm) throw new EngineError('confirm', 'discard removes the worktree and branch for good — send confirm: true');
    const info = this.sessionInfo(sessionId);
    const live = this.sessions.get(sessionId);
    if (live?.agent && !isFinalStatus(live.info.status)) await live.agent.stop();
    const run = this.runInfo(info.runId);
    if (run.workspace !== 'worktree') throw new EngineError('shared', 'this run shares your checkout: there is no worktree to discard');
    this.runs.get(info.runId)?.detector?.removeSession(sessionId);
    await removeWorktrees(run.repo, [{ path: info.worktree, branch: info.branch }]);
  }

  async exportPatch(sessionId: string): Promise<{ patch: string }> {
    const info = this.sessionInfo(sessionId);
    const run = this.runInfo(info.runId);
    if (!run.baseCommit) throw new EngineError('no_base', `run ${run.name} has no base commit`);
    return { patch: await exportPatch(info.worktree, run.baseCommit) };
  }

  worktreePath(sessionId: string): { path: string; exists: boolean } {
    const info = this.sessionInfo(sessionId);
    return { path: info.worktree, exists: existsSync(info.worktree) };
  }

  private sessionInfo(sessionId: string): SessionInfo {
    const info = this.sessions.get(sessionId)?.info ?? this.store.getSession(sessionId);
    if (!info) throw new EngineError('not_found', `no session with id ${sessionId}`);
    return info;
  }

  private runInfo(runId: string): RunInfo {
    const run = this.runs.get(runId)?.info ?? this.store.getRun(runId);
    if (!run) throw new EngineError('not_found', `no run with id ${runId}`);
    return run;
  }

  /** Spend of a run and each of its sessions: live figures for a run of this engine, the ledger's for older ones. */
  spend(runId: string): { run: RunSpend | null; sessions: SessionSpend[] } {
    const live = this.meter.runSpend(runId);
    const sessions = this.listSessions(runId)
      .map((s) => this.meter.sessionSpend(s.id))
      .filter((x): x is SessionSpend => x !== null);
    if (live) return { run: live, sessions };
    if (!this.store.getRun(runId)) throw new EngineError('not_found', `no run with id ${runId}`);
    return { run: null, sessions: [] };
  }

  ledgerRows(runId: string): LedgerRow[] {
    return this.ledger.rows(runId);
  }

  /** The run's ledger as CSV (one row per model request; the usd column sums to the run's total). */
  ledgerCsv(runId: string): string {
    if (!this.runs.has(runId) && !this.store.getRun(runId)) throw new EngineError('not_found', `no run with id ${runId}`);
    return this.ledger.csv(runId);
  }

  raiseBudget(args: CommandArgs<'raiseBudget'>): void {
    if (args.sessionId) {
      const s = this.live(args.sessionId);
      this.meter.setBudget({ sessionId: s.info.id }, args.usd);
      return;
    }
    if (args.runId) {
      const run = this.runs.get(args.runId);
      if (!run) throw new EngineError('not_found', `no live run with id ${args.runId}`);
      this.updateRun(run, { budget: { ...run.info.budget, runUsd: args.usd } });
      this.meter.setBudget({ runId: run.info.id }, args.usd);
      return;
    }
    throw new EngineError('bad_request', 'raiseBudget needs sessionId or runId');
  }

  /** A provider key by its env-var name: the engine's environment first, then the data dir's keys.json. */
  private providerKey(name: string): string | undefined {
    return this.env[name] || this.keys.get(name);
  }

  settingsView(): { settings: Settings; prices: PriceEntry[]; shipped: PriceEntry[]; keys: { name: string; source: 'environment' | 'data dir' }[] } {
    const known = new Set(['MOONSHOT_API_KEY', 'OPENROUTER_API_KEY', ...this.keys.names()]);
    const keys = [...known]
      .filter((name) => this.providerKey(name))
      .map((name) => ({ name, source: this.env[name] ? ('environment' as const) : ('data dir' as const) }));
    // (A key handed over by the desktop app is reported as 'data dir' only if it is also stored there.)
    return { settings: this.settings, prices: this.prices(), shipped: PriceTable.shipped().entries(), keys };
  }

  /** Validates and saves settings.json; new runs use them (running runs keep the prices they started with). */
  async saveSettings(value: unknown): Promise<Settings> {
    const settings = parseSettings(value, join(this.dataDir, 'settings.json'));
    await saveSettings(this.dataDir, settings);
    this.settings = settings;
    return settings;
  }

  async setProviderKey(name: string, value: string | null, persist = true): Promise<void> {
    await this.keys.set(name, value, persist);
  }

  prices(): PriceEntry[] {
    return effectivePrices(this.settings, undefined).entries();
  }

  /** The provider account's balance, where the provider has an endpoint for it (Moonshot). */
  async balance(runId: string): Promise<{ availableUsd: number; cashUsd: number | null; voucherUsd: number | null }> {
    const run = this.runs.get(runId);
    const template = run?.template ?? (JSON.parse(this.store.getRunTemplate(runId) ?? 'null') as Template | null);
    if (!template) throw new EngineError('not_found', `no run with id ${runId}`);
    const key = this.providerKey(template.provider.apiKeyEnv);
    if (!key) throw new EngineError('no_key', `${template.provider.apiKeyEnv} is not set — the balance needs the provider key`);
    return fetchBalance(template.provider.baseUrl, key, template.provider.preset);
  }

  /** An agent is about to edit (intent, from the wire) or has edited (PostToolUse hook) a file. */
  private noteEdit(sessionId: string, absPath: string, tool: string, intent: boolean): void {
    const s = this.sessions.get(sessionId);
    if (!s) return;
    const run = s.run;
    if (run.detector) {
      if (intent) run.detector.noteIntent(sessionId, absPath, tool);
      else run.detector.touch(sessionId);
      return;
    }
    // Shared workspace: one checkout for all, so the tool calls are what attributes a change to a session.
    const rel = relative(run.info.repo, resolvePath(run.info.repo, absPath));
    if (rel.startsWith('..') || isAbsolute(rel)) return;
    const key = rel.split(sep).join('/');
    const claimants = run.claims.get(key) ?? new Set<string>();
    claimants.add(sessionId);
    run.claims = new Map(run.claims).set(key, claimants);
  }

  /** Claude Code http hooks arrive here (path token authenticates the session). */
  handleHook(hookToken: string, body: HookEvent): boolean {
    const s = this.sessionsByHookToken.get(hookToken);
    if (!s) return false;
    s.agent?.handleHook(body);
    if (body.hook_event_name === 'PostToolUse') {
      const input = (body as { tool_input?: { file_path?: unknown; notebook_path?: unknown } }).tool_input;
      const path = input?.file_path ?? input?.notebook_path;
      if (typeof path === 'string') this.noteEdit(s.info.id, path, String((body as { tool_name?: unknown }).tool_name ?? 'tool'), false);
      else s.run.detector?.touch(s.info.id);
    }
    this.emit('hook', s.info.id, body);
    return true;
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    await Promise.all(
      [...this.sessions.values()].map(async (s) => {
        if (s.agent && !isFinalStatus(s.info.status)) await s.agent.stop().catch(() => {});
        s.agent?.dispose();
      }),
    );
    for (const run of this.runs.values()) {
      this.checkRunEnded(run);
      run.detector?.close();
    }
    await rm(join(this.dataDir, ENGINE_FILE), { force: true });
    await this.server.close();
    await this.demoHost?.close();
    this.meter.close();
    this.proxy.destroy();
    this.store.close();
  }
}

/** The branch a run's base names: `HEAD` means the branch checked out at launch; a commit or tag names none. */
async function baseBranchOf(repo: string, base: string): Promise<string | null> {
  if (base === 'HEAD') return currentBranch(repo).catch(() => null);
  const name = base.replace(/^refs\/heads\//, '');
  try {
    await resolveRef(repo, `refs/heads/${name}`);
    return name;
  } catch {
    return null;
  }
}
