// Launching a run from a template: everything that can be checked before touching the repository is checked first,
// then the run and its sessions are recorded, the worktrees made (all or nothing), and the first sessions started.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import {
  type CommandArgs,
  type EngineEvent,
  type LaunchProgress,
  type LaunchResult,
  type RunInfo,
  type SessionInfo,
  Limits,
} from '../../shared/contract.ts';
import { EngineError } from '../errors.ts';
import type { PriceTable, ProviderRouter } from '../meter/index.ts';
import { checkProviders } from './provider-checks.ts';
import { anyOnHost, anySandboxed, prepareRunSandboxes } from './sandbox-launch.ts';
import { windowNotices } from './window-checks.ts';
import type { EngineSettings } from '../settings/index.ts';
import {
  type Template,
  agentPresetInfo,
  findOnPath,
  loadTemplateFile,
  parseTemplate,
  slotTask,
  storedTemplateJson,
} from '../templates/index.ts';
import { baseBranchOf, copyIncluded, createWorktrees, repoToplevel, resolveRef, runSlug, sessionBranch } from '../workspace/index.ts';
import type { LiveRun, RunRegistry } from './registry.ts';
import type { Scheduler } from './scheduler.ts';

export interface LauncherDeps {
  registry: RunRegistry;
  scheduler: Scheduler;
  settings: EngineSettings;
  dataDir: string;
  env: NodeJS.ProcessEnv;
  /** Prices a template's `prices:` are checked against and runs are metered at (shipped ← settings). */
  knownPrices: () => PriceTable;
  meterRun: (run: LiveRun) => void;
  /** A new live run's changes and conflicts start being watched (both workspace modes). */
  watchRun: (run: LiveRun) => void;
  emit: (e: EngineEvent) => void;
  closing: () => boolean;
  /** Picks among a run's providers (its speeds are what `route: fastest` ranks by). */
  router: ProviderRouter;
}

const now = () => new Date().toISOString();

export class Launcher {
  constructor(private readonly d: LauncherDeps) {}

  private progress(p: LaunchProgress): void {
    this.d.emit({ type: 'event', event: 'launchProgress', progress: p });
  }

  private async template(args: CommandArgs<'launch'>): Promise<Template> {
    const topts = {
      cwd: process.cwd(),
      repo: args.repo,
      count: args.count,
      overrides: args.overrides,
      knownPrices: this.d.knownPrices(),
      defaults: this.d.settings.current,
    };
    if (args.templatePath) return loadTemplateFile(args.templatePath, topts);
    if (args.templateText) return parseTemplate(args.templateText, '<template>', topts);
    throw new EngineError('bad_request', 'launch needs templatePath or templateText', { field: 'templatePath' });
  }

  async launch(args: CommandArgs<'launch'>): Promise<LaunchResult> {
    if (this.d.closing()) throw new EngineError('closing', 'the engine is shutting down');
    const { registry } = this.d;
    const template = await this.template(args);

    // A sandboxed slot's agent lives in its image (checked with its container, below); a slot on the host needs it here.
    const command = anyOnHost(template) ? findOnPath(template.agent.command, this.d.env.PATH) : template.agent.command;
    if (!command) {
      const info = agentPresetInfo(template.agent.preset);
      throw new EngineError(
        'agent_missing',
        `agent binary '${template.agent.command}' (preset ${template.agent.preset}) not found on PATH — install it: ${info.installHint}`,
        { field: 'agent.command' },
      );
    }
    const notices = windowNotices(template, this.d.knownPrices().withOverrides(template.prices ?? {}, 'template'));
    await checkProviders(template, {
      providerKey: (name) => this.d.settings.providerKey(name),
      router: this.d.router,
    });
    let repo = template.repo;
    let baseCommit: string | null = null;
    if (template.workspace === 'worktree') {
      repo = await repoToplevel(template.repo);
      baseCommit = await resolveRef(repo, template.base);
    } else {
      repo = await repoToplevel(template.repo).catch(() => template.repo);
      baseCommit = await resolveRef(repo, template.base).catch(() => null);
    }

    // The sandbox's image found or built, its containers tried, before anything is recorded.
    const sandboxed = anySandboxed(template)
      ? await prepareRunSandboxes(
          template,
          repo,
          { command: template.agent.command, path: this.d.env.PATH ?? '/usr/bin:/bin' },
          (message) => this.progress({ runId: '', phase: 'validating', done: 0, total: template.count, message }),
        )
      : template;

    const runId = randomUUID();
    const slug = runSlug(template.name, runId);
    const defaults = this.d.settings.current.defaultBudget;
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
        perSessionUsd: template.budget.perSessionUsd ?? defaults?.perSessionUsd ?? null,
        runUsd: template.budget.runUsd ?? defaults?.runUsd ?? null,
      },
      concurrency: template.concurrency,
      startedAt: now(),
      endedAt: null,
      error: null,
    };
    const resolved: Template = { ...sandboxed, repo };
    const live = registry.registerRun(run, resolved);
    this.d.meterRun(live);
    registry.store.insertRun(run, storedTemplateJson(resolved));
    this.d.emit({ type: 'event', event: 'run', run: live.info });
    this.progress({ runId, phase: 'validating', done: 0, total: template.count, message: `launching ${template.count} session(s)` });

    const slots = Array.from({ length: template.count }, (_, i) => i + 1);
    let paths = new Map<number, { path: string; branch: string | null }>();
    if (template.workspace === 'worktree') {
      try {
        const entries = await createWorktrees({
          repo,
          baseCommit: baseCommit!,
          slug,
          slots,
          root: join(this.d.dataDir, 'worktrees', runId),
          onProgress: (done, total, entry) =>
            this.progress({ runId, phase: 'worktrees', done, total, message: `worktree ${entry.slot}/${total} ready` }),
        });
        paths = new Map(entries.map((e) => [e.slot, { path: e.path, branch: e.branch }]));
        // What git does not track but the checkout has (.worktreeinclude: .env, local config…), into every worktree.
        const included = await copyIncluded(
          repo,
          entries.map((e) => e.path),
        );
        const said: string[] = [];
        if (included.copied.length) said.push(`copied ${included.copied.join(', ')} (.worktreeinclude) into each worktree`);
        if (included.skipped.length)
          said.push(
            `skipped ${included.skipped.join(', ')}: listed in .worktreeinclude but not ignored by the .gitignore at ${template.base}` +
              " — in a worktree it would be part of the session's changes (committed, merged, pushed); commit a .gitignore that ignores it",
          );
        for (const message of said) this.progress({ runId, phase: 'worktrees', done: entries.length, total: entries.length, message });
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        registry.updateRun(live, { state: 'failed', error: message, endedAt: now() });
        this.progress({ runId, phase: 'failed', done: 0, total: template.count, message });
        registry.forgetRun(live);
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
      registry.registerSession(info, live);
      registry.store.insertSession(info, JSON.stringify({}));
      registry.store.addStatus(info.id, 'queued', null, now());
      this.d.emit({ type: 'event', event: 'session', session: info });
    }
    live.baseBranch = await baseBranchOf(repo, template.base);
    this.d.watchRun(live);
    registry.updateRun(live, { state: 'running' });
    this.progress({ runId, phase: 'starting', done: 0, total: template.count, message: 'starting sessions' });
    await this.d.scheduler.schedule(live);
    this.progress({ runId, phase: 'done', done: template.count, total: template.count, message: 'launched' });
    return { run: live.info, sessions: live.sessions.map((s) => s.info), ...(notices.length ? { notices } : {}) };
  }
}
