// The engine's composition root: it builds the parts (store, settings, meter, runs, review, templates, demo, API) and
// connects them. Behaviour lives in the parts; here is only who talks to whom. Plain Node (no electron import): it runs
// as `flotilla serve`, in-process for `flotilla run` and the tests, and as the desktop app's child.
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import {
  type CommandArgs,
  type CommandCaller,
  type CommandName,
  type CommandResult,
  type EngineEvent,
  type EngineHealth,
  isFinalStatus,
} from '../shared/contract.ts';
import { ApiServer, createHandlers, dispatch, type Handlers } from './api/index.ts';
import { removeEngineFile, writeEngineFile } from './daemon.ts';
import { DemoHost } from './demo/index.ts';
import { EngineError } from './errors.ts';
import { DiskWatch } from './health/index.ts';
import { flotillaRoot } from './hosts/bundle.ts';
import { adoptContainers } from './runs/containers-left.ts';

import { HostRelay, onHost } from './hosts/relay.ts';
import { routeToHosts } from './hosts/routed.ts';
import {
  DEFAULT_HOLD_MS,
  type Governor,
  Meter,
  MeterProxy,
  type MeterProxyOptions,
  RejectedRequests,
  SpendLedger,
  effectivePrices,
  effectiveReferenceModel,
} from './meter/index.ts';
import { PtyHost } from './ptyhost/index.ts';
import { Landing, Review } from './review/index.ts';
import { Launcher, RunRegistry, Scheduler, handleHook, secret, type LiveRun } from './runs/index.ts';
import type { HookEvent } from './sessions/index.ts';
import { EngineSettings } from './settings/index.ts';
import { Store, ensureDataDir } from './store/index.ts';
import { TemplateLibrary } from './templates/index.ts';

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
  /** The rate governor (default: one with a 60 s window; benches pass a faster clock). */
  governor?: Governor;
  /** The proxy's limits on a host's answer (defaults in meter/proxy.ts; tests pass small ones). */
  proxy?: Pick<MeterProxyOptions, 'idleTimeoutMs' | 'maxResponseBytes'>;
}

export { ENGINE_FILE } from './daemon.ts';

type EngineEvents = { event: [EngineEvent]; hook: [sessionId: string, body: HookEvent] };

export class Engine extends EventEmitter<EngineEvents> implements CommandCaller {
  readonly token: string;
  readonly proxy: MeterProxy;
  readonly ledger: SpendLedger;
  readonly meter: Meter;
  readonly registry: RunRegistry;
  readonly scheduler: Scheduler;
  readonly launcher: Launcher;
  readonly review: Review;
  readonly templates: TemplateLibrary;
  /** Every session's pty, mirror and flow control, on a worker thread (a flood there does not stall the API or meter). */
  readonly ptyHost: PtyHost;
  /** Free space under the data dir; while the disk is full spend is held and record writes wait in memory. */
  readonly disk: DiskWatch;
  private readonly handlers: Handlers;
  /** Other machines' engines (flotilla hosts): their runs in this engine's lists, their commands forwarded. */
  readonly relay: HostRelay;
  private readonly log: (line: string) => void;
  private server!: ApiServer;
  private closing = false;
  /** When this engine started listening (ISO). */
  startedAt = '';
  /** The built-in demo's simulated provider (started by the first demo; closed with the engine). */
  private demoHost: DemoHost | null = null;

