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
import { Limits, PRICE_OVERRIDE_FIELDS, PriceOverride, TIER_IDS, type ErrorIssue, type PriceOverrides } from '../../shared/contract.ts';
import { COMPAT_PROFILES, PriceTable, RULE_IDS } from '../meter/index.ts';
import {
  AGENT_PRESETS,
  DEFAULT_MODEL,
  PROVIDER_PRESETS,
  agentSpec,
  defaultAgentCommand,
  providerSpec,
  type AgentPresetName,
} from './presets.ts';
import {
  PROVIDER_EXPECTED,
  PROVIDER_KEYS,
  ProviderEntrySchema,
  ROUTES,
  type ProviderConfig,
  type Route,
  resolveProvider,
} from './provider-entry.ts';
import { listProblems } from './provider-list.ts';
import type { SandboxSpec, SlotSandbox } from '../sandbox/command.ts';
import { SANDBOX_EXPECTED, SANDBOX_KEYS, SLOT_SANDBOX_KEYS, SandboxSchema, SlotSandboxSchema, resolveSandbox } from './sandbox-schema.ts';

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
  /** The provider (the first of `providers:` when the template gives a list). */
  provider: ProviderConfig;
  /** Every provider when the template gives a list (`providers:`), best first for `route: ordered`; absent: `provider` only. */
  providers?: ProviderConfig[];
  /** How a session picks among `providers` (default ordered); absent for a single provider. */
  route?: Route;
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
  /** The host (flotilla hosts) the run goes to; absent: this machine. Read by clients; a host's engine ignores it. */
  host?: string;
  /** Each session in a container (sandbox/command.ts); absent: sessions run as the user, on the host. */
  sandbox?: SandboxSpec;
  /** Slots' own sandbox (index = slot - 1): fields over `sandbox`, or false (on the host); absent: all as `sandbox`. */
  slotSandboxes?: (SlotSandbox | null)[];
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
  /** settings.json's providers (and route): used by a template that names no provider; its problems say "(override)". */
  defaults?: { providers?: Record<string, unknown>[] | undefined; route?: string | undefined };
}

// ---------------------------------------------------------------------------------------------------------------------
// Schema

const MAX_COUNT = Limits.MaxSessionsPerRun;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

// YAML turns `EXAMPLE: 1` and `- 5` into numbers; for env values and argv that is never what the author meant.
const stringish = z.union([z.string(), z.number(), z.boolean()]).transform(String);
const nonEmpty = z.string().trim().min(1);
const usd = z.number().positive().finite();

const TOP_KEYS = ['name', 'repo', 'base', 'workspace', 'count', 'concurrency', 'agent', 'provider', 'model', 'budget', 'tasks'] as const;
/** The providers list and its route: accepted and suggested for typos like the pricing fields. */
const PROVIDERS_KEYS = ['providers', 'route'] as const;

/**
 * Top-level fields for pricing, accepted and suggested for typos but not listed in "expected one of" (that list is the
 * everyday fields; a test pins it).
 */
const PRICING_KEYS = ['prices', 'referenceModel'] as const;
/** Per-slot fields and worktree setup, accepted like the pricing ones (and not listed among the everyday fields either). */
const SLOT_KEYS = ['slots', 'models', 'setup', 'host', 'sandbox'] as const;

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
  provider: ProviderEntrySchema.optional(),
  providers: z.array(ProviderEntrySchema).min(1).optional(),
  route: z.enum(ROUTES).optional(),
  model: nonEmpty.optional(),
  budget: z.strictObject({ perSessionUsd: usd.optional(), runUsd: usd.optional() }).optional(),
  tasks: z.array(nonEmpty).optional(),
  slots: z
    .array(z.strictObject({ model: nonEmpty.optional(), task: nonEmpty.optional(), sandbox: SlotSandboxSchema.optional() }))
    .optional(),
  models: z.array(nonEmpty).optional(),
  prices: z.record(z.string(), PriceOverride).optional(),
  referenceModel: nonEmpty.optional(),
  setup: z.union([nonEmpty, z.array(nonEmpty).min(1)]).optional(),
  host: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,31}$/)
    .optional(),
  sandbox: SandboxSchema.optional(),
});
type RawTemplate = z.infer<typeof TemplateSchema>;

const SUB_KEYS: Record<string, readonly string[]> = {
  '': TOP_KEYS,
  agent: ['preset', 'command', 'args', 'env'],
  provider: PROVIDER_KEYS,
  'provider.compatRules': ['on', 'off'],
  'provider.limits': ['tier', 'concurrency', 'rpm', 'tpm'],
  'providers.*': PROVIDER_KEYS,
  'providers.*.compatRules': ['on', 'off'],
  'providers.*.limits': ['tier', 'concurrency', 'rpm', 'tpm'],
  'slots.*': ['model', 'task', 'sandbox'],
  'slots.*.sandbox': SLOT_SANDBOX_KEYS,
  budget: ['perSessionUsd', 'runUsd'],
  sandbox: SANDBOX_KEYS,
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
  ...Object.fromEntries(Object.entries(PROVIDER_EXPECTED).map(([k, v]) => [k ? `provider.${k}` : 'provider', v])),
  ...Object.fromEntries(Object.entries(PROVIDER_EXPECTED).map(([k, v]) => [k ? `providers.*.${k}` : 'providers.*', v])),
  'provider.limits.tier': `a Moonshot tier: one of ${TIER_IDS.join(', ')}`,
  'providers.*.limits.tier': `a Moonshot tier: one of ${TIER_IDS.join(', ')}`,
  providers: 'a list of providers serving the same model, e.g. [{preset: cerebras}, {preset: moonshot}]',
  route: `how a session picks a provider: one of ${ROUTES.join(', ')}`,
  slots: 'a list of per-slot settings, e.g. [{model: kimi-k3}, {model: kimi-k2.6, task: "…"}]',
  'slots.*': 'a mapping with model, task and/or sandbox',
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
  host: 'the name of a host added with flotilla hosts add (lower-case letters, digits, dashes)',
  ...SANDBOX_EXPECTED,
};

