// The API hosts a template can name (`provider:` or `providers:`): where each serves which API, the key it takes, how it
// names the models and which compatibility profile its requests get. Figures come from the hosts' own docs as reported
// in late 2026 (see the README's "Hosts" table for each source and date): check a host's model list before a big run.
import type { ApiStyle } from '../../shared/contract.ts';

export type ProviderPresetName =
  | 'moonshot'
  | 'moonshot-openai'
  | 'openrouter'
  | 'novita'
  | 'vercel'
  | 'groq'
  | 'cerebras'
  | 'fireworks'
  | 'together'
  | 'deepinfra'
  | 'baseten'
  | 'vllm'
  | 'sglang'
  | 'custom';

export const PROVIDER_PRESETS: readonly ProviderPresetName[] = [
  'moonshot',
  'moonshot-openai',
  'openrouter',
  'novita',
  'vercel',
  'groq',
  'cerebras',
  'fireworks',
  'together',
  'deepinfra',
  'baseten',
  'vllm',
  'sglang',
  'custom',
];

export interface ProviderPresetSpec {
  /** The base URL of its default API (`style`); null: the template must give one (custom). */
  baseUrl: string | null;
  style: ApiStyle;
  /** Base URLs by API style: an agent is sent to the one it speaks (Claude Code to `anthropic`, else translated). */
  surfaces: Partial<Record<ApiStyle, string>>;
  apiKeyEnv: string;
  /** A self-hosted server runs without a key unless the template names one. */
  keyRequired: boolean;
  /** The compatibility profile its requests get unless the template names one (meter/compat). */
  compat: string;
  /** The model a single `provider:` of this preset runs when the template names none (the host's own id). */
  defaultModel: string;
  /**
   * How the host names a model in a `providers:` list: known ids (Flotilla's id → the host's), else `prefix` + the id;
   * neither: the entry must give its own `model:` (Flotilla does not guess a host's ids).
   */
  ids: Readonly<Record<string, string>>;
  prefix: string | null;
}

export const DEFAULT_MODEL = 'kimi-k2.6';

const MOONSHOT_ANTHROPIC = 'https://api.moonshot.ai/anthropic';
const MOONSHOT_OPENAI = 'https://api.moonshot.ai/v1';

/** An OpenAI-style host that serves K2's weights: K2's Chat rules apply (the moonshot profile carries them). */
function openaiHost(baseUrl: string, apiKeyEnv: string, ids: Record<string, string>, prefix: string | null = null): ProviderPresetSpec {
  return {
    baseUrl,
    style: 'openai',
    surfaces: { openai: baseUrl },
    apiKeyEnv,
    keyRequired: true,
    compat: 'moonshot',
    defaultModel: ids[DEFAULT_MODEL] ?? (prefix !== null ? prefix + DEFAULT_MODEL : DEFAULT_MODEL),
    ids,
    prefix,
  };
}

/** vLLM and SGLang serve Anthropic Messages at the root and OpenAI at /v1; the model is the name it was served as. */
function selfHosted(root: string, apiKeyEnv: string): ProviderPresetSpec {
  return {
    baseUrl: root,
    style: 'anthropic',
    surfaces: { anthropic: root, openai: `${root}/v1`, responses: `${root}/v1` },
    apiKeyEnv,
    keyRequired: false,
    compat: 'moonshot',
    defaultModel: DEFAULT_MODEL,
    ids: {},
    prefix: '',
  };
}

const MOONSHOT: ProviderPresetSpec = {
  baseUrl: MOONSHOT_ANTHROPIC,
  style: 'anthropic',
  surfaces: { anthropic: MOONSHOT_ANTHROPIC, openai: MOONSHOT_OPENAI, responses: MOONSHOT_OPENAI },
  apiKeyEnv: 'MOONSHOT_API_KEY',
  keyRequired: true,
  compat: 'moonshot',
  defaultModel: DEFAULT_MODEL,
  ids: {},
  prefix: '',
};

