// The compatibility layer: rewrite rules that make agents' requests fit the model they go to, grouped into profiles.
// The public face of the compat folder (the meter applies a session's profile before a request goes upstream).
export { RULES, RULE_IDS, ruleById, type Body, type CompatOptions, type CompatRule } from './rules.ts';
export {
  COMPAT_PROFILES,
  CompatProfile,
  compatProfile,
  ruleForRejection,
  type CompatProfileSpec,
  type RuleFire,
  type RuleTweak,
} from './profiles.ts';
