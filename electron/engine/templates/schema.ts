// Template parsing and validation. Every problem is reported as `<file>:<line>: <field>: <what is expected>`, the line
// taken from the YAML node the problem is about, so a user can jump straight to it.
import path from 'node:path';
import { z } from 'zod';
import { LineCounter, parseDocument } from 'yaml';
import { priceProblems } from './price-checks.ts';
import {
  type PathSeg,
  type Problem,
  closest,
  deepMerge,
  dropNulls,
  fieldName,
  fromOverrides,
  getAt,
  isPlainObject,
  lineOf,
  show,
} from './doc.ts';
import {
  Limits,
  PRICE_OVERRIDE_FIELDS,
  PriceOverride,
  ProviderLimits,
  TIER_IDS,
  type ErrorIssue,
  type PriceOverrides,
} from '../../shared/contract.ts';
import { COMPAT_PROFILES, PriceTable, RULE_IDS } from '../meter/index.ts';
import {
  AGENT_PRESETS,
  API_STYLES,
  PROVIDER_PRESETS,
  agentSpec,
  defaultAgentCommand,
  providerSpec,
  type AgentPresetName,
  type ApiStyle,
  type ProviderPresetName,
} from './presets.ts';

export class TemplateError extends Error {
  readonly code = 'template_invalid';
  readonly file: string;
  readonly line: number | null;
  readonly field: string | null;
  /** Every problem, in file order (the message has one line per problem). */
  readonly issues: ErrorIssue[];
  constructor(message: string, where: { file: string; line?: number | null; field?: string | null; issues?: ErrorIssue[] }) {
    super(message);
    this.name = 'TemplateError';
    this.file = where.file;
    this.line = where.line ?? null;
    this.field = where.field ?? null;
    this.issues = where.issues ?? [{ field: this.field, line: this.line, message }];
  }
}

export interface Template {
  name: string;
  /** Absolute path of the template file; null for template text that came from no file. */
  file: string | null;
  /** Absolute path of the git repository. */
  repo: string;
  base: string;
  workspace: 'worktree' | 'shared';
  count: number;
  concurrency: number;
  agent: {
    preset: AgentPresetName;
    /** The template's override, else the preset's program. */
    command: string;
    /** The template's override (placeholders not yet rendered), or null for the preset's defaults. */
    args: string[] | null;
    env: Record<string, string>;
  };
  provider: {
    preset: string;
    baseUrl: string;
    style: ApiStyle;
    apiKeyEnv: string;
    /** The compatibility profile the template names (meter/compat); absent: the preset's default (see compatOf). */
    compat?: string;
    /** Rules turned on or off on top of that profile. */
    compatRules?: { on: string[]; off: string[] };
    /** The account's rate limits for the governor (a Moonshot tier and/or numbers); absent: settings', else none. */
    limits?: ProviderLimits;
  };
  model: string;
  /** Per-slot models (index slot − 1) where the template gives some; a slot without one runs `model`. */
  models?: (string | null)[];
  budget: { perSessionUsd: number | null; runUsd: number | null };
  tasks: string[];
  /**
   * Price overrides by model id (the shape of settings.json `prices:`), applied over shipped ← settings prices.
   * Absent when the template has none: read it as `t.prices ?? {}` (templates stored by older builds lack it too).
   */
  prices?: PriceOverrides;
  /** The model savings are measured against; absent when the template names none (settings or the default decide). */
  referenceModel?: string | null;
  /** Shell commands run in each worktree, in order, before its agent first starts (`setup:`); absent: none. */
  setup?: string[];
}

export interface TemplateOptions {
  /** Directory relative paths given outside the file (opts.repo, overrides.repo) resolve against; default process.cwd(). */
  cwd?: string;
  /** Repository to run in; wins over the file's `repo:` (an explicit choice at launch beats the template's default). */
  repo?: string;
  /** Number of sessions; wins over the file's `count:` and overrides.count. */
  count?: number;
  /** Merged over the parsed YAML (objects deeply, arrays and scalars replaced) before validation. */
  overrides?: Record<string, unknown>;
  /**
   * The prices `prices:` and `referenceModel:` are checked against (a model missing here needs inputUsd and outputUsd;
   * the reference model must have a price). Default: the shipped table; the engine passes shipped ← settings.json.
   */
  knownPrices?: PriceTable;
}

