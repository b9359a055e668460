// Providers as a list, in plain functions: the template's `providers:` resolved against the presets (surfaces, model
// ids, names, errors), prices by provider, the router's order (ordered, fastest, cheapest, sticky, cool-downs, the
// governor's pauses), and the per-provider table from ledger rows.
import { describe, expect, it } from 'vitest';
import { PriceTable, ProviderRouter, type RoutedProvider } from '../../electron/engine/meter/index.ts';
import { TemplateError, hostModelId, parseTemplate } from '../../electron/engine/templates/index.ts';
import { providerTable } from '../../electron/shared/provider-table.ts';
import { type LedgerRow, Settings } from '../../electron/shared/contract.ts';

const parse = (body: string) => parseTemplate(`name: x\n${body}`, 'p.yaml');
const error = (body: string): string => {
  try {
    parse(body);
  } catch (e) {
    if (e instanceof TemplateError) return e.message;
    throw e;
  }
  throw new Error('parsed');
};

describe('providers: in a template', () => {
  it('resolves each entry to the surface its agent speaks, maps the model to each host id, and names them uniquely', () => {
    const t = parse(
      'providers:\n  - { preset: groq }\n  - { preset: openrouter }\n  - { preset: openrouter }\n  - { preset: vllm }\nmodel: kimi-k2-instruct-0905\n',
    );
    expect(t.route).toBe('ordered');
    expect(t.providers!.map((p) => [p.name, p.style, p.baseUrl, p.model ?? null])).toEqual([
      ['groq', 'openai', 'https://api.groq.com/openai/v1', 'moonshotai/kimi-k2-instruct-0905'],
      ['openrouter', 'anthropic', 'https://openrouter.ai/api', 'moonshotai/kimi-k2-instruct-0905'],
      ['openrouter-2', 'anthropic', 'https://openrouter.ai/api', 'moonshotai/kimi-k2-instruct-0905'],
      ['vllm', 'anthropic', 'http://127.0.0.1:8000', null],
    ]);
    expect(t.provider).toEqual(t.providers![0]);
    expect(t.providers![3]!.keyRequired).toBe(false);
    expect(t.providers!.map((p) => p.line)).toEqual([3, 4, 5, 6]);
    // An OpenAI-speaking agent goes to the hosts' OpenAI surfaces.
    const oc = parse(
      'agent: { preset: opencode }\nproviders:\n  - { preset: moonshot }\n  - { preset: vllm, baseUrl: "http://gpu:8000/v1" }\n',
    );
    expect(oc.providers!.map((p) => [p.style, p.baseUrl])).toEqual([
      ['openai', 'https://api.moonshot.ai/v1'],
      ['openai', 'http://gpu:8000/v1'],
    ]);
    expect(hostModelId('fireworks', 'kimi-k2.7-code')).toBe('accounts/fireworks/models/kimi-k2p7-code');
    expect(hostModelId('cerebras', 'kimi-k2.6')).toBeNull();
  });

  it('refuses what cannot run: names twice, a cheapest route without prices, a preferences typo, a wrong route', () => {
    expect(error('providers:\n  - { preset: moonshot, name: a }\n  - { preset: vllm, name: a }\n')).toBe(
      "p.yaml:4: providers[1].name: a second provider named 'a' — give each a different name:",
    );
    expect(error('route: cheapest\nproviders:\n  - { preset: moonshot }\n  - { preset: cerebras, model: zai/kimi-k2.6-fast }\n')).toContain(
      'p.yaml:5: providers[1]: route: cheapest needs a price for every provider, and cerebras has none for zai/kimi-k2.6-fast — add prices: {"cerebras:kimi-k2.6": {inputUsd: …, outputUsd: …}}',
    );
    expect(error('providers:\n  - { preset: moonshot, modle: x }\n')).toContain(
      "p.yaml:3: providers[0].modle: unknown field 'modle' — did you mean 'model'?",
    );
    expect(error('route: quickest\nproviders:\n  - { preset: moonshot }\n')).toContain(
      "p.yaml:2: route: must be how a session picks a provider: one of ordered, fastest, cheapest (got 'quickest')",
    );
    expect(error('providers: []\n')).toContain('p.yaml:2: providers:');
    // Preferences pass through as they are (OpenRouter's own keys).
    const t = parse('providers:\n  - { preset: openrouter, preferences: { sort: throughput, only: [groq] } }\n');
    expect(t.providers![0]!.preferences).toEqual({ sort: 'throughput', only: ['groq'] });
  });

  it("settings.json's providers serve a template that names none; a template's own provider wins", () => {
    const defaults = Settings.parse({ providers: [{ preset: 'moonshot' }, { preset: 'openrouter' }], route: 'cheapest' });
    const t = parseTemplate('name: x\n', 'p.yaml', { defaults });
    expect([t.route, t.providers!.map((p) => p.name)]).toEqual(['cheapest', ['moonshot', 'openrouter']]);
    expect(parseTemplate('name: x\nprovider: { preset: vllm }\n', 'p.yaml', { defaults }).providers).toBeUndefined();
    expect(() => parseTemplate('name: x\n', 'p.yaml', { defaults: { providers: [{ preset: 'cerebras' }] } })).toThrow(
      'p.yaml: providers[0].preset (override): cerebras has no known id for kimi-k2.6',
    );
  });

  it('prices a provider by its own row, the model row as the fallback', () => {
    const table = PriceTable.shipped().withOverrides({ 'cerebras:kimi-k2.6': { inputUsd: 2, outputUsd: 8 } }, 'test');
    expect(table.getFor(['cerebras'], 'kimi-k2.6')).toMatchObject({ inputUsd: 2, outputUsd: 8, cacheReadUsd: 0.16 });
    expect(table.getFor(['groq'], 'moonshotai/kimi-k2-instruct-0905')).toMatchObject({ inputUsd: 1, outputUsd: 3 });
    expect(table.getFor(['fireworks'], 'accounts/fireworks/models/kimi-k2p7-code')).toMatchObject({ inputUsd: 0.95, outputUsd: 4 });
    expect(table.getFor(['moonshot'], 'kimi-k2.6')).toMatchObject({ model: 'kimi-k2.6', inputUsd: 0.95 });
    const u = { inputTokens: 1e6, cacheReadTokens: 0, cacheWriteTokens: 0, outputTokens: 1e6 };
    expect(table.costFor(['cerebras'], 'kimi-k2.6', u).usd).toBeCloseTo(10, 9);
    expect(table.cost('kimi-k2.6', u).usd).toBeCloseTo(4.95, 9);
  });
});

