// Which compatibility profile a template's requests get, and with which rules.
import { type CompatProfile, compatProfile } from '../meter/index.ts';
import { PROVIDER_PRESETS, type ProviderPresetName, agentSpec, providerSpec } from './presets.ts';
import type { Template } from './schema.ts';

/** The compatibility profile a template's requests get: the one it names, else its provider preset's default. */
export function compatOf(t: Pick<Template, 'provider'>): string {
  if (t.provider.compat) return t.provider.compat;
  return (PROVIDER_PRESETS as readonly string[]).includes(t.provider.preset)
    ? providerSpec(t.provider.preset as ProviderPresetName).compat
    : 'none';
}

/** That profile with the template's rules on and off (provider.compatRules). */
export function templateCompat(t: Pick<Template, 'provider'>): CompatProfile {
  return compatProfile(compatOf(t), t.provider.compatRules);
}

/** Whether the meter translates this template's requests: an Anthropic-speaking agent on an OpenAI Chat host. */
export function translatesToChat(t: Pick<Template, 'agent' | 'provider'>): boolean {
  const styles = agentSpec(t.agent.preset).styles;
  return t.provider.style === 'openai' && !!styles?.includes('anthropic') && !styles.includes('openai');
}