// ---------------------------------------------------------------------------------------------------------------------
// Schema

const MAX_COUNT = Limits.MaxSessionsPerRun;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

// YAML turns `EXAMPLE: 1` and `- 5` into numbers; for env values and argv that is never what the author meant.
const stringish = z.union([z.string(), z.number(), z.boolean()]).transform(String);
const nonEmpty = z.string().trim().min(1);
const usd = z.number().positive().finite();

const TOP_KEYS = ['name', 'repo', 'base', 'workspace', 'count', 'concurrency', 'agent', 'provider', 'model', 'budget', 'tasks'] as const;

/**
 * Top-level fields for pricing, accepted and suggested for typos but not listed in "expected one of" (that list is the
 * everyday fields; a test pins it).
 */
const PRICING_KEYS = ['prices', 'referenceModel'] as const;
/** Per-slot fields and worktree setup, accepted like the pricing ones (and not listed among the everyday fields either). */
const SLOT_KEYS = ['slots', 'models', 'setup'] as const;

export const TemplateSchema = z.strictObject({
  name: nonEmpty,
  repo: nonEmpty.optional(),
  base: nonEmpty.optional(),
  workspace: z.enum(['worktree', 'shared']).optional(),
  count: z.number().int().min(1).max(MAX_COUNT).optional(),
  concurrency: z.number().int().min(1).optional(),
  agent: z
    .strictObject({
      preset: z.enum(AGENT_PRESETS as [AgentPresetName, ...AgentPresetName[]]).optional(),
      command: nonEmpty.optional(),
      args: z.array(stringish).optional(),
      env: z.record(z.string().regex(ENV_NAME), stringish).optional(),
    })
    .optional(),
  provider: z
    .strictObject({
      preset: z.enum(PROVIDER_PRESETS as [ProviderPresetName, ...ProviderPresetName[]]).optional(),
      baseUrl: z.string().trim().refine(isHttpUrl).optional(),
      style: z.enum(API_STYLES as [ApiStyle, ...ApiStyle[]]).optional(),
      apiKeyEnv: z.string().regex(ENV_NAME).optional(),
      compat: z.enum(COMPAT_PROFILES as [string, ...string[]]).optional(),
      compatRules: z
        .strictObject({
          on: z.array(z.enum(RULE_IDS as [string, ...string[]])).optional(),
          off: z.array(z.enum(RULE_IDS as [string, ...string[]])).optional(),
        })
        .optional(),
      limits: ProviderLimits.optional(),
    })
    .optional(),
  model: nonEmpty.optional(),
  budget: z.strictObject({ perSessionUsd: usd.optional(), runUsd: usd.optional() }).optional(),
  tasks: z.array(nonEmpty).optional(),
  slots: z.array(z.strictObject({ model: nonEmpty.optional(), task: nonEmpty.optional() })).optional(),
  models: z.array(nonEmpty).optional(),
  prices: z.record(z.string(), PriceOverride).optional(),
  referenceModel: nonEmpty.optional(),
  setup: z.union([nonEmpty, z.array(nonEmpty).min(1)]).optional(),
});
type RawTemplate = z.infer<typeof TemplateSchema>;

const SUB_KEYS: Record<string, readonly string[]> = {
  '': TOP_KEYS,
  agent: ['preset', 'command', 'args', 'env'],
  provider: ['preset', 'baseUrl', 'style', 'apiKeyEnv', 'compat', 'compatRules', 'limits'],
  'provider.compatRules': ['on', 'off'],
  'provider.limits': ['tier', 'concurrency', 'rpm', 'tpm'],
  'slots.*': ['model', 'task'],
  budget: ['perSessionUsd', 'runUsd'],
  'prices.*': PRICE_OVERRIDE_FIELDS,
};

