// Every command of the contract, answered by the part of the engine that owns it. `Handlers` is a mapped type over the
// contract: a command without a handler, or a handler answering the wrong shape, does not compile. Dispatch validates
// the arguments against the contract's schema and calls the one handler; WebSocket, HTTP and in-process calls share it.
import {
  type CommandName,
  type CommandResult,
  type EngineHealth,
  type LaunchResult,
  type ParsedArgs,
  type SnapshotResult,
  type SpendOverview,
  type StreamCommandName,
  COMMAND_NAMES,
  Commands,
  isCommandName,
} from '../../shared/contract.ts';
import { join } from 'node:path';
import { EngineError } from '../errors.ts';
import { LOG_DIR } from '../logs.ts';
import { openWorktree } from '../open-in.ts';
import type { Meter, RejectedRequests, SpendLedger } from '../meter/index.ts';
import type { Landing, Review } from '../review/index.ts';
import { type Launcher, type RunRegistry, type Scheduler, cleanRun, raiseBudget, runReport } from '../runs/index.ts';
import type { Subscription } from '../sessions/index.ts';
import type { EngineSettings } from '../settings/index.ts';
import type { HostRelay } from '../hosts/relay.ts';
import { LABEL_RUN, removeContainers } from '../sandbox/index.ts';
import type { TemplateLibrary } from '../templates/index.ts';
import type { ScreenSource } from './output-pacer.ts';

/** What a stream command (subscribe / unsubscribe) gets: the socket's subscriptions and a way to send it output. */
export interface StreamContext {
  subscriptions: Map<string, Subscription>;
  sendOutput(sessionId: string, data: Uint8Array): void;
  /** A screen made elsewhere (a host's engine) for this socket's subscription. */
  sendScreen(sessionId: string, snap: SnapshotResult, bytes: number): void;
  /**
   * Quiet sessions' small outputs are batched, and a flood of one becomes screens (see output-pacer.ts); forget drops
   * what was held for a subscription.
   */
  setQuiet(sessionId: string, quiet: boolean, refreshMs?: number): void;
  /** The subscription may be shown as screens: how to get them (local sessions). */
  screens(sessionId: string, source: ScreenSource): void;
  forget(sessionId: string): void;
}

type Awaitable<T> = T | Promise<T>;

export type Handlers = {
  [C in CommandName]: C extends StreamCommandName
    ? (args: ParsedArgs<C>, stream: StreamContext) => Awaitable<CommandResult<C>>
    : (args: ParsedArgs<C>) => Awaitable<CommandResult<C>>;
};

export interface EngineParts {
  dataDir: string;
  registry: RunRegistry;
  scheduler: Scheduler;
  launcher: Launcher;
  review: Review;
  landing: Landing;
  meter: Meter;
  ledger: SpendLedger;
  settings: EngineSettings;
  templates: TemplateLibrary;
  rejected: RejectedRequests;
  /** The user's environment (PATH for their editor and terminal). */
  env: NodeJS.ProcessEnv;
  demo(count: number | undefined): Promise<LaunchResult>;
  /** The engine's own health (its disk). */
  health(): EngineHealth;
  /** A run that ended and was cleaned leaves the engine's memory (see Engine.forgetRun). */
  forgetRun(runId: string): void;
  /** The hosts' engines this one relays. */
  relay: HostRelay;
  /** A provider key was set: routes waiting for it (a host's engine) get it. */
  keySet(name: string): void;
}

/** A run's spend and each session's: live figures for a run of this engine, `run: null` for older ones. */
function spendOverview(p: EngineParts, runId: string): SpendOverview {
  const run = p.meter.runSpend(runId);
  if (!run) {
    p.registry.runInfo(runId); // not_found for a run nobody knows
    return { run: null, sessions: [] };
  }
  const sessions = p.registry.listSessions(runId).flatMap((s) => p.meter.sessionSpend(s.id) ?? []);
  return { run, sessions };
}

const pick = (t: { usd: number; requests: number }) => ({ usd: t.usd, requests: t.requests });

