// Turns a template and one session's context into the exact program, argv, environment and config files to start.
import { providersOf } from './provider-list.ts';
import path from 'node:path';
import { modelContextWindow } from './models.ts';
import {
  claudeSettingsJson,
  claudeStateJson,
  codexConfigToml,
  OPENCODE_PROVIDER,
  opencodeConfigJson,
  qwenSettingsJson,
} from './agent-files.ts';
import { agentSpec, KNOWN_KEY_VARS } from './presets.ts';
import { templateCompat, translatesToChat } from './compat.ts';
import type { Template } from './schema.ts';

export interface SessionContext {
  sessionId: string;
  slot: number;
  task: string | null;
  branch: string | null;
  runName: string;
  /** The session's workspace (absolute). */
  cwd: string;
  /** A private, existing per-session directory the preset may write config into. */
  sessionDir: string;
  /** What the agent must use as its API base URL and key: the engine's per-session proxy, never the real provider. */
  endpoint: { baseUrl: string; token: string };
  /** Where Claude Code's http hooks POST. */
  hookUrl: string;
  /** The id pre-assigned to Claude Code with --session-id; --resume uses it later. */
  agentSessionId: string;
  /** Continue that agent session instead of starting one: no task prompt. */
  resume: boolean;
  /** The model's window as the run is metered (settings' and the template's prices count); absent: the shipped table's. */
  contextWindow?: number | null;
}

export interface AgentLaunch {
  command: string;
  args: string[];
  env: Record<string, string>;
  /** Config files to write (parent directories created) before spawning. */
  files: { path: string; content: string; mode?: number }[];
}

export function slotTask(t: Template, slot: number): string | null {
  // A hole (a slot with a model but no task of its own) is no task.
  return t.tasks[slot - 1] || null;
}

export function renderPlaceholders(s: string, vars: { task: string | null; index: number; branch: string | null; name: string }): string {
  return s.replace(/\{\{\s*([A-Za-z_]+)\s*\}\}/g, (whole, key: string) => {
    switch (key) {
      case 'task':
        return vars.task ?? '';
      case 'index':
        return String(vars.index);
      case 'branch':
        return vars.branch ?? '';
      case 'name':
        return vars.name;
      default:
        return whole;
    }
  });
}

const TASK_ARG = /^\{\{\s*task\s*\}\}$/;

/**
 * Claude Code's model-tier variables (2.1.332: read off its binary — test/unit/launch-tiers.test.ts checks that every
 * ANTHROPIC_DEFAULT_*_MODEL the installed version knows is here).
 */
export const CLAUDE_CODE_MODEL_VARS: readonly string[] = [
  'ANTHROPIC_MODEL',
  'ANTHROPIC_DEFAULT_MODEL',
  'ANTHROPIC_DEFAULT_OPUS_MODEL',
  'ANTHROPIC_DEFAULT_SONNET_MODEL',
  'ANTHROPIC_DEFAULT_HAIKU_MODEL',
  'ANTHROPIC_DEFAULT_FABLE_MODEL',
  'ANTHROPIC_SMALL_FAST_MODEL',
  'CLAUDE_CODE_SUBAGENT_MODEL',
  'CLAUDE_CODE_WORKFLOW_SUBAGENT_MODEL',
];