// ---------------------------------------------------------------------------------------------------------------------
// Problems and where they are

function patternOf(p: PathSeg[]): string {
  // agent.env.<NAME> and prices.<model> are map entries, not fields; tasks[i] a list item: all look up as `*`.
  const isMapKey = (i: number) =>
    (i === 2 && (p[0] === 'agent' || p[0] === 'sandbox') && (p[1] === 'env' || p[1] === 'ulimits')) || (i === 1 && p[0] === 'prices');
  // A provider's preferences are passed through as they are: anything under them is their key.
  const pref = p.indexOf('preferences');
  if (pref >= 0) p = p.slice(0, pref + 1);
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
        const hint = closest(key, pattern === '' ? [...allowed, ...PRICING_KEYS, ...SLOT_KEYS, ...PROVIDERS_KEYS] : allowed);
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
    } else if (pattern === 'provider.compat' || pattern === 'providers.*.compat') {
      const hint = typeof value === 'string' ? closest(value, COMPAT_PROFILES) : null;
      out.push({
        path: p,
        text: `unknown compat profile ${show(value)}${hint ? ` — did you mean '${hint}'?` : ''} — expected ${expected}`,
      });
    } else if (/^providers?(\.\*)?\.compatRules\.(on|off)\.\*$/.test(pattern)) {
      const hint = typeof value === 'string' ? closest(value, RULE_IDS) : null;
      out.push({ path: p, text: `unknown compat rule ${show(value)}${hint ? ` — did you mean '${hint}'?` : ''} — expected ${expected}` });
    } else if (pattern === 'agent.preset' || pattern === 'provider.preset' || pattern === 'providers.*.preset') {
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
  const own = isPlainObject(parsed) ? parsed : {};
  if (opts.defaults?.providers && own.provider === undefined && own.providers === undefined && overrides.provider === undefined) {
    overrides.providers ??= opts.defaults.providers;
    if (own.route === undefined && opts.defaults.route !== undefined) overrides.route ??= opts.defaults.route;
  }
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

  const resolved = resolve(raw, {
    cwd,
    absFile,
    overrides,
    knownPrices: opts.knownPrices ?? PriceTable.shipped(),
    lineOf: (p) => (fromOverrides(overrides, p) ? null : lineOf(doc, lc, p)),
  });
  if ('problems' in resolved) return fail(resolved.problems);
  return resolved.template;
}

function resolve(
  raw: RawTemplate,
  ctx: {
    cwd: string;
    absFile: string | null;
    overrides: Record<string, unknown>;
    knownPrices: PriceTable;
    lineOf: (p: PathSeg[]) => number | null;
  },
): { template: Template } | { problems: Problem[] } {
  const problems: Problem[] = [];
  const agentPreset = raw.agent?.preset ?? 'claude-code';
  const agent = agentSpec(agentPreset);
  const listed = raw.providers;
  if (raw.provider !== undefined && listed !== undefined) {
    problems.push({
      path: ['providers'],
      text: 'give either provider: (one) or providers: (a list), not both — move provider into the list',
    });
  }
  const firstPreset = (listed?.[0] ?? raw.provider)?.preset ?? agent.defaultProvider;
  const model = raw.model ?? (listed ? DEFAULT_MODEL : providerSpec(firstPreset).defaultModel);
  const providers: ProviderConfig[] = [];
  for (const [i, entry] of (listed ?? [raw.provider ?? {}]).entries()) {
    const at: PathSeg[] = listed ? ['providers', i] : ['provider'];
    const r = resolveProvider(entry, { agentPreset, at, model, inList: !!listed, knownPrices: ctx.knownPrices });
    if ('problems' in r) problems.push(...r.problems);
    else providers.push({ ...r.provider, ...(listed ? { line: ctx.lineOf(at) } : {}) });
  }
  if (listed) problems.push(...listProblems(providers, raw.route ?? 'ordered', model, raw, ctx.knownPrices));
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
  problems.push(...priceProblems(raw, ctx.knownPrices));
  const sandboxes = resolveSandbox(raw.sandbox, slots, problems);
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
      provider: providers[0]!,
      ...(listed ? { providers, route: raw.route ?? 'ordered' } : {}),
      model,
      ...(perSlot.some((m) => m !== null) ? { models: perSlot } : {}),
      budget: { perSessionUsd: raw.budget?.perSessionUsd ?? null, runUsd: raw.budget?.runUsd ?? null },
      tasks: Array.from(tasks, (t) => t ?? ''),
      ...(raw.prices && Object.keys(raw.prices).length > 0 ? { prices: raw.prices } : {}),
      ...(raw.referenceModel !== undefined ? { referenceModel: raw.referenceModel } : {}),
      ...(raw.setup !== undefined ? { setup: typeof raw.setup === 'string' ? [raw.setup] : raw.setup } : {}),
      ...(raw.host !== undefined ? { host: raw.host } : {}),
      ...sandboxes,
    },
  };
}