export function createHandlers(p: EngineParts): Handlers {
  const { registry, scheduler, review } = p;
  return {
    launch: (a) => p.launcher.launch(a),
    demo: (a) => p.demo(a.count),
    listRuns: () => registry.listRuns(),
    runTotals: () => registry.listRuns().map((r) => ({ runId: r.id, ...pick(registry.store.usageTotals({ runId: r.id })) })),
    listSessions: (a) => registry.listSessions(a.runId),

    subscribe: ({ sessionId, quiet, refreshMs }, stream) => {
      stream.subscriptions.get(sessionId)?.close();
      stream.forget(sessionId);
      if (quiet) stream.setQuiet(sessionId, true, refreshMs);
      // Snapshot and subscription in one tick: the client gets the screen so far, then every later byte, once.
      const open = () => {
        const { subscription, snapshot } = scheduler.subscribe(sessionId, { send: (data) => stream.sendOutput(sessionId, data) });
        stream.subscriptions.set(sessionId, subscription);
        return snapshot;
      };
      const snapshot = open();
      stream.screens(sessionId, {
        screen: () => scheduler.screen(sessionId),
        resync: () => (stream.subscriptions.get(sessionId)?.close(), open()),
        hold: (on) => stream.subscriptions.get(sessionId)?.hold(on),
      });
      return snapshot;
    },
    unsubscribe: ({ sessionId }, stream) => {
      stream.subscriptions.get(sessionId)?.close();
      stream.subscriptions.delete(sessionId);
      stream.forget(sessionId);
      return null;
    },
    pace: ({ sessionId, quiet, refreshMs }, stream) => (stream.setQuiet(sessionId, quiet, refreshMs), null),
    snapshot: (a) => scheduler.snapshot(a.sessionId),
    input: (a) => (scheduler.input(a.sessionId, a.data), null),
    resize: (a) => (scheduler.resize(a.sessionId, a.cols, a.rows), null),

    stop: async (a) => (await scheduler.stop(a.sessionId), null),
    restart: async (a) => (await scheduler.restart(a.sessionId), null),
    resume: async (a) => (await scheduler.resume(a.sessionId), null),
    stopRun: async (a) => (await scheduler.stopRun(a.runId), null),
    cleanRun: async (a) => {
      const t = registry.template(a.runId);
      const sandboxed = t.sandbox !== undefined || (t.slotSandboxes ?? []).some(Boolean);
      const cleaned = await cleanRun(registry, p.dataDir, a.runId);
      const containers = sandboxed ? await removeContainers(p.dataDir, `${LABEL_RUN}=${a.runId}`) : [];
      if (containers.length) cleaned.removedContainers = containers.length;
      p.forgetRun(a.runId);
      return cleaned;
    },
    report: (a) => runReport({ registry, ledger: p.ledger, meter: p.meter, review, landing: p.landing }, a.runId),

    spend: (a) => spendOverview(p, a.runId),
    ledger: (a) => p.ledger.rows(a.runId),
    raiseBudget: (a) => raiseBudget(registry, p.meter, a),
    declineBudget: (a) => {
      registry.sessionInfo(a.sessionId);
      p.meter.declineBudget(a.sessionId);
      return null;
    },
    governor: () => p.meter.governorView(),
    health: () => p.health(),
    prices: () => p.settings.prices(),
    balance: (a) => p.settings.balance(registry.template(a.runId).provider),
    rejectedRequest: (a) => p.rejected.latest(registry.sessionInfo(a.sessionId).id),
    listModels: (a) => p.settings.models(a.provider ?? 'moonshot'),

    changes: (a) => review.changes(a.sessionId),
    watchFailures: (a) => review.watchFailures(a.runId),
    conflicts: (a) => review.conflicts(a.runId),
    diff: (a) => review.diff(a.sessionId, a.path),
    pathAcross: (a) => review.pathAcross(a.runId, a.path, a.sessionIds),
    commit: (a) => review.commit(a.sessionId, a.message),
    merge: (a) => review.merge(a),
    discard: (a) => review.discard(a.sessionId, a.confirm),
    exportPatch: (a) => review.exportPatch(a.sessionId),
    worktreePath: (a) => review.worktreePath(a.sessionId),
    mergePlan: (a) => p.landing.plan(a.runId, a.sessionIds),
    mergeAllClean: (a) => p.landing.mergeAllClean(a.runId),
    push: (a) => p.landing.push(a.sessionId, a.remote),
    rebase: (a) => p.landing.rebase(a.sessionId),
    openPullRequest: (a) => p.landing.openPullRequest(a.sessionId, a.remote, p.env),
    sendFeedback: async (a) => (await scheduler.sendFeedback(a.sessionId, a.text), null),
    openIn: (a) => {
      const wt = review.worktreePath(a.sessionId);
      if (!wt.exists) throw new EngineError('not_found', `the worktree ${wt.path} no longer exists — the session's run was cleaned`);
      const ui = p.settings.current.ui ?? {};
      return openWorktree(wt.path, a.app, { platform: process.platform, env: p.env, editor: ui.editor, terminal: ui.terminal });
    },
    paths: () => ({ dataDir: p.dataDir, logs: join(p.dataDir, LOG_DIR) }),
    listHosts: () => p.relay.list(),
    addHost: (a) => p.relay.add(a.name, a.destination),
    removeHost: async (a) => (await p.relay.remove(a.name), null),

    settings: () => p.settings.view(),
    saveSettings: (a) => p.settings.save(a.settings),
    setProviderKey: async (a) => {
      await p.settings.setProviderKey(a.name, a.value, a.persist ?? true);
      p.keySet(a.name);
      return null;
    },

    listTemplates: (a) => p.templates.list(a.repo),
    readTemplate: (a) => p.templates.read(a.path, a.repo),
    saveTemplate: (a) => p.templates.save(a),
  };
}

/** Validates `rawArgs` against the command's schema and runs its handler. Stream commands need a socket. */
export async function dispatch(handlers: Handlers, cmd: string, rawArgs: unknown, stream: StreamContext | null): Promise<unknown> {
  if (!isCommandName(cmd)) throw new EngineError('unknown_command', `unknown command '${cmd}' — known: ${COMMAND_NAMES.join(', ')}`);
  const spec = Commands[cmd];
  if (spec.stream && !stream) throw new EngineError('bad_request', `${cmd} needs the WebSocket (/ws)`);
  const args: unknown = spec.args.parse(rawArgs ?? {});
  // The table's type ties each handler to its command; looked up by a runtime name, it is one function type.
  const handler = handlers[cmd] as (args: unknown, stream: StreamContext | null) => unknown;
  return handler(args, stream);
}
