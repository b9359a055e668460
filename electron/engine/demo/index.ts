// `flotilla demo`: Flotilla working end to end with no API key. A built-in simulated K2 provider (simulated-provider.ts,
// clearly labelled) answers a small demo agent (agent.mjs) that really goes through the engine's metering proxy and
// really edits files in a scratch repository — so the grid fills with live output, spend rises, slots 1 and 2 collide
// on the same line of src/config.ts, and every session leaves a diff to review.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { LaunchResult } from '../../shared/contract.ts';
import { demoAgentLaunch } from './agent.ts';
import { DEMO_MODEL, PROJECT_FILES, demoTasks } from './project.ts';
import { startSimulatedProvider, type SimulatedProvider } from './simulated-provider.ts';
import { git } from '../workspace/index.ts';

export { DEMO_MODEL, SIM_LABEL, DEMO_QUESTION, demoJob, demoTasks } from './project.ts';
export { startSimulatedProvider, type SimulatedProvider, type ServedUsage } from './simulated-provider.ts';

/** The engine-side variable holding the simulated provider's key (FLOTILLA_* never reaches an agent). */
export const DEMO_KEY_ENV = 'FLOTILLA_DEMO_API_KEY';
/** Set in the engine's environment to pace the simulation (and the agent's pauses) for tests. */
export const DEMO_FAST_ENV = 'FLOTILLA_DEMO_FAST';
export const DEMO_DEFAULT_COUNT = 6;

/** What the demo needs of the engine. */
export interface DemoEngine {
  readonly dataDir: string;
  launch(args: { templateText: string }): Promise<LaunchResult>;
}

export interface DemoOptions {
  count?: number;
}

/** One per engine: owns the simulated provider for the engine's lifetime. */
export class DemoHost {
  private provider: Promise<SimulatedProvider> | null = null;

  /** `env` is the engine's environment: the provider's key is put there (if absent) so the proxy injects it. */
  constructor(private readonly env: NodeJS.ProcessEnv) {}

  /** The simulated provider, started on first use. */
  providerUrl(): Promise<string> {
    return this.ensureProvider().then((p) => p.url);
  }

  private ensureProvider(): Promise<SimulatedProvider> {
    if (!this.provider) {
      const fast = this.env[DEMO_FAST_ENV] === '1';
      this.provider = startSimulatedProvider({
        apiKey: this.env[DEMO_KEY_ENV] || undefined,
        ...(fast ? { tokensPerSecond: 900, ttftMs: 40 } : {}),
      }).then((p) => {
        if (!this.env[DEMO_KEY_ENV]) this.env[DEMO_KEY_ENV] = p.apiKey;
        return p;
      });
      this.provider.catch(() => (this.provider = null));
    }
    return this.provider;
  }

  /** The provider itself (tests look at what it served). */
  simulatedProvider(): Promise<SimulatedProvider> {
    return this.ensureProvider();
  }

  async launch(engine: DemoEngine, opts: DemoOptions = {}): Promise<LaunchResult> {
    const count = opts.count ?? DEMO_DEFAULT_COUNT;
    const provider = await this.ensureProvider();
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const repo = join(engine.dataDir, 'demo', stamp);
    await createScratchRepo(repo);
    const templateText = demoTemplate({
      repo,
      count,
      providerUrl: provider.url,
      fast: this.env[DEMO_FAST_ENV] === '1',
    });
    return engine.launch({ templateText });
  }

  async close(): Promise<void> {
    const p = this.provider;
    this.provider = null;
    if (p) await (await p.catch(() => null))?.close();
  }
}

/** The run's template (JSON is YAML): shell preset running the demo agent, custom provider = the simulation. */
export function demoTemplate(o: { repo: string; count: number; providerUrl: string; fast: boolean }): string {
  const agent = demoAgentLaunch();
  const env: Record<string, string> = { ...agent.env };
  if (o.fast) env[DEMO_FAST_ENV] = '1';
  const template = {
    name: 'demo',
    repo: o.repo,
    workspace: 'worktree',
    count: o.count,
    concurrency: o.count,
    agent: { preset: 'shell', command: agent.command, args: agent.args, env },
    provider: { preset: 'custom', baseUrl: o.providerUrl, style: 'anthropic', apiKeyEnv: DEMO_KEY_ENV },
    model: DEMO_MODEL,
    budget: { perSessionUsd: 0.5 },
    tasks: demoTasks(o.count),
  };
  return JSON.stringify(template, null, 2) + '\n';
}

/** A small, realistic project with one commit on `main`. */
export async function createScratchRepo(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [rel, content] of Object.entries(PROJECT_FILES)) {
    const abs = join(dir, rel);
    await mkdir(dirname(abs), { recursive: true });
    await writeFile(abs, content);
  }
  const id = ['-c', 'user.name=Flotilla Demo', '-c', 'user.email=demo@flotilla.invalid', '-c', 'commit.gpgsign=false'];
  await git(dir, ['init', '-q', '-b', 'main']);
  await git(dir, ['add', '-A']);
  await git(dir, [...id, 'commit', '-q', '-m', 'Initial commit: acme-orders service']);
}
