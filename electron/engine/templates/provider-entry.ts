// One provider of a template (`provider:` or an item of `providers:`): its raw shape, and resolving it against its preset
// and the agent that will talk to it.
import { z } from 'zod';
import { API_STYLES, type ApiStyle, ProviderLimits } from '../../shared/contract.ts';
import { COMPAT_PROFILES, type PriceTable, RULE_IDS } from '../meter/index.ts';
import type { PathSeg, Problem } from './doc.ts';
import { type AgentPresetName, agentSpec } from './presets.ts';
import { PROVIDER_PRESETS, type ProviderPresetName, hostModelId, providerSpec } from './providers.ts';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const ROUTES = ['ordered', 'fastest', 'cheapest'] as const;
export type Route = (typeof ROUTES)[number];

function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

export const ProviderEntrySchema = z.strictObject({
  preset: z.enum(PROVIDER_PRESETS as [ProviderPresetName, ...ProviderPresetName[]]).optional(),
  name: z
    .string()
    .trim()
    .regex(/^[a-z0-9][a-z0-9._-]*$/i)
    .optional(),
  baseUrl: z.string().trim().refine(isHttpUrl).optional(),
  style: z.enum(API_STYLES as [ApiStyle, ...ApiStyle[]]).optional(),
  apiKeyEnv: z.string().regex(ENV_NAME).optional(),
  model: z.string().trim().min(1).optional(),
  compat: z.enum(COMPAT_PROFILES as [string, ...string[]]).optional(),
  compatRules: z
    .strictObject({
      on: z.array(z.enum(RULE_IDS as [string, ...string[]])).optional(),
      off: z.array(z.enum(RULE_IDS as [string, ...string[]])).optional(),
    })
    .optional(),
  limits: ProviderLimits.optional(),
  preferences: z.record(z.string(), z.unknown()).optional(),
});
export type RawProvider = z.infer<typeof ProviderEntrySchema>;

export const PROVIDER_KEYS = ['preset', 'name', 'baseUrl', 'style', 'apiKeyEnv', 'model', 'compat', 'compatRules', 'limits', 'preferences'];

/** What each field of a provider must be (keys after `provider.` / `providers.*.`). */
export const PROVIDER_EXPECTED: Record<string, string> = {
  '': 'a mapping with preset, baseUrl, style, apiKeyEnv',
  preset: `one of ${PROVIDER_PRESETS.join(', ')}`,
  name: 'a short name for this provider (letters, digits, . _ -), e.g. cerebras-eu',
  baseUrl: 'an http(s) URL, e.g. https://api.moonshot.ai/anthropic',
  style: `one of ${API_STYLES.join(', ')}`,
  apiKeyEnv: 'an environment variable name, e.g. MOONSHOT_API_KEY',
  model: "the host's id for the template's model, e.g. moonshotai/kimi-k2.6",
  compat: `one of ${COMPAT_PROFILES.join(', ')}`,
  compatRules: 'a mapping with on and/or off, each a list of rule ids',
  'compatRules.on': 'a list of rule ids',
  'compatRules.off': 'a list of rule ids',
  'compatRules.on.*': `one of ${RULE_IDS.join(', ')}`,
  'compatRules.off.*': `one of ${RULE_IDS.join(', ')}`,
  limits: 'a mapping with tier and/or concurrency, rpm, tpm',
  'limits.tier': 'a Moonshot tier',
  'limits.concurrency': 'a whole number of requests in flight, at least 1',
  'limits.rpm': 'a whole number of requests per minute, at least 1',
  'limits.tpm': 'a whole number of tokens per minute, at least 1',
  preferences: "a mapping passed to the host as its routing preferences (OpenRouter's `provider`: order, sort, only …)",
};

/** A provider as a run uses it. */
export interface ProviderConfig {
  /** Unique in the run: the entry's `name`, else its preset (a second of the same preset gets `-2`). */
  name: string;
  preset: string;
  baseUrl: string;
  style: ApiStyle;
  apiKeyEnv: string;
  /** False for a self-hosted server that runs without a key (vllm, sglang); absent: required. */
  keyRequired?: boolean;
  /** The compatibility profile the template names (meter/compat); absent: the preset's default (see compatOf). */
  compat?: string;
  /** Rules turned on or off on top of that profile. */
  compatRules?: { on: string[]; off: string[] };
  /** The account's rate limits for the governor (a Moonshot tier and/or numbers); absent: settings', else none. */
  limits?: ProviderLimits;
  /** The host's id for the template's model when it is not the template's own (requests are rewritten to it). */
  model?: string;
  /** Routing preferences the host takes in the request body (OpenRouter's `provider`). */
  preferences?: Record<string, unknown>;
  /** The template line the entry is on (for errors found at launch, e.g. a key that is not set). */
  line?: number | null;
}