/** Builds the argv, environment and files for one session. The agent only ever sees ctx.endpoint, never a real key. */
export function buildAgentLaunch(t: Template, ctx: SessionContext, baseEnv: NodeJS.ProcessEnv): AgentLaunch {
  const vars = { task: ctx.task, index: ctx.slot, branch: ctx.branch, name: ctx.runName };
  // A positional "{{task}}" with no task (or when resuming) would start the agent on an empty prompt: drop it instead.
  const dropTask = ctx.task === null || ctx.resume;
  const render = (args: string[]): string[] => args.filter((a) => !(dropTask && TASK_ARG.test(a))).map((a) => renderPlaceholders(a, vars));

  const env = agentEnv(t, ctx, baseEnv);
  const files: AgentLaunch['files'] = [];
  let args: string[];
  const window = ctx.contextWindow ?? modelContextWindow(t.model);
  // A batch preset runs its task and exits; resumed, or with no task, it is the agent's interactive UI.
  const batch = agentSpec(t.agent.preset).batch !== null && !ctx.resume && ctx.task !== null;

  switch (t.agent.preset) {
    case 'claude-code':
    case 'claude-code-batch': {
      const configDir = path.join(ctx.sessionDir, 'claude');
      const settingsPath = path.join(ctx.sessionDir, 'claude-settings.json');
      Object.assign(env, {
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
        API_TIMEOUT_MS: '600000',
        CLAUDE_CONFIG_DIR: configDir,
        DISABLE_AUTOUPDATER: '1',
      });
      // Without it Claude Code assumes a window for a model id it does not know and compacts too late.
      if (window !== null) env.CLAUDE_CODE_MAX_CONTEXT_TOKENS = String(window);
      // What the provider's compatibility profile wants of Claude Code (e.g. tool search off for Moonshot).
      Object.assign(env, templateCompat(t).claudeCodeEnv);
      files.push(
        { path: path.join(configDir, '.claude.json'), content: claudeStateJson(ctx.cwd), mode: 0o600 },
        { path: settingsPath, content: claudeSettingsJson(ctx.hookUrl), mode: 0o600 },
      );
      const head = [
        '--settings',
        settingsPath,
        ...(ctx.resume ? ['--resume', ctx.agentSessionId] : ['--session-id', ctx.agentSessionId]),
        '--model',
        t.model,
      ];
      let tail: string[];
      if (t.agent.args !== null) {
        // A resumed session is interactive: a print-mode flag would make it exit at once.
        tail = ctx.resume ? t.agent.args.filter((a) => a !== '-p' && a !== '--print') : t.agent.args;
      } else if (batch) {
        tail = ['-p', '{{task}}', '--permission-mode', 'acceptEdits'];
      } else {
        tail = ['--permission-mode', 'acceptEdits', '{{task}}'];
      }
      args = [...head, ...render(tail)];
      break;
    }

    case 'codex':
    case 'codex-batch': {
      // A private CODEX_HOME keeps the user's own Codex config out and lets the workspace be pre-trusted, so the
      // interactive UI does not stop at the trust question. `resume --last` then means this session's last chat.
      const home = path.join(ctx.sessionDir, 'codex');
      env.CODEX_HOME = home;
      files.push({ path: path.join(home, 'config.toml'), content: codexConfigToml(ctx.cwd), mode: 0o600 });
      const provider = [
        '-c',
        'model_provider=flotilla',
        '-c',
        'model_providers.flotilla.name=Flotilla',
        '-c',
        `model_providers.flotilla.base_url=${ctx.endpoint.baseUrl}`,
        '-c',
        'model_providers.flotilla.env_key=OPENAI_API_KEY',
        '-c',
        'model_providers.flotilla.wire_api=responses',
        '-m',
        t.model,
      ];
      if (ctx.resume) args = ['resume', '--last', ...provider];
      else if (batch) {
        // exec never asks (approval "never"); the sandbox keeps its writes inside the worktree.
        const tail = t.agent.args ?? ['--skip-git-repo-check', '--sandbox', 'workspace-write', '{{task}}'];
        args = ['exec', ...provider, ...render(tail)];
      } else args = [...provider, ...render(t.agent.args ?? ['{{task}}'])];
      break;
    }

    case 'opencode':
    case 'opencode-batch': {
      // Its own config, data and state directories per session: the user's global opencode config cannot swap the
      // provider, ten sessions do not share one database, and --continue means this session's last chat.
      const home = path.join(ctx.sessionDir, 'opencode');
      const config = path.join(home, 'opencode.json');
      Object.assign(env, {
        OPENCODE_CONFIG: config,
        XDG_CONFIG_HOME: path.join(home, 'config'),
        XDG_DATA_HOME: path.join(home, 'data'),
        XDG_STATE_HOME: path.join(home, 'state'),
        OPENCODE_DISABLE_AUTOUPDATE: 'true',
        OPENCODE_DISABLE_MODELS_FETCH: 'true',
        OPENCODE_DISABLE_LSP_DOWNLOAD: 'true',
        OPENCODE_DISABLE_SHARE: 'true',
      });
      files.push({ path: config, content: opencodeConfigJson(t.model, ctx.endpoint.baseUrl, window, batch), mode: 0o600 });
      const model = ['-m', `${OPENCODE_PROVIDER}/${t.model}`];
      if (ctx.resume) args = [...model, '--continue'];
      else if (batch) args = ['run', ...model, ...render(t.agent.args ?? ['{{task}}'])];
      else args = [...model, ...render(t.agent.args ?? (ctx.task === null ? [] : ['--prompt', '{{task}}']))];
      break;
    }

    case 'qwen-code':
    case 'qwen-code-batch': {
      // A private QWEN_HOME: settings, chats and memories per session, none of the user's ~/.qwen.
      const home = path.join(ctx.sessionDir, 'qwen');
      env.QWEN_HOME = home;
      env.OPENAI_MODEL = t.model;
      files.push({ path: path.join(home, 'settings.json'), content: qwenSettingsJson(window), mode: 0o600 });
      const head = ['--auth-type', 'openai', '-m', t.model];
      if (ctx.resume) args = [...head, '--continue'];
      else if (batch) {
        env.QWEN_CODE_SUPPRESS_YOLO_WARNING = '1';
        args = [...head, ...render(t.agent.args ?? ['--approval-mode', 'yolo', '{{task}}'])];
      } else
        args = [...head, ...render(t.agent.args ?? ['--approval-mode', 'auto-edit', ...(ctx.task === null ? [] : ['-i', '{{task}}'])])];
      break;
    }

    case 'kimi-cli': {
      env.KIMI_BASE_URL = ctx.endpoint.baseUrl;
      env.KIMI_API_KEY = ctx.endpoint.token;
      env.KIMI_MODEL_NAME = t.model;
      if (window !== null) env.KIMI_MODEL_MAX_CONTEXT_SIZE = String(window);
      // kimi takes the prompt as an option (a positional word would be read as a subcommand); --continue picks up
      // the latest session of this workspace, which is this session's.
      let tail: string[];
      if (ctx.resume) tail = ['--continue'];
      else if (t.agent.args !== null) tail = t.agent.args;
      else tail = ctx.task === null ? [] : ['--prompt', '{{task}}'];
      args = render(tail);
      break;
    }

    case 'aider': {
      env.OPENAI_API_BASE = ctx.endpoint.baseUrl;
      // First-run questions (analytics, model warnings, update check) would otherwise stop the session.
      Object.assign(env, { AIDER_ANALYTICS_DISABLE: 'true', AIDER_CHECK_UPDATE: 'false', AIDER_SHOW_MODEL_WARNINGS: 'false' });
      let tail: string[];
      if (t.agent.args !== null) tail = t.agent.args;
      else if (ctx.task === null || ctx.resume) tail = ['--yes-always', ...(ctx.resume ? ['--restore-chat-history'] : [])];
      else tail = ['--yes-always', '--message', '{{task}}'];
      args = ['--model', `openai/${t.model}`, ...render(tail)];
      break;
    }

    case 'shell':
      args = render(t.agent.args ?? []);
      break;
  }

  for (const [k, v] of Object.entries(t.agent.env)) env[k] = renderPlaceholders(v, vars);
  return { command: t.agent.command, args, env, files };
}

