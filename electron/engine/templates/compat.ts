// Which compatibility profile a provider's requests get, with which rules, and whether the meter translates them.
import { type CompatProfile, compatProfile } from '../meter/index.ts';
import { type AgentPresetName, PROVIDER_PRESETS, type ProviderPresetName, agentSpec, providerSpec } from './presets.ts';
import type { ProviderConfig } from './provider-entry.ts';

type ProviderCompat = Pick<ProviderConfig, 'preset' | 'compat' | 'compatRules'>;

/** The profile a provider's requests get: the one the template names, else its preset's default. */
export function providerCompatName(p: ProviderCompat): string {
  if (p.compat) return p.compat;
  return (PROVIDER_PRESETS as readonly string[]).includes(p.preset) ? providerSpec(p.preset as ProviderPresetName).compat : 'none';
}

/** That profile with the provider's rules on and off (compatRules). */
export function providerCompat(p: ProviderCompat): CompatProfile {
  return compatProfile(providerCompatName(p), p.compatRules);
}

/** Whether the meter translates: an Anthropic-speaking agent (Claude Code) on an OpenAI Chat host. */
export function translates(agent: AgentPresetName, p: Pick<ProviderConfig, 'style'>): boolean {
  const styles = agentSpec(agent).styles;
  return p.style === 'openai' && !!styles?.includes('anthropic') && !styles.includes('openai');
}

/** The compatibility profile name of a template's (first) provider. */
export function compatOf(t: { provider: ProviderCompat }): string {
  return providerCompatName(t.provider);
}

/** The profile of a template's (first) provider with its rules. */
export function templateCompat(t: { provider: ProviderCompat }): CompatProfile {
  return providerCompat(t.provider);
}

/** Whether the meter translates a template's (first) provider's requests. */
export function translatesToChat(t: { agent: { preset: AgentPresetName }; provider: Pick<ProviderConfig, 'style'> }): boolean {
  return translates(t.agent.preset, t.provider);
}