/** Flotilla's id for a host's model id: no vendor path, lower case, Fireworks' `k2p7` read as `k2.7`. */
export function canonicalModel(id: string): string {
  const tail = id.slice(id.lastIndexOf('/') + 1).toLowerCase();
  return tail.replace(/(\d)p(\d)/g, '$1.$2');
}

interface EntryContext {
  agentPreset: AgentPresetName;
  /** ['provider'] or ['providers', i]. */
  at: PathSeg[];
  /** The template's model; in a list each entry maps it to its host's id. */
  model: string;
  inList: boolean;
  knownPrices: PriceTable;
}

/** The agent's API on this provider: the one it speaks that the host serves; Claude Code on a Chat-only host is translated. */
function styleFor(raw: RawProvider, preset: ProviderPresetName, agentPreset: AgentPresetName): ApiStyle {
  if (raw.style) return raw.style;
  const spec = providerSpec(preset);
  const agent = agentSpec(agentPreset);
  if (preset === 'custom') return agent.styles?.[0] ?? spec.style;
  if (!agent.styles) return spec.style;
  const served = agent.styles.find((s) => spec.surfaces[s] !== undefined);
  if (served) return served;
  if (agent.styles.includes('anthropic') && spec.surfaces.openai) return 'openai';
  return spec.style;
}

export function resolveProvider(raw: RawProvider, ctx: EntryContext): { provider: ProviderConfig } | { problems: Problem[] } {
  const problems: Problem[] = [];
  const agent = agentSpec(ctx.agentPreset);
  const preset = raw.preset ?? agent.defaultProvider;
  const spec = providerSpec(preset);
  const style = styleFor(raw, preset, ctx.agentPreset);
  const baseUrl = raw.baseUrl ?? spec.surfaces[style] ?? spec.baseUrl;
  const field = (f: string): PathSeg[] => [...ctx.at, f];
  const where = ctx.inList ? `providers[${ctx.at[1]}]` : 'provider';
  if (baseUrl === null) {
    problems.push({
      path: field('baseUrl'),
      text: `required when ${where}.preset is ${preset} — the API base URL, e.g. https://my-gateway.example/v1`,
    });
  }
  // An Anthropic-speaking agent (Claude Code) on an OpenAI Chat host is translated by the meter (meter/translate).
  if (agent.styles && !agent.styles.includes(style) && !(agent.styles.includes('anthropic') && style === 'openai')) {
    const fix = agent.styles.includes('anthropic') ? 'moonshot' : 'moonshot-openai';
    const at = raw.style ? field('style') : raw.preset ? field('preset') : ['agent', 'preset'];
    problems.push({
      path: at,
      text:
        `agent ${ctx.agentPreset} speaks the ${agent.styles.join('/')} API but provider ${preset} is ${style}-style` +
        ` — use ${where}.preset: ${fix}, or set ${where}.style to ${agent.styles[0]} if the endpoint serves it`,
    });
  }
  const tweak = raw.compatRules;
  const both = tweak?.on?.find((id) => tweak.off?.includes(id));
  if (both) problems.push({ path: field('compatRules').concat('off'), text: `rule '${both}' is both on and off — keep it in one list` });

  // In a list every host names the one model its own way; a single provider is sent the model as the template writes it.
  let model: string | undefined = raw.model;
  if (ctx.inList && model === undefined) {
    const mapped = hostModelId(preset, ctx.model);
    if (mapped === null) {
      problems.push({
        path: field('preset'),
        text:
          `${preset} has no known id for ${ctx.model} — add model: <the id ${preset} lists for it> to this entry` +
          ` (check its model list; Flotilla does not guess a host's ids)`,
      });
    } else if (mapped !== ctx.model) model = mapped;
  }
  if (ctx.inList && raw.model !== undefined) {
    const served = canonicalModel(raw.model);
    const known = (m: string) => ctx.knownPrices.get(m) !== null;
    if (served !== canonicalModel(ctx.model) && known(served) && known(ctx.model)) {
      problems.push({
        path: field('model'),
        text:
          `serves ${served} but the template's model is ${ctx.model} — a providers list is one model on several hosts;` +
          ' for different models give slots: [{model: …}]',
      });
    }
  }
  if (problems.length) return { problems };
  return {
    provider: {
      name: raw.name ?? preset,
      preset,
      baseUrl: baseUrl!.replace(/\/+$/, ''),
      style,
      apiKeyEnv: raw.apiKeyEnv ?? spec.apiKeyEnv,
      ...(spec.keyRequired || raw.apiKeyEnv ? {} : { keyRequired: false }),
      ...(raw.compat !== undefined ? { compat: raw.compat } : {}),
      ...(raw.compatRules !== undefined ? { compatRules: { on: raw.compatRules.on ?? [], off: raw.compatRules.off ?? [] } } : {}),
      ...(raw.limits !== undefined ? { limits: raw.limits } : {}),
      ...(model !== undefined ? { model } : {}),
      ...(raw.preferences !== undefined ? { preferences: raw.preferences } : {}),
    },
  };
}