/** What each field must be, keyed by its path with list indices and map keys replaced by `*`. */
export const EXPECTED: Record<string, string> = {
  name: 'a non-empty string (the run name)',
  repo: 'a path to a git repository, relative to the template file',
  base: 'a git ref, e.g. HEAD or main',
  workspace: 'one of worktree, shared',
  count: `an integer from 1 to ${MAX_COUNT}`,
  concurrency: 'an integer of at least 1',
  agent: 'a mapping with preset, command, args, env',
  'agent.preset': `one of ${AGENT_PRESETS.join(', ')}`,
  'agent.command': 'a non-empty string (the program to run)',
  'agent.args': 'a list of strings',
  'agent.args.*': 'a string',
  'agent.env': 'a mapping of VARIABLE: "value"',
  'agent.env.*': 'a string',
  provider: 'a mapping with preset, baseUrl, style, apiKeyEnv',
  'provider.preset': `one of ${PROVIDER_PRESETS.join(', ')}`,
  'provider.baseUrl': 'an http(s) URL, e.g. https://api.moonshot.ai/anthropic',
  'provider.style': `one of ${API_STYLES.join(', ')}`,
  'provider.apiKeyEnv': 'an environment variable name, e.g. MOONSHOT_API_KEY',
  'provider.compat': `one of ${COMPAT_PROFILES.join(', ')}`,
  'provider.compatRules': 'a mapping with on and/or off, each a list of rule ids',
  'provider.compatRules.on': 'a list of rule ids',
  'provider.compatRules.off': 'a list of rule ids',
  'provider.compatRules.on.*': `one of ${RULE_IDS.join(', ')}`,
  'provider.compatRules.off.*': `one of ${RULE_IDS.join(', ')}`,
  'provider.limits': 'a mapping with tier and/or concurrency, rpm, tpm',
  'provider.limits.tier': `a Moonshot tier: one of ${TIER_IDS.join(', ')}`,
  'provider.limits.concurrency': 'a whole number of requests in flight, at least 1',
  'provider.limits.rpm': 'a whole number of requests per minute, at least 1',
  'provider.limits.tpm': 'a whole number of tokens per minute, at least 1',
  slots: 'a list of per-slot settings, e.g. [{model: kimi-k3}, {model: kimi-k2.6, task: "…"}]',
  'slots.*': 'a mapping with model and/or task',
  'slots.*.model': 'a non-empty model id, e.g. kimi-k3',
  'slots.*.task': 'a non-empty task prompt',
  models: 'a list of model ids, one per slot (beside tasks)',
  'models.*': 'a non-empty model id',
  model: 'a non-empty model id, e.g. kimi-k2.6',
  budget: 'a mapping with perSessionUsd and/or runUsd',
  'budget.perSessionUsd': 'a positive number of US dollars',
  'budget.runUsd': 'a positive number of US dollars',
  tasks: 'a list of task prompts (strings)',
  'tasks.*': 'a non-empty string',
  prices: 'a mapping of model id: { inputUsd, cacheReadUsd, cacheWriteUsd, outputUsd, contextWindow }',
  'prices.*': `a mapping with ${PRICE_OVERRIDE_FIELDS.join(', ')}`,
  'prices.*.inputUsd': 'a number of US dollars per million tokens, 0 or more',
  'prices.*.cacheReadUsd': 'a number of US dollars per million tokens, 0 or more',
  'prices.*.cacheWriteUsd': 'a number of US dollars per million tokens, 0 or more',
  'prices.*.outputUsd': 'a number of US dollars per million tokens, 0 or more',
  'prices.*.contextWindow': 'a positive whole number of tokens',
  referenceModel: 'a non-empty model id with a price, e.g. claude-sonnet-4-5',
  setup: 'a shell command, or a list of them, run in each worktree before its agent starts (e.g. npm ci)',
  'setup.*': 'a non-empty shell command',
};

