// What `flotilla probe` checks: a template's provider and model, or a provider preset, with the user's overrides
// (model, compat profile, rules on/off, base URL, key variable) — each checked, and refused with what to use instead.
import type { PriceOverrides } from '../../shared/contract.ts';
import { EngineError } from '../errors.ts';
import { COMPAT_PROFILES, RULE_IDS } from '../meter/index.ts';
import { PROVIDER_PRESETS, type ProviderPresetName, type Template, compatOf, providerSpec } from '../templates/index.ts';

export interface ProbeTargetChoice {
  baseUrl: string;
  style: string;
  apiKeyEnv: string;
  model: string;
  compat: string;
  rules: { on: string[]; off: string[] };
  prices: PriceOverrides | undefined;
}

export interface ProbeTargetOptions {
  /** A loaded template: its provider and model (else `provider`, a preset — moonshot by default). */
  template?: Template | undefined;
  provider?: string | undefined;
  model?: string | undefined;
  compat?: string | undefined;
  /** Comma-separated rule ids. */
  rulesOn?: string | undefined;
  rulesOff?: string | undefined;
  baseUrl?: string | undefined;
  keyEnv?: string | undefined;
}

const bad = (message: string) => new EngineError('bad_request', message);

/** The provider, model, profile and rules to probe; an EngineError('bad_request') names the option that is wrong. */
export function resolveProbeTarget(o: ProbeTargetOptions): ProbeTargetChoice {
  let target: ProbeTargetChoice;
  if (o.template) {
    const t = o.template;
    const rules = t.provider.compatRules ?? { on: [], off: [] };
    target = {
      baseUrl: t.provider.baseUrl,
      style: t.provider.style,
      apiKeyEnv: t.provider.apiKeyEnv,
      model: t.model,
      compat: compatOf(t),
      rules,
      prices: t.prices,
    };
  } else {
    const preset = o.provider ?? 'moonshot';
    if (!(PROVIDER_PRESETS as readonly string[]).includes(preset))
      throw bad(`--provider ${preset} is not a provider preset — use one of ${PROVIDER_PRESETS.join(', ')}`);
    const spec = providerSpec(preset as ProviderPresetName);
    // Claude Code's shapes go to the host's Anthropic endpoint when it has one, else through the translation.
    const style = spec.surfaces.anthropic ? 'anthropic' : spec.style;
    const baseUrl = o.baseUrl ?? spec.surfaces[style] ?? spec.baseUrl;
    if (!baseUrl) throw bad(`--provider ${preset} needs --base-url (the provider's Anthropic-style base URL)`);
    target = {
      baseUrl,
      style,
      apiKeyEnv: spec.apiKeyEnv,
      model: spec.defaultModel,
      compat: spec.compat,
      rules: { on: [], off: [] },
      prices: undefined,
    };
  }
  if (o.model) target.model = o.model;
  if (o.compat) target.compat = o.compat;
  if (o.baseUrl) target.baseUrl = o.baseUrl;
  if (o.keyEnv) target.apiKeyEnv = o.keyEnv;
  if (!COMPAT_PROFILES.includes(target.compat))
    throw bad(`--compat ${target.compat} is not a compat profile — use one of ${COMPAT_PROFILES.join(', ')}`);
  for (const [side, list] of [
    ['on', o.rulesOn],
    ['off', o.rulesOff],
  ] as const) {
    if (list === undefined) continue;
    for (const id of list
      .split(',')
      .map((r) => r.trim())
      .filter(Boolean)) {
      if (!RULE_IDS.includes(id)) throw bad(`--rules-${side} ${id} is not a compat rule — use one of ${RULE_IDS.join(', ')}`);
      target.rules[side].push(id);
    }
  }
  const both = target.rules.on.find((id) => target.rules.off.includes(id));
  if (both) throw bad(`compat rule ${both} is both on and off — keep it in one of --rules-on / --rules-off`);
  // A Chat host is probed through the translation, as the meter serves Claude Code there; Responses is Codex's API only.
  if (target.style === 'responses')
    throw bad(
      `probe sends Claude Code's request shapes, which go to an Anthropic or OpenAI Chat endpoint (${target.baseUrl} is responses-style) — e.g. --provider moonshot`,
    );
  return target;
}
