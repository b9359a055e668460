// `flotilla probe`: sends Claude Code's request shapes to the real provider — each as Claude Code sends it, and as the
// compatibility profile rewrites it — and reports which the provider accepts, which rules that takes, what it cost,
// and whether the profile is enough. How a user with a real key checks their provider before launching ten sessions.
import {
  RULES,
  anthropicToChat,
  compatProfile,
  createResponseParser,
  ruleById,
  ruleForRejection,
  type CompatProfile,
  type PriceTable,
  type RuleTweak,
} from '../meter/index.ts';
import { EngineError } from '../errors.ts';
import { CLAUDE_CODE_VERSION } from './claude-code-shape.ts';
import { probeShapes } from './shapes.ts';

export interface ProbeTarget {
  /** The base URL of `style`'s API, e.g. https://api.moonshot.ai/anthropic. */
  baseUrl: string;
  /**
   * The host's API (default anthropic). On an OpenAI Chat host each shape is translated as the meter translates Claude
   * Code's requests, and the profile's rules are those for Chat bodies.
   */
  style?: 'anthropic' | 'openai';
  key: string;
  model: string;
  /** The profile to check (a template's, or --compat). */
  profile: string;
  /** Rules on and off on top of it (a template's provider.compatRules, or --rules-on / --rules-off). */
  rules?: RuleTweak;
  prices: PriceTable;
}

export interface Attempt {
  status: number;
  accepted: boolean;
  /** The provider's error message, when it refused. */
  message: string | null;
  /** The rules that rewrote the body for this attempt. */
  rules: string[];
}

export interface ShapeReport {
  shape: string;
  description: string;
  asSent: Attempt;
  /** The attempt through the profile; null when no rule of the profile touches this shape (same as asSent). */
  withProfile: Attempt | null;
  /** When the profile was not enough: the rules added one by one, each the known fix for the last refusal. */
  extra: (Attempt & { rule: string })[];
  verdict: 'accepted' | 'needs the profile' | 'needs more rules' | 'refused';
}

export interface ProbeReport {
  provider: { baseUrl: string; model: string; profile: string };
  claudeCode: string;
  shapes: ShapeReport[];
  requests: number;
  /** What the probe cost at the model's price (null: the model has no price). */
  usd: number | null;
  rules: {
    /** Rules of the profile this provider needs (a shape fails without, passes with). */
    needed: string[];
    /** Rules of the profile no shape needed here. */
    notNeeded: string[];
    /** Rules outside the profile that a shape needed: add them (another profile). */
    missing: string[];
  };
  /** True when the profile makes every shape pass. */
  ok: boolean;
}

const TIMEOUT_MS = 60_000;

interface Sent {
  attempt: Omit<Attempt, 'rules'>;
  usd: number;
  priced: boolean;
}

async function send(t: ProbeTarget, body: Record<string, unknown>): Promise<Sent> {
  const chat = t.style === 'openai';
  const url = `${t.baseUrl.replace(/\/+$/, '')}${chat ? '/chat/completions' : '/v1/messages?beta=true'}`;
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${t.key}`,
        'content-type': 'application/json',
        'anthropic-version': '2023-06-01',
        'anthropic-beta': 'claude-code-20250219',
      },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (err) {
    throw new EngineError('upstream', `cannot reach ${url} (${(err as Error).message}) — check the provider's base URL and your network`);
  }
  const parser = createResponseParser(chat ? 'openai' : 'anthropic', {
    status: res.status,
    contentType: res.headers.get('content-type') ?? undefined,
  });
  parser.push(new Uint8Array(await res.arrayBuffer()));
  const r = parser.end();
  const accepted = res.status < 400 && !r.error;
  if (res.status === 401 || res.status === 403)
    throw new EngineError(
      'bad_key',
      `${url} refused the key (${res.status}: ${r.error?.message ?? 'unauthorized'}) — check the key variable`,
    );
  const cost = r.usage ? t.prices.cost(r.model ?? t.model, r.usage) : { usd: 0, priced: t.prices.get(t.model) !== null };
  return {
    attempt: { status: res.status, accepted, message: accepted ? null : (r.error?.message ?? `HTTP ${res.status}`) },
    usd: cost.usd,
    priced: cost.priced,
  };
}