function routed(name: string, turnUsd: number | null = null, rateKey: string | null = null): RoutedProvider {
  return {
    route: { sessionId: 's', upstreamBaseUrl: `http://${name}.test`, apiKey: null, style: 'anthropic', provider: name },
    speedKey: `${name}|kimi-k2.6`,
    rateKey,
    turnUsd,
  };
}

describe('the router', () => {
  it('orders by position, by measured speed (unmeasured last), by price; a session sticks to the provider that served it', () => {
    const now = 1_000;
    const r = new ProviderRouter(() => now);
    const list = [routed('a', 0.02), routed('b', 0.01), routed('c', null)];
    const names = (s: string, k: 'ordered' | 'fastest' | 'cheapest') => r.order(s, list, k).map((p) => p.route.provider);
    expect(names('s1', 'ordered')).toEqual(['a', 'b', 'c']);
    expect(names('s1', 'cheapest')).toEqual(['b', 'a', 'c']);
    r.observe('c|kimi-k2.6', 200, 900);
    r.observe('a|kimi-k2.6', 2_000, 40);
    expect(names('s1', 'fastest')).toEqual(['c', 'a', 'b']);
    // Decayed: a few fast answers from a move it ahead.
    for (let i = 0; i < 12; i++) r.observe('a|kimi-k2.6', 100, 2_000);
    expect(names('s1', 'fastest')).toEqual(['a', 'c', 'b']);
    const choice = r.choice('s1', list, 'cheapest');
    choice.served(list[2]!.route);
    expect(names('s1', 'cheapest')).toEqual(['c', 'b', 'a']);
    expect(names('s2', 'cheapest')).toEqual(['b', 'a', 'c']);
    expect(r.stuckTo('s1')).toBe('c');
  });

  it('a failed provider cools down for its retry-after (else a doubling backoff) and a paused governor key goes last', () => {
    let now = 0;
    let paused = 0;
    const r = new ProviderRouter(
      () => now,
      () => paused,
    );
    const list = [routed('a'), routed('b', null, 'key-b'), routed('c')];
    const plan = () =>
      r
        .choice('s', list, 'ordered')
        .plan()
        .map((x) => x.provider);
    r.choice('s', list, 'ordered').failed(list[0]!.route, { status: 429, retryAfterMs: 5_000, error: '429' }, now);
    expect(plan()).toEqual(['b', 'c', 'a']);
    now = 5_001;
    expect(plan()).toEqual(['a', 'b', 'c']);
    paused = 60_000;
    expect(plan()).toEqual(['a', 'c', 'b']);
    paused = 0;
    // No retry-after: 1 s after the first failure in a row, 2 s after the second; an answer resets it.
    const r2 = new ProviderRouter(() => now);
    const c2 = r2.choice('t', list, 'ordered');
    const first = () => c2.plan()[0]!.provider;
    const failA = () => c2.failed(list[0]!.route, { status: null, retryAfterMs: null, error: 'refused' }, now);
    failA();
    now += 999;
    expect(first()).toBe('b');
    now += 2;
    expect(first()).toBe('a');
    failA();
    now += 1_500;
    expect(first()).toBe('b');
    now += 600;
    expect(first()).toBe('a');
    c2.served(list[0]!.route);
    failA();
    now += 1_001;
    expect(first()).toBe('a');
  });
});

