// What a compatibility rule is: data (id, models, styles, the report it answers, the rejections it fixes) and one
// function over the parsed request body.
import type { ApiStyle } from '../../../shared/contract.ts';

/** The request body as JSON.parse gave it (ours to change in place). */
export type Body = Record<string, any>;

export interface RuleContext {
  style: ApiStyle;
  model: string;
  /** Profile options some rules take. */
  options: CompatOptions;
}

export interface CompatOptions {
  /** thinking-enabled: add `budget_tokens` (the provider wants one) — null leaves it out. */
  thinkingBudgetTokens: number | null;
  /** tools-max: the provider's limit on tools per request. */
  maxTools: number;
}

export interface CompatRule {
  id: string;
  /**
   * The one top-level member of the body the rule replaces, when that is all it does: then the rewrite can splice the
   * new value into the agent's bytes instead of re-serialising a body of hundreds of KB (see inspectRequest).
   */
  member?: string;
  /** What it changes, in the user's words (the Spend panel, `flotilla probe`, the README). */
  summary: string;
  /** The public report it answers. */
  report: string;
  /** Models it applies to (by id); null = every model. */
  models: RegExp | null;
  styles: readonly ApiStyle[];
  /** The provider's rejection messages this rule is the known fix for. */
  fixes: RegExp;
  /** A cost rule: it fixes no refusal (a request goes without it), it saves money (`flotilla probe` does not list it). */
  cost?: boolean;
  /** Set in Claude Code's environment while the rule is on (it asks Claude Code for the shape the rule makes). */
  claudeCodeEnv?: Record<string, string>;
  /** Changes the body in place; returns what it did (one line), or null when it had nothing to do. */
  apply(body: Body, ctx: RuleContext): string | null;
}