  private constructor(
    readonly store: Store,
    readonly dataDir: string,
    readonly settings: EngineSettings,
    private readonly env: NodeJS.ProcessEnv,
    opts: EngineOptions,
  ) {
    super();
    this.token = opts.token ?? secret();
    this.proxy = new MeterProxy(opts.proxy);
    this.log = opts.log ?? (() => {});
    const emit = (e: EngineEvent) => this.emit('event', e);
    const log = this.log;

    this.ledger = new SpendLedger(store);
    this.disk = new DiskWatch({ dataDir, store, log });
    this.registry = new RunRegistry(store, emit);
    const rejected = new RejectedRequests(
      join(dataDir, 'rejected'),
      (id) => this.registry.template(this.registry.sessionInfo(id).runId).provider.apiKeyEnv,
    );
    const holdTimeoutMs = () => (settings.current.budgetHoldMinutes ?? DEFAULT_HOLD_MS / 60_000) * 60_000;
    this.meter = new Meter(this.ledger, this.proxy, { log, rejected, holdTimeoutMs, governor: opts.governor });
    const meterRun = (run: LiveRun) => {
      const s = settings.current;
      const t = run.template;
      this.meter.addRun({
        runId: run.info.id,
        budgetUsd: run.info.budget.runUsd,
        prices: effectivePrices(s, t.prices),
        referenceModel: effectiveReferenceModel(s, t.referenceModel),
      });
    };
    this.ptyHost = new PtyHost({ log });
    this.scheduler = new Scheduler({
      registry: this.registry,
      meter: this.meter,
      proxy: this.proxy,
      ptyHost: this.ptyHost,
      dataDir,
      env,
      origin: () => this.origin,
      providerKey: (name) => settings.providerKey(name),
      accountLimits: (name) => settings.current.limits?.[name],
      keysFromDesktop: onHost(env),
      keepContainers: () => settings.current.keepContainers === true,
      meterRun,
      emit,
      log,
    });
    this.review = new Review({ registry: this.registry, emit, log, stopSession: (id) => this.scheduler.stop(id) });
    this.launcher = new Launcher({
      registry: this.registry,
      scheduler: this.scheduler,
      settings,
      dataDir,
      env,
      knownPrices: () => effectivePrices(settings.current),
      meterRun,
      watchRun: (run) => this.review.watch(run),
      emit,
      closing: () => this.closing,
      router: this.meter.router,
    });
    this.templates = new TemplateLibrary(dataDir, () => ({ knownPrices: effectivePrices(settings.current), defaults: settings.current }));

    // The meter's events go to the clients as they are; an edit intent also feeds the collision warnings.
    this.meter.on('event', (e) => {
      emit(e);
      if (e.event === 'intent') this.review.noteEdit(e.intent.sessionId, e.intent.path, e.intent.tool, true);
    });
    this.meter.on('status', (sessionId, status, detail) => this.scheduler.onMeterStatus(sessionId, status, detail));
    // A full disk holds spend (nothing goes upstream unmetered) and tells every client; room again lets it go.
    this.disk.heldRequests = () => this.meter.spendHeldRequests;
    this.disk.on('changed', (disk) => {
      this.meter.holdSpend(disk.full ? disk.message : null);
      emit({ type: 'event', event: 'health', health: { disk } });
    });

    this.relay = new HostRelay({ dataDir, env, settings, emit, log });
    const own = createHandlers({
      dataDir,
      registry: this.registry,
      scheduler: this.scheduler,
      launcher: this.launcher,
      review: this.review,
      landing: new Landing({
        registry: this.registry,
        review: this.review,
        sendFeedback: (id, text) => this.scheduler.sendFeedback(id, text),
        // A shell session has no agent to ask: its worktree is rebased with git instead.
        isAgent: (id) => this.registry.template(this.registry.sessionInfo(id).runId).agent.preset !== 'shell',
      }),
      meter: this.meter,
      ledger: this.ledger,
      settings,
      templates: this.templates,
      rejected,
      env,
      demo: (count) => this.demo(count),
      health: () => this.health(),
      forgetRun: (runId) => this.forgetRun(runId),
      relay: this.relay,
      keySet: (name) =>
        this.proxy.updateRoutes((r) => {
          if (r.awaitKey !== name) return;
          r.apiKey = settings.providerKey(name) ?? null;
          if (r.apiKey) delete r.awaitKey;
        }),
    });
    this.handlers = routeToHosts(own, this.relay, { env, settings });
  }