const row = (p: Partial<LedgerRow>): LedgerRow => ({
  id: 1,
  sessionId: 's',
  runId: 'r',
  model: 'kimi-k2.6',
  inputTokens: 0,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
  outputTokens: 0,
  usd: 0,
  priced: true,
  state: 'exact',
  ttftMs: null,
  durationMs: null,
  httpStatus: 200,
  errorType: null,
  startedAt: '2026-12-07T00:00:00Z',
  endedAt: '2026-12-07T00:00:01Z',
  provider: null,
  failedOver: false,
  ...p,
});

describe('the per-provider table', () => {
  it('counts answers, medians, dollars, errors and failovers per provider; a run of one provider has none', () => {
    expect(providerTable([row({}), row({ usd: 1 })])).toEqual([]);
    const t = providerTable([
      row({ provider: 'a', state: 'error', failedOver: true, httpStatus: 503 }),
      row({ provider: 'b', ttftMs: 100, durationMs: 1_100, outputTokens: 500, usd: 0.5 }),
      row({ provider: 'b', ttftMs: 300, durationMs: 2_300, outputTokens: 100, usd: 0.25 }),
      row({ provider: 'b', state: 'error', httpStatus: 400 }),
      row({ provider: 'a', ttftMs: 50, durationMs: 550, outputTokens: 1_000, usd: 1 }),
    ]);
    expect(t).toEqual([
      { provider: 'a', requests: 1, ttftP50Ms: 50, tokensPerSecP50: 2_000, usd: 1, errors: 0, failovers: 1 },
      { provider: 'b', requests: 3, ttftP50Ms: 200, tokensPerSecP50: 275, usd: 0.75, errors: 1, failovers: 0 },
    ]);
  });
});
