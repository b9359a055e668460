// The config files agent presets write into a session's private directory before the agent starts (templates/launch).

const HOOK_EVENTS = ['Stop', 'PermissionRequest', 'Notification', 'StopFailure', 'UserPromptSubmit', 'PreToolUse'] as const;
const EDIT_TOOLS = 'Write|Edit|MultiEdit|NotebookEdit';

/** First-run state: without it interactive Claude Code stops at onboarding and at the folder-trust dialog. */
export function claudeStateJson(cwd: string): string {
  const state = {
    hasCompletedOnboarding: true,
    projects: {
      [cwd]: { hasTrustDialogAccepted: true, hasCompletedProjectOnboarding: true, projectOnboardingSeenCount: 1 },
    },
  };
  return JSON.stringify(state, null, 2) + '\n';
}

export function claudeSettingsJson(hookUrl: string): string {
  const http = [{ type: 'http', url: hookUrl }];
  const hooks: Record<string, { matcher?: string; hooks: typeof http }[]> = {};
  for (const event of HOOK_EVENTS) hooks[event] = [{ hooks: http }];
  hooks.PostToolUse = [{ matcher: EDIT_TOOLS, hooks: http }];
  return JSON.stringify({ hooks }, null, 2) + '\n';
}

export function codexConfigToml(cwd: string): string {
  return `[projects.${JSON.stringify(cwd)}]\ntrust_level = "trusted"\n`;
}

/** The provider id opencode's config names; models are `flotilla/<model>`. */
export const OPENCODE_PROVIDER = 'flotilla';

/**
 * opencode's config: one OpenAI-compatible provider at the session's proxy, the key read from OPENAI_API_KEY (so the
 * token is not in the file), the model's window, and edits allowed. A batch run (opencode run) cannot answer a
 * question, so shell commands are allowed there too; interactively they ask in the tile.
 */
export function opencodeConfigJson(model: string, baseUrl: string, window: number | null, batch: boolean): string {
  const config = {
    $schema: 'https://opencode.ai/config.json',
    autoupdate: false,
    share: 'disabled',
    model: `${OPENCODE_PROVIDER}/${model}`,
    small_model: `${OPENCODE_PROVIDER}/${model}`,
    permission: { edit: 'allow', bash: batch ? 'allow' : 'ask', webfetch: 'ask' },
    provider: {
      [OPENCODE_PROVIDER]: {
        npm: '@ai-sdk/openai-compatible',
        name: 'Flotilla',
        options: { baseURL: baseUrl, apiKey: '{env:OPENAI_API_KEY}' },
        models: { [model]: { name: model, ...(window !== null ? { limit: { context: window, output: 32768 } } : {}) } },
      },
    },
  };
  return JSON.stringify(config, null, 2) + '\n';
}

/** Qwen Code's settings: no usage statistics, and the model's window so it compacts in time. */
export function qwenSettingsJson(window: number | null): string {
  const settings = {
    privacy: { usageStatisticsEnabled: false },
    ...(window !== null ? { model: { generationConfig: { contextWindowSize: window } } } : {}),
  };
  return JSON.stringify(settings, null, 2) + '\n';
}