// ---------------------------------------------------------------------------------------------------------------------
// Problems and where they are

function patternOf(p: PathSeg[]): string {
  // agent.env.<NAME> and prices.<model> are map entries, not fields; tasks[i] a list item: all look up as `*`.
  const isMapKey = (i: number) => (i === 2 && p[0] === 'agent' && p[1] === 'env') || (i === 1 && p[0] === 'prices');
  return p.map((seg, i) => (typeof seg === 'number' || isMapKey(i) ? '*' : seg)).join('.');
}

function problemsFromZod(issues: z.core.$ZodIssue[], raw: unknown): Problem[] {
  const out: Problem[] = [];
  for (const issue of issues) {
    const p = issue.path.filter((s): s is PathSeg => typeof s !== 'symbol');
    if (issue.code === 'unrecognized_keys') {
      const pattern = patternOf(p);
      const allowed = SUB_KEYS[pattern] ?? [];
      for (const key of issue.keys) {
        const hint = closest(key, pattern === '' ? [...allowed, ...PRICING_KEYS, ...SLOT_KEYS] : allowed);
        out.push({
          path: [...p, key],
          text: `unknown field '${key}'${hint ? ` — did you mean '${hint}'?` : ''} — expected one of ${allowed.join(', ')}`,
        });
      }
      continue;
    }
    if (issue.code === 'invalid_key') {
      const key = String(p[p.length - 1]);
      out.push({
        path: p,
        text: `'${key}' is not an environment variable name — use letters, digits and _, not starting with a digit`,
      });
      continue;
    }
    const pattern = patternOf(p);
    const expected = EXPECTED[pattern] ?? 'a valid value';
    const value = getAt(raw, p);
    if (value === undefined) {
      out.push({ path: p, text: `required — expected ${expected}` });
    } else if (pattern === 'provider.compat') {
      const hint = typeof value === 'string' ? closest(value, COMPAT_PROFILES) : null;
      out.push({
        path: p,
        text: `unknown compat profile ${show(value)}${hint ? ` — did you mean '${hint}'?` : ''} — expected ${expected}`,
      });
    } else if (pattern === 'provider.compatRules.on.*' || pattern === 'provider.compatRules.off.*') {
      const hint = typeof value === 'string' ? closest(value, RULE_IDS) : null;
      out.push({ path: p, text: `unknown compat rule ${show(value)}${hint ? ` — did you mean '${hint}'?` : ''} — expected ${expected}` });
    } else if (pattern === 'agent.preset' || pattern === 'provider.preset') {
      const kind = pattern === 'agent.preset' ? 'agent' : 'provider';
      const choices = kind === 'agent' ? AGENT_PRESETS : PROVIDER_PRESETS;
      const hint = typeof value === 'string' ? closest(value, choices) : null;
      out.push({
        path: p,
        text: `unknown ${kind} preset ${show(value)}${hint ? ` — did you mean '${hint}'?` : ''} — expected ${expected}`,
      });
    } else {
      out.push({ path: p, text: `must be ${expected} (got ${show(value)})` });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------------
// parseTemplate

/**
 * Parses and validates template YAML. `file` names the template in messages and anchors a relative `repo:`; pass ''
 * for text that has no file (it then anchors at opts.cwd and Template.file is null).
 */
export function parseTemplate(text: string, file: string, opts: TemplateOptions = {}): Template {
  const cwd = path.resolve(opts.cwd ?? process.cwd());
  const label = file || '<template>';
  const absFile = file ? path.resolve(cwd, file) : null;

  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const syntax = doc.errors[0];
  if (syntax) {
    const line = lc.linePos(syntax.pos[0]).line;
    const more = doc.errors.length > 1 ? ` (and ${doc.errors.length - 1} more YAML error(s) after it)` : '';
    throw new TemplateError(`${label}:${line}: YAML syntax error: ${syntax.message}${more}`, { file: label, line });
  }

  const parsed: unknown = doc.toJS({ maxAliasCount: 1000 });
  const overrides: Record<string, unknown> = { ...(opts.overrides ?? {}) };
  if (opts.count !== undefined) overrides.count = opts.count;
  if (opts.repo !== undefined) overrides.repo = opts.repo;

  if (parsed !== null && parsed !== undefined && !isPlainObject(parsed)) {
    throw new TemplateError(`${label}:1: a template is a YAML mapping of fields (${TOP_KEYS.join(', ')}), not ${show(parsed)}`, {
      file: label,
      line: 1,
    });
  }
  const merged = dropNulls(deepMerge(isPlainObject(parsed) ? parsed : {}, overrides));

  const fail = (problems: Problem[]): never => {
    const located = problems.map((pr) => {
      const over = fromOverrides(overrides, pr.path);
      return { ...pr, over, line: over ? null : lineOf(doc, lc, pr.path) };
    });
    // Each problem on its own line, in file order, so the first one read is the first one to fix.
    located.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
    const lines = located.map((pr) => {
      const where = pr.line === null ? label : `${label}:${pr.line}`;
      const field = fieldName(pr.path) + (pr.over ? ' (override)' : '');
      return `${where}: ${field}: ${pr.text}`;
    });
    const first = located[0]!;
    const issues = located.map((pr, i) => ({ field: fieldName(pr.path), line: pr.line, message: lines[i]! }));
    throw new TemplateError(lines.join('\n'), { file: label, line: first.line, field: fieldName(first.path), issues });
  };

  const result = TemplateSchema.safeParse(merged);
  if (!result.success) return fail(problemsFromZod(result.error.issues, merged));
  const raw = result.data;

  const resolved = resolve(raw, { cwd, absFile, overrides, knownPrices: opts.knownPrices ?? PriceTable.shipped() });
  if ('problems' in resolved) return fail(resolved.problems);
  return resolved.template;
}

function resolve(
  raw: RawTemplate,
  ctx: { cwd: string; absFile: string | null; overrides: Record<string, unknown>; knownPrices: PriceTable },
): { template: Template } | { problems: Problem[] } {
  const problems: Problem[] = [];
  const agentPreset = raw.agent?.preset ?? 'claude-code';
  const agent = agentSpec(agentPreset);
  const providerPreset = raw.provider?.preset ?? agent.defaultProvider;
  const provider = providerSpec(providerPreset);

  const baseUrl = raw.provider?.baseUrl ?? provider.baseUrl;
  if (baseUrl === null) {
    problems.push({
      path: ['provider', 'baseUrl'],
      text: `required when provider.preset is ${providerPreset} — the API base URL, e.g. https://my-gateway.example/v1`,
    });
  }

  // An openai-style host usually serves the Responses API too, which is the only one Codex speaks.
  const style: ApiStyle =
    raw.provider?.style ??
    (providerPreset === 'custom'
      ? (agent.styles?.[0] ?? provider.style)
      : provider.style === 'openai' && agent.styles?.includes('responses')
        ? 'responses'
        : provider.style);
  // An Anthropic-speaking agent (Claude Code) on an OpenAI Chat host is translated by the meter (meter/translate).
  if (agent.styles && !agent.styles.includes(style) && !(agent.styles.includes('anthropic') && style === 'openai')) {
    const fix = agent.styles.includes('anthropic') ? 'moonshot' : 'moonshot-openai';
    const at: PathSeg[] = raw.provider?.style ? ['provider', 'style'] : raw.provider?.preset ? ['provider', 'preset'] : ['agent', 'preset'];
    problems.push({
      path: at,
      text:
        `agent ${agentPreset} speaks the ${agent.styles.join('/')} API but provider ${providerPreset} is ${style}-style` +
        ` — use provider.preset: ${fix}, or set provider.style to ${agent.styles[0]} if the endpoint serves it`,
    });
  }

  // A slot's own task (slots[i].task) wins over tasks[i]; slots and models give per-slot models.
  const slots = raw.slots ?? [];
  const tasks = [...(raw.tasks ?? [])];
  slots.forEach((sl, i) => {
    if (sl.task !== undefined) tasks[i] = sl.task;
  });
  if (raw.slots !== undefined && raw.models !== undefined) {
    problems.push({ path: ['models'], text: 'give per-slot models either as slots: [{model: …}] or as models: [...], not both' });
  }
  const perSlot = raw.models ?? slots.map((sl) => sl.model ?? null);
  const longest = Math.max(tasks.length, perSlot.length);
  if (raw.count === undefined && longest > MAX_COUNT) {
    problems.push({
      path: [tasks.length >= perSlot.length ? 'tasks' : raw.models ? 'models' : 'slots'],
      text: `${longest} slots but a run has at most ${MAX_COUNT} sessions — split the list over several runs, or set count to use only the first ones`,
    });
  }
  const count = raw.count ?? Math.max(1, Math.min(longest, MAX_COUNT));

  // In print mode every slot needs a prompt, or that session exits at once with an error.
  if (agent.batch && raw.agent?.args === undefined && count > tasks.length) {
    const missing = count - tasks.length === 1 ? `slot ${count} has` : `slots ${tasks.length + 1}-${count} have`;
    problems.push({
      path: ['agent', 'preset'],
      text:
        `${agentPreset} runs each slot's task once (${agent.batch}), but ${missing} no task (count ${count}, ${tasks.length} task(s))` +
        ' — add tasks, lower count, or give agent.args with a fixed prompt',
    });
  }
  const tweak = raw.provider?.compatRules;
  const both = tweak?.on?.find((id) => tweak.off?.includes(id));
  if (both) problems.push({ path: ['provider', 'compatRules', 'off'], text: `rule '${both}' is both on and off — keep it in one list` });
  problems.push(...priceProblems(raw, ctx.knownPrices));
  if (problems.length > 0) return { problems };

  // A repo written in the file is relative to the file; one given at launch is relative to where it was given.
  const repoFromFile = raw.repo !== undefined && !fromOverrides(ctx.overrides, ['repo']) && ctx.absFile !== null;
  const repo = raw.repo === undefined ? ctx.cwd : path.resolve(repoFromFile ? path.dirname(ctx.absFile!) : ctx.cwd, raw.repo);

  return {
    template: {
      name: raw.name,
      file: ctx.absFile,
      repo,
      base: raw.base ?? 'HEAD',
      workspace: raw.workspace ?? 'worktree',
      count,
      concurrency: Math.min(raw.concurrency ?? count, count),
      agent: {
        preset: agentPreset,
        command: raw.agent?.command ?? defaultAgentCommand(agentPreset),
        args: raw.agent?.args ?? null,
        env: raw.agent?.env ?? {},
      },
      provider: {
        preset: providerPreset,
        baseUrl: baseUrl!.replace(/\/+$/, ''),
        style,
        apiKeyEnv: raw.provider?.apiKeyEnv ?? provider.apiKeyEnv,
        ...(raw.provider?.compat !== undefined ? { compat: raw.provider.compat } : {}),
        ...(raw.provider?.compatRules !== undefined
          ? { compatRules: { on: raw.provider.compatRules.on ?? [], off: raw.provider.compatRules.off ?? [] } }
          : {}),
        ...(raw.provider?.limits !== undefined ? { limits: raw.provider.limits } : {}),
      },
      model: raw.model ?? provider.defaultModel,
      ...(perSlot.some((m) => m !== null) ? { models: perSlot } : {}),
      budget: { perSessionUsd: raw.budget?.perSessionUsd ?? null, runUsd: raw.budget?.runUsd ?? null },
      tasks: Array.from(tasks, (t) => t ?? ''),
      ...(raw.prices && Object.keys(raw.prices).length > 0 ? { prices: raw.prices } : {}),
      ...(raw.referenceModel !== undefined ? { referenceModel: raw.referenceModel } : {}),
      ...(raw.setup !== undefined ? { setup: typeof raw.setup === 'string' ? [raw.setup] : raw.setup } : {}),
    },
  };
}
