// `flotilla probe --providers`: every provider of a template, side by side — Claude Code's request shapes (which compat
// rules each host needs), one timed streaming request (time to first token, output tokens per second), the price of a
// typical Claude Code turn there, and whether a tool call comes back as valid arguments for its schema. Ranked the way
// the template's route ranks (fastest when it names none).
import { type PriceTable, TYPICAL_TURN, turnSeconds } from '../meter/index.ts';
import { type ProviderConfig, type Template, providerCompat, providerCompatName, providersOf } from '../templates/index.ts';
import { type ProbeReport, runProbe } from './probe.ts';
import { timedRequest } from './timed.ts';

export interface ProviderProbe {
  provider: string;
  baseUrl: string;
  style: string;
  /** The host's id the requests named. */
  model: string;
  ttftMs: number | null;
  tokensPerSec: number | null;
  /** Dollars of a typical Claude Code turn at this provider's price (null: no price). */
  turnUsd: number | null;
  /** Claude Code's shapes: whether the profile makes all pass, and which rules the host needed. */
  shapes: { ok: boolean; needed: string[]; missing: string[] } | null;
  toolCall: { valid: boolean; detail: string } | null;
  /** What the probe cost here (null: unpriced). */
  usd: number | null;
  /** Why this provider could not be probed (unreachable, refused the key …); its figures are then null. */
  error: string | null;
}

export interface ProvidersReport {
  route: 'ordered' | 'fastest' | 'cheapest';
  /** Best first. */
  providers: ProviderProbe[];
}

export interface ProvidersProbeDeps {
  providerKey: (name: string) => string | undefined;
  prices: PriceTable;
  onProvider?: (p: ProviderProbe) => void;
}

async function probeOne(t: Template, p: ProviderConfig, d: ProvidersProbeDeps): Promise<ProviderProbe> {
  const model = p.model ?? t.model;
  const keys = [p.name, p.preset];
  const turn = d.prices.costFor(keys, model, TYPICAL_TURN);
  const out: ProviderProbe = {
    provider: p.name,
    baseUrl: p.baseUrl,
    style: p.style,
    model,
    ttftMs: null,
    tokensPerSec: null,
    turnUsd: turn.priced ? turn.usd : null,
    shapes: null,
    toolCall: null,
    usd: null,
    error: null,
  };
  const key = d.providerKey(p.apiKeyEnv) ?? null;
  if (!key && p.keyRequired !== false) return { ...out, error: `${p.apiKeyEnv} is not set` };
  const target = {
    baseUrl: p.baseUrl,
    style: p.style,
    key,
    model,
    compat: providerCompat(p),
    ...(p.preferences ? { bodyFields: { provider: p.preferences } } : {}),
  };
  const speed = await timedRequest(target, { maxTokens: 256 });
  if (!speed.ok) return { ...out, error: speed.error };
  const tool = await timedRequest(target, { tool: true, maxTokens: 256 });
  let usd = 0;
  let priced = true;
  for (const r of [speed, tool]) {
    if (!r.usage) continue;
    const c = d.prices.costFor(keys, r.model ?? model, r.usage);
    usd += c.usd;
    priced &&= c.priced;
  }
  let shapes: ProbeReport | null = null;
  if (p.style === 'anthropic' || p.style === 'openai') {
    try {
      shapes = await runProbe({
        baseUrl: p.baseUrl,
        style: p.style,
        key: key ?? '',
        model,
        profile: providerCompatName(p),
        ...(p.compatRules ? { rules: p.compatRules } : {}),
        prices: d.prices,
      });
      if (shapes.usd === null) priced = false;
      else usd += shapes.usd;
    } catch (err) {
      return { ...out, error: (err as Error).message };
    }
  }
  return {
    ...out,
    ttftMs: speed.ttftMs,
    tokensPerSec: speed.tokensPerSec,
    shapes: shapes ? { ok: shapes.ok, needed: shapes.rules.needed, missing: shapes.rules.missing } : null,
    toolCall: tool.ok ? tool.toolCall : { valid: false, detail: tool.error ?? 'no answer' },
    usd: priced ? usd : null,
  };
}

/** Probes each provider in turn (one at a time: the figures are not each other's load) and ranks them. */
export async function probeProviders(t: Template, d: ProvidersProbeDeps): Promise<ProvidersReport> {
  const route = t.route ?? 'fastest';
  const results: ProviderProbe[] = [];
  for (const p of providersOf(t)) {
    const r = await probeOne(t, p, d);
    results.push(r);
    d.onProvider?.(r);
  }
  const worst = Number.POSITIVE_INFINITY;
  const seconds = (r: ProviderProbe) =>
    r.ttftMs === null ? worst : turnSeconds({ ttftMs: r.ttftMs, tokensPerSec: r.tokensPerSec ?? 1, samples: 1 });
  const score = (r: ProviderProbe) => (r.error ? worst : route === 'cheapest' ? (r.turnUsd ?? worst) : seconds(r));
  const ranked = route === 'ordered' ? results : [...results].sort((a, b) => score(a) - score(b));
  return { route, providers: ranked };
}

/** The ranked table for a terminal. */
export function providersTable(r: ProvidersReport): string {
  const head = ['#', 'provider', 'TTFT', 'tok/s', '$/turn', 'tool call', 'rules needed', 'probe $'];
  const rows = r.providers.map((p, i) => [
    String(i + 1),
    p.provider,
    p.error ? '—' : `${Math.round(p.ttftMs ?? 0)} ms`,
    p.tokensPerSec === null ? '—' : p.tokensPerSec.toFixed(0),
    p.turnUsd === null ? 'unpriced' : `$${p.turnUsd.toFixed(4)}`,
    p.error ? '—' : p.toolCall?.valid ? 'valid' : 'INVALID',
    p.error
      ? `error: ${p.error}`
      : p.shapes
        ? (p.shapes.needed.join(', ') || 'none') + (p.shapes.missing.length ? ` (missing: ${p.shapes.missing.join(', ')})` : '')
        : '—',
    p.usd === null ? '—' : `$${p.usd.toFixed(4)}`,
  ]);
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((x, c) => x.padEnd(widths[c]!))
      .join('  ')
      .trimEnd();
  return [`ranked by route: ${r.route}`, line(head), ...rows.map(line)].join('\n');
}