/** The shape as the host gets it: as Claude Code sends it, or translated for a Chat host (as the meter does). */
function onWire(t: ProbeTarget, body: Record<string, any>): Record<string, any> {
  const copy = JSON.parse(JSON.stringify(body)) as Record<string, any>;
  return t.style === 'openai' ? (anthropicToChat(copy, { model: t.model }).body as Record<string, any>) : copy;
}

/** The body through these rules (a profile, plus extra rules by id); the ids that fired. */
function rewrite(
  t: ProbeTarget,
  body: Record<string, any>,
  profile: CompatProfile,
  extra: string[] = [],
): { body: Record<string, any>; rules: string[] } {
  const style = t.style ?? 'anthropic';
  const copy = onWire(t, body);
  const fired = profile
    .apply(copy, style, String(copy.model))
    .filter((f) => !f.note.startsWith('failed:'))
    .map((f) => f.rule);
  for (const id of extra) {
    const rule = RULES.find((r) => r.id === id)!;
    if (rule.apply(copy, { style, model: String(copy.model), options: profile.spec.options }) !== null) fired.push(id);
  }
  return { body: copy, rules: fired };
}

export async function runProbe(t: ProbeTarget, onShape?: (r: ShapeReport) => void): Promise<ProbeReport> {
  const profile = compatProfile(t.profile, t.rules);
  let usd = 0;
  let priced = true;
  let requests = 0;
  const attempt = async (body: Record<string, unknown>, rules: string[]): Promise<Attempt> => {
    const s = await send(t, body);
    requests++;
    usd += s.usd;
    priced &&= s.priced;
    return { ...s.attempt, rules };
  };

  const shapes: ShapeReport[] = [];
  for (const shape of probeShapes(t.model)) {
    const asSent = await attempt(onWire(t, shape.body), []);
    const profiled = rewrite(t, shape.body, profile);
    const withProfile = profiled.rules.length ? await attempt(profiled.body, profiled.rules) : null;
    // Not enough: follow the provider's words — add the rule that is the known fix for each refusal, one at a time.
    const extra: ShapeReport['extra'] = [];
    let last = withProfile ?? asSent;
    const added: string[] = [];
    while (!last.accepted) {
      const fix = ruleForRejection(last.message ?? '');
      if (!fix || profile.spec.rules.includes(fix.id) || added.includes(fix.id)) break;
      added.push(fix.id);
      const more = rewrite(t, shape.body, profile, added);
      last = await attempt(more.body, more.rules);
      extra.push({ rule: fix.id, ...last });
    }
    const verdict: ShapeReport['verdict'] = asSent.accepted
      ? 'accepted'
      : withProfile?.accepted
        ? 'needs the profile'
        : extra.at(-1)?.accepted
          ? 'needs more rules'
          : 'refused';
    const report: ShapeReport = { shape: shape.id, description: shape.description, asSent, withProfile, extra, verdict };
    shapes.push(report);
    onShape?.(report);
  }

  const needed = new Set<string>();
  const missing = new Set<string>();
  for (const s of shapes) {
    // A cost rule (one cache prefix) fires on Claude Code's shapes too, but no refusal needs it.
    if (s.verdict === 'needs the profile') for (const r of s.withProfile!.rules) if (!ruleById(r)?.cost) needed.add(r);
    if (s.verdict === 'needs more rules') for (const x of s.extra) missing.add(x.rule);
  }
  return {
    provider: { baseUrl: t.baseUrl, model: t.model, profile: profile.name },
    claudeCode: CLAUDE_CODE_VERSION,
    shapes,
    requests,
    usd: priced ? usd : null,
    // Rules for the other wire style (K2's Chat-host rules on an Anthropic host, and the reverse) cannot fire: not listed.
    rules: {
      needed: [...needed],
      notNeeded: profile.rules.filter((r) => !r.cost && r.styles.includes(t.style ?? 'anthropic') && !needed.has(r.id)).map((r) => r.id),
      missing: [...missing],
    },
    ok: shapes.every((s) => s.verdict === 'accepted' || s.verdict === 'needs the profile'),
  };
}
