// The agents and API providers a template can name, and what each needs.

import { API_STYLES, type ApiStyle } from '../../shared/contract.ts';
import type { ProviderPresetName } from './providers.ts';

export { API_STYLES, type ApiStyle };
export {
  DEFAULT_MODEL,
  KNOWN_KEY_VARS,
  PROVIDER_PRESETS,
  type ProviderPresetName,
  type ProviderPresetSpec,
  hostModelId,
  providerSpec,
} from './providers.ts';

export type AgentPresetName =
  | 'claude-code'
  | 'claude-code-batch'
  | 'codex'
  | 'codex-batch'
  | 'opencode'
  | 'opencode-batch'
  | 'qwen-code'
  | 'qwen-code-batch'
  | 'kimi-cli'
  | 'aider'
  | 'shell';
export const AGENT_PRESETS: readonly AgentPresetName[] = [
  'claude-code',
  'claude-code-batch',
  'codex',
  'codex-batch',
  'opencode',
  'opencode-batch',
  'qwen-code',
  'qwen-code-batch',
  'kimi-cli',
  'aider',
  'shell',
];

interface AgentPresetSpec {
  command: string;
  installHint: string;
  /** Claude Code reports turn ends and permission asks through http hooks; the others are watched only through the pty. */
  supportsHooks: boolean;
  /** API styles the agent can speak; null: any (a shell runs whatever the template says). */
  styles: readonly ApiStyle[] | null;
  /** Provider used when the template names none: one the agent can actually talk to. */
  defaultProvider: ProviderPresetName;
  /** A batch preset runs one task and exits: how (for messages); null for an interactive one. */
  batch: string | null;
}

// The -batch presets run one task and exit (claude -p, codex exec, opencode run, qwen's one-shot prompt); the others
// are the agent's interactive UI in the tile.
const CLAUDE_CODE: AgentPresetSpec = {
  command: 'claude',
  installHint: 'npm install -g @anthropic-ai/claude-code',
  supportsHooks: true,
  styles: ['anthropic'],
  defaultProvider: 'moonshot',
  batch: null,
};
const CODEX: AgentPresetSpec = {
  command: 'codex',
  installHint: 'npm install -g @openai/codex',
  supportsHooks: false,
  // Codex CLI speaks only the Responses API.
  styles: ['responses'],
  defaultProvider: 'moonshot-openai',
  batch: null,
};
const OPENCODE: AgentPresetSpec = {
  command: 'opencode',
  installHint: 'npm install -g opencode-ai',
  supportsHooks: false,
  styles: ['openai'],
  defaultProvider: 'moonshot-openai',
  batch: null,
};
const QWEN_CODE: AgentPresetSpec = {
  command: 'qwen',
  installHint: 'npm install -g @qwen-code/qwen-code',
  supportsHooks: false,
  styles: ['openai'],
  defaultProvider: 'moonshot-openai',
  batch: null,
};

const AGENTS: Record<AgentPresetName, AgentPresetSpec> = {
  'claude-code': CLAUDE_CODE,
  'claude-code-batch': { ...CLAUDE_CODE, batch: 'claude -p' },
  codex: CODEX,
  'codex-batch': { ...CODEX, batch: 'codex exec' },
  opencode: OPENCODE,
  'opencode-batch': { ...OPENCODE, batch: 'opencode run' },
  'qwen-code': QWEN_CODE,
  'qwen-code-batch': { ...QWEN_CODE, batch: "qwen's one-shot prompt" },
  'kimi-cli': {
    command: 'kimi',
    installHint: 'uv tool install kimi-cli (or: pip install kimi-cli)',
    supportsHooks: false,
    styles: ['openai'],
    defaultProvider: 'moonshot-openai',
    batch: null,
  },
  aider: {
    command: 'aider',
    installHint: 'python -m pip install aider-install && aider-install',
    supportsHooks: false,
    styles: ['openai'],
    defaultProvider: 'moonshot-openai',
    batch: null,
  },
  shell: {
    command: 'bash',
    installHint: 'set agent.command to a program that exists on this machine',
    supportsHooks: false,
    styles: null,
    defaultProvider: 'moonshot',
    batch: null,
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