function agentEnv(t: Template, ctx: SessionContext, baseEnv: NodeJS.ProcessEnv): Record<string, string> {
  const keyVars = new Set([...KNOWN_KEY_VARS, ...providersOf(t).map((p) => p.apiKeyEnv)].map((k) => k.toUpperCase()));
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(baseEnv)) {
    if (v === undefined) continue;
    const K = k.toUpperCase();
    // Inherited Claude Code markers make a nested claude believe it runs inside another one.
    if (K === 'CLAUDECODE' || K === 'CLAUDE_CODE_ENTRYPOINT' || K === 'CLAUDE_CODE_SSE_PORT') continue;
    if (K.startsWith('ANTHROPIC_') || K.startsWith('OPENAI_') || K.startsWith('FLOTILLA_') || keyVars.has(K)) continue;
    env[k] = v;
  }

  // The agent's own API: Claude Code on an OpenAI-style host still speaks Anthropic (the meter translates).
  if (t.provider.style === 'anthropic' || translatesToChat(t)) {
    env.ANTHROPIC_BASE_URL = ctx.endpoint.baseUrl;
    env.ANTHROPIC_AUTH_TOKEN = ctx.endpoint.token;
  } else {
    env.OPENAI_BASE_URL = ctx.endpoint.baseUrl;
    env.OPENAI_API_KEY = ctx.endpoint.token;
  }
  // Every model tier Claude Code may pick: one left unmapped sends a Claude id the provider does not serve (404).
  for (const k of CLAUDE_CODE_MODEL_VARS) env[k] = t.model;
  env.FLOTILLA_SESSION_ID = ctx.sessionId;
  // Some agents (opencode) take the working directory from PWD, not from the process: an inherited one points elsewhere.
  env.PWD = ctx.cwd;
  env.TERM = 'xterm-256color';
  env.COLORTERM = 'truecolor';
  return env;
}