  static async create(opts: EngineOptions): Promise<Engine> {
    const dataDir = await ensureDataDir(opts.dataDir);
    const env = opts.env ?? process.env;
    const settings = await EngineSettings.load(dataDir, env);
    // Exclusive (WAL) mode: a write costs ~0.3 ms instead of several ms of lock-file churn, which matters on the meter's
    // path. Other processes (the `flotilla runs` CLI) reach this engine's data through its API (engine.json) meanwhile.
    const store = Store.open(dataDir, { exclusive: true });
    const reconciled = store.reconcileAfterRestart();
    const engine = new Engine(store, dataDir, settings, env, opts);
    if (reconciled.sessions > 0) engine.log(`${reconciled.sessions} session(s) of an earlier engine were marked interrupted`);
    const interrupted = engine.ledger.interruptOpen();
    if (interrupted > 0) engine.log(`${interrupted} model request(s) open when an earlier engine died were recorded as interrupted`);
    engine.server = new ApiServer(
      {
        proxy: (req, res) => engine.proxy.handle(req, res),
        hook: (token, body) => engine.handleHook(token, body as HookEvent),
        dispatch: (cmd, args, stream) => dispatch(engine.handlers, cmd, args, stream),
        ledgerCsv: (runId) => engine.ledgerCsv(runId),
        onEvent: (listener) => engine.on('event', listener),
      },
      { host: opts.host ?? '127.0.0.1', port: opts.port ?? 0, token: engine.token, staticDir: opts.staticDir ?? null },
    );
    try {
      await engine.server.listen();
    } catch (err) {
      store.close();
      throw err;
    }
    // Containers the engine before this one left: a running one re-attached (this engine's port known now), others removed.
    await adoptContainers({
      dataDir,
      store,
      scheduler: engine.scheduler,
      keepContainers: settings.current.keepContainers === true,
      log: engine.log,
    });
    engine.disk.start();
    engine.relay.start();
    engine.startedAt = new Date().toISOString();
    await writeEngineFile(dataDir, {
      pid: process.pid,
      origin: engine.origin,
      token: engine.token,
      startedAt: engine.startedAt,
      dataDir,
      root: flotillaRootOrNull(),
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

  /** Any command of the contract, in-process: the same validation and handlers as over the wire. */
  call<C extends CommandName>(cmd: C, args: CommandArgs<C>): Promise<CommandResult<C>> {
    return dispatch(this.handlers, cmd, args, null) as Promise<CommandResult<C>>;
  }

  /**
   * A run whose sessions have all ended, once cleaned, leaves memory: registry, meter, proxy routes, review watchers.
   * Everything about it is read from the store afterwards, as for a run of an earlier engine. (bench/soak measured
   * ~2 MB per run of ten kept before this.)
   */
  forgetRun(runId: string): void {
    const live = this.registry.liveRun(runId);
    if (!live?.sessions.every((s) => isFinalStatus(s.info.status))) return;
    this.review.unwatch(runId);
    for (const s of this.registry.forgetEnded(runId)) {
      this.proxy.unregister(s.proxyToken);
      this.ptyHost.forget(s.info.id);
    }
    this.meter.removeRun(runId);
  }

  /** The parts that still hold something of this run or session id (nothing, once its run was cleaned). */
  holding(id: string): string[] {
    const parts: [string, boolean][] = [
      ['registry', this.registry.holds(id)],
      ['meter', this.meter.retains(id)],
      ['proxy', this.proxy.routesSession(id)],
      ['review', this.review.watches(id)],
      ['pty host', this.ptyHost.has(id)],
    ];
    return parts.filter(([, held]) => held).map(([name]) => name);
  }

  health(): EngineHealth {
    return { disk: this.disk.state() };
  }

  /** Resolves when every session of the run has ended. */
  waitForRun(runId: string): Promise<void> {
    return this.registry.waitForRun(runId);
  }

  /** Claude Code http hooks arrive here (the path token authenticates the session). */
  handleHook(hookToken: string, body: HookEvent): boolean {
    const sessionId = handleHook(this.registry, this.review, hookToken, body);
    if (sessionId) this.emit('hook', sessionId, body);
    return sessionId !== null;
  }

  /** The run's ledger as CSV (one row per model request; the usd column sums to the run's total). */
  ledgerCsv(runId: string): string {
    this.registry.runInfo(runId);
    return this.ledger.csv(runId);
  }

  /** `flotilla demo`: a simulated K2 provider and demo agents editing a scratch repository (see demo/index.ts). */
  private async demo(count: number | undefined) {
    if (this.closing) throw new EngineError('closing', 'the engine is shutting down');
    this.demoHost ??= new DemoHost(this.env);
    return this.demoHost.launch({ dataDir: this.dataDir, launch: (a) => this.launcher.launch(a) }, { count });
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    // Held and queued requests are answered first: the agents show why, and no connection keeps the server open.
    this.meter.answerAll();
    await this.relay.close(); // the hosts' sessions carry on there
    await this.scheduler.close();
    await this.ptyHost.close();
    this.review.close();
    await removeEngineFile(this.dataDir);
    await this.server.close();
    await this.demoHost?.close();
    this.meter.close();
    this.proxy.destroy();
    // Writes still kept for a full disk get one last try; what cannot be written is said in the log.
    this.disk.close();
    if (this.store.pendingWrites().writes > 0 && this.store.flushPending()) {
      const p = this.store.pendingWrites();
      this.log(
        `the disk is still full: ${p.writes} record write(s) (${p.ledgerWrites} of the ledger) could not be written before the engine stopped`,
      );
    }
    this.store.close();
  }
}

function flotillaRootOrNull(): string | undefined {
  try {
    return flotillaRoot();
  } catch {
    return undefined;
  }
}