const PROVIDERS: Record<ProviderPresetName, ProviderPresetSpec> = {
  moonshot: MOONSHOT,
  // Moonshot's OpenAI surface only.
  'moonshot-openai': {
    ...MOONSHOT,
    baseUrl: MOONSHOT_OPENAI,
    style: 'openai',
    surfaces: { openai: MOONSHOT_OPENAI, responses: MOONSHOT_OPENAI },
  },
  // A gateway: its Anthropic endpoint for Claude Code; the template's `preferences:` go out as OpenRouter's `provider`.
  openrouter: {
    baseUrl: 'https://openrouter.ai/api/v1',
    style: 'openai',
    surfaces: { anthropic: 'https://openrouter.ai/api', openai: 'https://openrouter.ai/api/v1', responses: 'https://openrouter.ai/api/v1' },
    apiKeyEnv: 'OPENROUTER_API_KEY',
    keyRequired: true,
    compat: 'gateway',
    defaultModel: `moonshotai/${DEFAULT_MODEL}`,
    ids: {},
    prefix: 'moonshotai/',
  },
  novita: {
    baseUrl: 'https://api.novita.ai/openai',
    style: 'openai',
    surfaces: { anthropic: 'https://api.novita.ai/anthropic', openai: 'https://api.novita.ai/openai' },
    apiKeyEnv: 'NOVITA_API_KEY',
    keyRequired: true,
    compat: 'moonshot',
    defaultModel: `moonshotai/${DEFAULT_MODEL}`,
    ids: {},
    prefix: 'moonshotai/',
  },
  vercel: {
    baseUrl: 'https://ai-gateway.vercel.sh/v1',
    style: 'openai',
    surfaces: {
      anthropic: 'https://ai-gateway.vercel.sh',
      openai: 'https://ai-gateway.vercel.sh/v1',
      responses: 'https://ai-gateway.vercel.sh/v1',
    },
    apiKeyEnv: 'AI_GATEWAY_API_KEY',
    keyRequired: true,
    compat: 'gateway',
    defaultModel: `moonshotai/${DEFAULT_MODEL}`,
    ids: {},
    prefix: 'moonshotai/',
  },
  groq: openaiHost('https://api.groq.com/openai/v1', 'GROQ_API_KEY', {
    'kimi-k2-instruct-0905': 'moonshotai/kimi-k2-instruct-0905',
    'kimi-k2-0905-preview': 'moonshotai/kimi-k2-instruct-0905',
  }),
  cerebras: openaiHost('https://api.cerebras.ai/v1', 'CEREBRAS_API_KEY', {}),
  fireworks: openaiHost('https://api.fireworks.ai/inference/v1', 'FIREWORKS_API_KEY', {
    'kimi-k3': 'accounts/fireworks/models/kimi-k3',
    'kimi-k2.7-code': 'accounts/fireworks/models/kimi-k2p7-code',
    'kimi-k2-instruct': 'accounts/fireworks/models/kimi-k2-instruct',
  }),
  together: openaiHost('https://api.together.xyz/v1', 'TOGETHER_API_KEY', { 'kimi-k2-thinking': 'moonshotai/Kimi-K2-Thinking' }),
  deepinfra: openaiHost('https://api.deepinfra.com/v1/openai', 'DEEPINFRA_API_KEY', {}),
  baseten: openaiHost('https://inference.baseten.co/v1', 'BASETEN_API_KEY', {}),
  vllm: selfHosted('http://127.0.0.1:8000', 'VLLM_API_KEY'),
  sglang: selfHosted('http://127.0.0.1:30000', 'SGLANG_API_KEY'),
  // The key variable is engine-side only: FLOTILLA_* never reaches an agent.
  // Custom providers choose their profile (provider.compat); none by default.
  custom: {
    baseUrl: null,
    style: 'anthropic',
    surfaces: {},
    apiKeyEnv: 'FLOTILLA_API_KEY',
    keyRequired: true,
    compat: 'none',
    defaultModel: DEFAULT_MODEL,
    ids: {},
    prefix: '',
  },
};

export function providerSpec(preset: ProviderPresetName): ProviderPresetSpec {
  return PROVIDERS[preset];
}

/**
 * The host's id for one of Flotilla's model ids in a `providers:` list: the preset's known id, else its prefix rule;
 * null when the host has neither (the entry must name its own `model:`).
 */
export function hostModelId(preset: ProviderPresetName, model: string): string | null {
  const spec = PROVIDERS[preset];
  const known = spec.ids[model.toLowerCase()];
  if (known) return known;
  if (spec.prefix === null) return null;
  return model.startsWith(spec.prefix) ? model : spec.prefix + model;
}

/** Variables that may hold a real provider key: stripped from every agent's environment. */
export const KNOWN_KEY_VARS: readonly string[] = [
  ...new Set([
    ...Object.values(PROVIDERS)
      .map((p) => p.apiKeyEnv)
      .filter((k) => k !== 'FLOTILLA_API_KEY'),
    'KIMI_API_KEY',
    'DEEPSEEK_API_KEY',
  ]),
];
