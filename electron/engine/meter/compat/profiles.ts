// Compatibility profiles: which rules a provider needs, with what options, and what the agents' launches should set
// for it. A template names one (`provider.compat`); the Moonshot presets default to `moonshot`, other providers to `none`.
import { RULES, ruleById, type Body, type CompatOptions, type CompatRule } from './rules.ts';
import type { ApiStyle } from '../../../shared/contract.ts';
import type { RewriteOutcome } from '../usage/index.ts';

export interface CompatProfileSpec {
  name: string;
  summary: string;
  rules: readonly string[];
  options: CompatOptions;
  /** Set in Claude Code's environment when this profile is on (e.g. tool search off: its blocks break the provider). */
  claudeCodeEnv: Record<string, string>;
}

/** K2's rules on OpenAI-style hosts (they apply to Chat requests only: the Anthropic surface needs none of them). */
const K2_CHAT = ['k2-tool-call-ids', 'k2-reasoning-content', 'k2-fixed-sampling', 'k2-tool-choice-auto'];

/** One prompt-cache prefix across a run's sessions (non-Anthropic hosts: their caches key on the exact prefix). */
const CACHE = ['stable-cache-prefix'];

const DEFAULT_OPTIONS: CompatOptions = { thinkingBudgetTokens: null, maxTools: 128 };

const SPECS: readonly CompatProfileSpec[] = [
  {
    name: 'moonshot',
    summary: "Moonshot's Kimi K2/K3 endpoints, as their reported rejections describe them (late 2026)",
    rules: ['thinking-enabled', 'tool-reference-as-text', 'document-as-text', 'tools-max', 'inline-schema-refs', ...K2_CHAT, ...CACHE],
    options: DEFAULT_OPTIONS,
    // Tool search sends tool_reference blocks (Kimi-K2#118): off, so the rewrite is a safety net, not the rule.
    claudeCodeEnv: { ENABLE_TOOL_SEARCH: 'false' },
  },
  {
    name: 'moonshot-strict',
    summary: 'moonshot, and role "system" messages folded into the system prompt (for an endpoint that refuses them)',
    rules: [
      'thinking-enabled',
      'tool-reference-as-text',
      'document-as-text',
      'tools-max',
      'inline-schema-refs',
      'fold-system-messages',
      ...K2_CHAT,
      ...CACHE,
    ],
    options: DEFAULT_OPTIONS,
    claudeCodeEnv: { ENABLE_TOOL_SEARCH: 'false' },
  },
  {
    name: 'gateway',
    summary: 'a gateway to other hosts (OpenRouter, Vercel): one prompt-cache prefix for every session, nothing else',
    rules: [...CACHE],
    options: DEFAULT_OPTIONS,
    claudeCodeEnv: {},
  },
  { name: 'none', summary: 'requests pass as the agent sent them', rules: [], options: DEFAULT_OPTIONS, claudeCodeEnv: {} },
];

export const COMPAT_PROFILES: readonly string[] = SPECS.map((s) => s.name);

/** A rule that ran on one request: its id and what it did. */
export interface RuleFire {
  rule: string;
  note: string;
  /** The rule only replaced this top-level member, which was `before` (undefined: it was absent). */
  member?: { key: string; before: unknown };
}

export class CompatProfile {
  readonly rules: readonly CompatRule[];

  constructor(readonly spec: CompatProfileSpec) {
    this.rules = spec.rules.map((id) => {
      const r = ruleById(id);
      if (!r)
        throw new Error(
          `compat profile ${spec.name} names rule '${id}', which does not exist — known: ${RULES.map((x) => x.id).join(', ')}`,
        );
      return r;
    });
  }

  get name(): string {
    return this.spec.name;
  }

  /** What Claude Code's environment gets for this profile: the profile's own variables and its rules'. */
  get claudeCodeEnv(): Record<string, string> {
    return Object.assign({}, this.spec.claudeCodeEnv, ...this.rules.map((r) => r.claudeCodeEnv ?? {}));
  }

  /** The rules that apply to a request of this style and model (before looking at the body). */
  applicable(style: ApiStyle, model: string): CompatRule[] {
    const id = model.toLowerCase();
    return this.rules.filter((r) => r.styles.includes(style) && (r.models === null || r.models.test(id)));
  }

  /**
   * inspectRequest's rewrite callback: runs the rules on the parsed body, hands what fired to `onFires`, and says what
   * changed — only members that can be spliced into the agent's bytes, or a re-serialisation.
   */
  rewriter(style: ApiStyle, fallbackModel: string, onFires: (fires: RuleFire[]) => void): (o: Body) => RewriteOutcome {
    return (o) => {
      const fires = this.apply(o, style, typeof o.model === 'string' && o.model ? o.model : fallbackModel);
      if (fires.length) onFires(fires);
      const done = fires.filter((f) => !f.note.startsWith('failed:'));
      if (!done.length) return false;
      return done.every((f) => f.member) ? { members: done.map((f) => f.member!) } : true;
    };
  }

  /** Runs the applicable rules on a parsed body, in place. A rule that throws is skipped (and reported in the fires). */
  apply(body: Body, style: ApiStyle, model: string): RuleFire[] {
    const fires: RuleFire[] = [];
    for (const rule of this.applicable(style, model)) {
      let note: string | null;
      const before = rule.member ? body[rule.member] : undefined;
      try {
        note = rule.apply(body, { style, model, options: this.spec.options });
      } catch (err) {
        fires.push({ rule: rule.id, note: `failed: ${(err as Error).message}` });
        continue;
      }
      if (note !== null) fires.push({ rule: rule.id, note, ...(rule.member ? { member: { key: rule.member, before } } : {}) });
    }
    return fires;
  }
}

/** A template's change to its profile's rules (`provider.compatRules`): rules turned on, and off. */
export interface RuleTweak {
  on?: readonly string[];
  off?: readonly string[];
}

const cache = new Map<string, CompatProfile>();

/**
 * The profile of that name, with the tweak's rules on and off (the name then says so, e.g. `moonshot+fold-system-messages
 * -inline-schema-refs`); throws an error naming the known profiles or rules for anything else.
 */
export function compatProfile(name: string, tweak: RuleTweak = {}): CompatProfile {
  const on = [...new Set(tweak.on ?? [])];
  const off = [...new Set(tweak.off ?? [])];
  const key = [name, ...on.map((r) => `+${r}`), ...off.map((r) => `-${r}`)].join('');
  let p = cache.get(key);
  if (p) return p;
  const spec = SPECS.find((s) => s.name === name);
  if (!spec) throw new Error(`unknown compat profile '${name}' — use one of ${COMPAT_PROFILES.join(', ')}`);
  for (const id of [...on, ...off]) {
    if (!ruleById(id)) throw new Error(`unknown compat rule '${id}' — use one of ${RULES.map((r) => r.id).join(', ')}`);
  }
  const both = on.find((id) => off.includes(id));
  if (both) throw new Error(`compat rule '${both}' is both on and off — keep it in one list`);
  // The rule table's order, so a tweak never changes which rule sees the body first.
  const wanted = new Set([...spec.rules.filter((id) => !off.includes(id)), ...on]);
  const rules = RULES.map((r) => r.id).filter((id) => wanted.has(id));
  p = new CompatProfile(key === name ? spec : { ...spec, name: key, rules });
  cache.set(key, p);
  return p;
}

/** The rule that is the known fix for a provider's rejection message, if one is. */
export function ruleForRejection(message: string): CompatRule | null {
  return RULES.find((r) => r.fixes.test(message)) ?? null;
}
