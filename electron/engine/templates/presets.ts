// The agents and API providers a template can name, and what each needs.

import { API_STYLES, type ApiStyle } from '../../shared/contract.ts';

export { API_STYLES, type ApiStyle };

export type AgentPresetName = 'claude-code' | 'claude-code-batch' | 'codex' | 'kimi-cli' | 'aider' | 'shell';
export const AGENT_PRESETS: readonly AgentPresetName[] = [
  'claude-code',
  'claude-code-batch',
  'codex',
  'kimi-cli',
  'aider',
  'shell',
];

export type ProviderPresetName = 'moonshot' | 'moonshot-openai' | 'openrouter' | 'custom';
export const PROVIDER_PRESETS: readonly ProviderPresetName[] = ['moonshot', 'moonshot-openai', 'openrouter', 'custom'];

interface AgentPresetSpec {
  command: string;
  installHint: string;
  /** Claude Code reports turn ends and permission asks through http hooks; the others are watched only through the pty. */
  supportsHooks: boolean;
  /** API styles the agent can speak; null: any (a shell runs whatever the template says). */
  styles: readonly ApiStyle[] | null;
  /** Provider used when the template names none: one the agent can actually talk to. */
  defaultProvider: ProviderPresetName;
}

const AGENTS: Record<AgentPresetName, AgentPresetSpec> = {
  'claude-code': {
    command: 'claude',
    installHint: 'npm install -g @anthropic-ai/claude-code',
    supportsHooks: true,
    styles: ['anthropic'],
    defaultProvider: 'moonshot',
  },
  'claude-code-batch': {
    command: 'claude',
    installHint: 'npm install -g @anthropic-ai/claude-code',
    supportsHooks: true,
    styles: ['anthropic'],
    defaultProvider: 'moonshot',
  },
  codex: {
    command: 'codex',
    installHint: 'npm install -g @openai/codex',
    supportsHooks: false,
    // Codex CLI speaks only the Responses API.
    styles: ['responses'],
    defaultProvider: 'moonshot-openai',
  },
  'kimi-cli': {
    command: 'kimi',
    installHint: 'uv tool install kimi-cli (or: pip install kimi-cli)',
    supportsHooks: false,
    styles: ['openai'],
    defaultProvider: 'moonshot-openai',
  },
  aider: {
    command: 'aider',
    installHint: 'python -m pip install aider-install && aider-install',
    supportsHooks: false,
    styles: ['openai'],
    defaultProvider: 'moonshot-openai',
  },
  shell: {
    command: 'bash',
    installHint: 'set agent.command to a program that exists on this machine',
    supportsHooks: false,
    styles: null,
    defaultProvider: 'moonshot',
  },
};

export function agentSpec(preset: AgentPresetName): AgentPresetSpec {
  return AGENTS[preset];
}

/** The shell preset runs the user's login shell; read at call time so tests and the engine see the current $SHELL. */
export function defaultAgentCommand(preset: AgentPresetName, env: NodeJS.ProcessEnv = process.env): string {
  if (preset === 'shell') return env.SHELL?.trim() || 'bash';
  return AGENTS[preset].command;
}

export function agentPresetInfo(preset: AgentPresetName): { command: string; installHint: string; supportsHooks: boolean } {
  const spec = AGENTS[preset];
  return { command: defaultAgentCommand(preset), installHint: spec.installHint, supportsHooks: spec.supportsHooks };
}

interface ProviderPresetSpec {
  baseUrl: string | null;
  style: ApiStyle;
  apiKeyEnv: string;
  /** The compatibility profile its requests get unless the template names one (meter/compat). */
  compat: string;
  /** Hosts other than Moonshot name the model with a vendor prefix. */
  defaultModel: string;
}

export const DEFAULT_MODEL = 'kimi-k2.6';

const PROVIDERS: Record<ProviderPresetName, ProviderPresetSpec> = {
  moonshot: {
    baseUrl: 'https://api.moonshot.ai/anthropic',
    style: 'anthropic',
    apiKeyEnv: 'MOONSHOT_API_KEY',
    compat: 'moonshot',
    defaultModel: DEFAULT_MODEL,
  },
  'moonshot-openai': {
    baseUrl: 'https://api.moonshot.ai/v1',
    style: 'openai',
    apiKeyEnv: 'MOONSHOT_API_KEY',
    compat: 'moonshot',
    defaultModel: DEFAULT_MODEL,
  },
  openrouter: {
    baseUrl: 'https://openrouter.ai/api/v1',
    style: 'openai',
    apiKeyEnv: 'OPENROUTER_API_KEY',
    compat: 'none',
    defaultModel: `moonshotai/${DEFAULT_MODEL}`,
  },
  // The key variable is engine-side only: FLOTILLA_* never reaches an agent.
  // Custom providers choose their profile (provider.compat); none by default.
  custom: { baseUrl: null, style: 'anthropic', apiKeyEnv: 'FLOTILLA_API_KEY', defaultModel: DEFAULT_MODEL, compat: 'none' },
};

export function providerSpec(preset: ProviderPresetName): ProviderPresetSpec {
  return PROVIDERS[preset];
}

/** Variables that may hold a real provider key: stripped from every agent's environment. */
export const KNOWN_KEY_VARS: readonly string[] = [
  'MOONSHOT_API_KEY',
  'OPENROUTER_API_KEY',
  'KIMI_API_KEY',
  'GROQ_API_KEY',
  'FIREWORKS_API_KEY',
  'TOGETHER_API_KEY',
  'DEEPSEEK_API_KEY',
];
