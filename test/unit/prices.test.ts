import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PriceEntry, type TokenCounts } from '../../electron/shared/contract.ts';
import {
  DEFAULT_REFERENCE_MODEL,
  PriceError,
  PriceTable,
  effectivePrices,
  effectiveReferenceModel,
  referenceCost,
} from '../../electron/engine/meter/prices.ts';
import { SettingsError, loadSettings, saveSettings } from '../../electron/engine/settings/index.ts';
import { MODELS, MODEL_TABLE_SOURCE, modelContextWindow, modelInfo } from '../../electron/engine/templates/models.ts';

const PROJECT = resolve(import.meta.dirname, '../..');

const usage = (over: Partial<TokenCounts> = {}): TokenCounts => ({
  inputTokens: 0,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
  outputTokens: 0,
  ...over,
});

const M = 1_000_000;

describe('PriceTable.shipped', () => {
  const t = PriceTable.shipped();

  it('holds the K2 family at the reference prices, cache writes at the cache-miss rate', () => {
    // [model, cache hit, cache miss, output, context] — reference §2
    const k2: [string, number, number, number, number][] = [
      ['kimi-k2-0711-preview', 0.15, 0.6, 2.5, 131_072],
      ['kimi-k2-0905-preview', 0.15, 0.6, 2.5, 262_144],
      ['kimi-k2-turbo-preview', 0.15, 1.15, 8.0, 262_144],
      ['kimi-k2-thinking', 0.15, 0.6, 2.5, 262_144],
      ['kimi-k2-thinking-turbo', 0.15, 1.15, 8.0, 262_144],
      ['kimi-k2.5', 0.1, 0.6, 3.0, 262_144],
      ['kimi-k2.6', 0.16, 0.95, 4.0, 262_144],
      ['kimi-k3', 0.3, 3.0, 15.0, 1_048_576],
    ];
    for (const [model, hit, miss, out, ctx] of k2) {
      expect(t.get(model)).toMatchObject({
        model,
        inputUsd: miss,
        cacheReadUsd: hit,
        cacheWriteUsd: miss,
        outputUsd: out,
        contextWindow: ctx,
      });
      expect(t.get(model)!.asOf).toBe('2026-03-26');
      expect(t.get(model)!.source).toMatch(/Moonshot/);
    }
  });

  it('holds the Claude models at Anthropic list prices', () => {
    const claude: [string, number, number, number, number][] = [
      ['claude-opus-4-1', 15, 1.5, 18.75, 75],
      ['claude-opus-4', 15, 1.5, 18.75, 75],
      ['claude-sonnet-4-5', 3, 0.3, 3.75, 15],
      ['claude-sonnet-4', 3, 0.3, 3.75, 15],
      ['claude-haiku-4-5', 1, 0.1, 1.25, 5],
    ];
    for (const [model, input, read, write, out] of claude) {
      expect(t.get(model)).toMatchObject({
        model,
        inputUsd: input,
        cacheReadUsd: read,
        cacheWriteUsd: write,
        outputUsd: out,
        contextWindow: 200_000,
      });
      expect(t.get(model)!.source).toMatch(/Anthropic/);
    }
  });

  it('has only valid entries, each with a date and a source', () => {
    const entries = t.entries();
    expect(entries.length).toBeGreaterThanOrEqual(13);
    for (const e of entries) {
      expect(PriceEntry.parse(e)).toEqual(e);
      expect(e.asOf).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(e.source.length).toBeGreaterThan(5);
    }
    expect(new Set(entries.map((e) => e.model)).size).toBe(entries.length);
  });

  it('finds dated and snapshot ids by prefix, and the longest matching key wins', () => {
    expect(t.get('claude-sonnet-4-5-20250929')?.model).toBe('claude-sonnet-4-5');
    expect(t.get('claude-sonnet-4-20250514')?.model).toBe('claude-sonnet-4');
    expect(t.get('claude-opus-4-1-20250805')?.model).toBe('claude-opus-4-1');
    expect(t.get('claude-opus-4-20250514')?.model).toBe('claude-opus-4');
    expect(t.get('claude-haiku-4-5-20251001')?.model).toBe('claude-haiku-4-5');
    expect(t.get('claude-sonnet-4-5@20250929')?.model).toBe('claude-sonnet-4-5');
    expect(t.get('claude-sonnet-4-5-latest')?.model).toBe('claude-sonnet-4-5');
    expect(t.get('claude-sonnet-4-5-20250929-v1:0')?.model).toBe('claude-sonnet-4-5');
  });

  it('does not price a different model that merely starts with a known id', () => {
    // A turbo or newer variant costs something else: unpriced beats a silently wrong price.
    expect(t.get('kimi-k2.6-turbo')).toBeNull();
    expect(t.get('claude-sonnet-4-6')).toBeNull();
    expect(t.get('kimi-k2')).toBeNull();
    expect(t.get('claude-sonnet-4-5x')).toBeNull();
  });

  it('looks provider-prefixed ids up by the part after the slash, case-insensitively', () => {
    expect(t.get('moonshotai/kimi-k2-0905')?.model).toBe('kimi-k2-0905');
    expect(t.get('moonshotai/kimi-k2-instruct-0905')?.model).toBe('kimi-k2-instruct-0905');
    expect(t.get('openrouter/moonshotai/kimi-k2.6')?.model).toBe('kimi-k2.6');
    expect(t.get('anthropic/claude-sonnet-4-5-20250929')?.model).toBe('claude-sonnet-4-5');
    expect(t.get('  KIMI-K2.6 ')?.model).toBe('kimi-k2.6');
  });

  it('answers null for unknown models, empty ids and object-prototype names', () => {
    for (const m of ['mystery-model', '', '   ', 'constructor', '__proto__', 'toString', 'x/']) {
      expect(t.get(m)).toBeNull();
      expect(t.contextWindow(m)).toBeNull();
    }
  });

  it('gives context windows', () => {
    expect(t.contextWindow('kimi-k2.6')).toBe(262_144);
    expect(t.contextWindow('kimi-k3')).toBe(1_048_576);
    expect(t.contextWindow('kimi-k2-0711-preview')).toBe(131_072);
    expect(t.contextWindow('moonshotai/kimi-k2-0905')).toBe(262_144);
    expect(t.contextWindow('claude-sonnet-4-5-20250929')).toBe(200_000);
  });

  it('hands out copies: changing an entry does not change the table', () => {
    const e = t.get('kimi-k2.6')!;
    e.inputUsd = 999;
    t.entries()[0]!.outputUsd = 999;
    expect(t.get('kimi-k2.6')!.inputUsd).toBe(0.95);
    expect(PriceTable.shipped().entries()[0]!.outputUsd).not.toBe(999);
  });
});

describe('PriceTable.cost', () => {
  const t = PriceTable.shipped();

  it('prices each kind of token at its rate', () => {
    expect(t.cost('kimi-k2.6', usage({ inputTokens: M }))).toEqual({ usd: 0.95, priced: true });
    expect(t.cost('kimi-k2.6', usage({ cacheReadTokens: M }))).toEqual({ usd: 0.16, priced: true });
    expect(t.cost('kimi-k2.6', usage({ cacheWriteTokens: M }))).toEqual({ usd: 0.95, priced: true });
    expect(t.cost('kimi-k2.6', usage({ outputTokens: M }))).toEqual({ usd: 4, priced: true });
    expect(t.cost('claude-sonnet-4-5', usage({ cacheWriteTokens: M }))).toEqual({ usd: 3.75, priced: true });
    // A typical Claude Code turn: 1,200 new input, 48,000 cached, 3,000 cache write, 800 output on K2.6.
    const c = t.cost('kimi-k2.6', { inputTokens: 1200, cacheReadTokens: 48_000, cacheWriteTokens: 3000, outputTokens: 800 });
    expect(c.priced).toBe(true);
    expect(c.usd).toBeCloseTo((1200 * 0.95 + 48_000 * 0.16 + 3000 * 0.95 + 800 * 4) / 1e6, 15);
  });

  it('prices zero tokens at zero, and says so', () => {
    expect(t.cost('kimi-k2.6', usage())).toEqual({ usd: 0, priced: true });
  });

  it('reports an unknown or missing model as unpriced, never as a priced $0', () => {
    expect(t.cost('mystery-model', usage({ inputTokens: 1000, outputTokens: 10 }))).toEqual({ usd: 0, priced: false });
    expect(t.cost(null, usage({ inputTokens: 1000 }))).toEqual({ usd: 0, priced: false });
  });

  it('stays within a micro-dollar of the exact decimal sum over many requests', () => {
    // Exact: prices have at most 2 decimals, so tokens × (price × 100) is an integer; sum in BigInt, divide by 1e8.
    let seed = 42;
    const rnd = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    const models = ['kimi-k2.6', 'kimi-k2-turbo-preview', 'kimi-k3', 'claude-opus-4-1', 'kimi-k2.5'];
    let floatSum = 0;
    let exact = 0n;
    for (let i = 0; i < 20_000; i++) {
      const model = models[rnd(models.length)]!;
      const u = { inputTokens: rnd(20_000), cacheReadTokens: rnd(200_000), cacheWriteTokens: rnd(10_000), outputTokens: rnd(8_000) };
      floatSum += t.cost(model, u).usd;
      const e = t.get(model)!;
      const cents = (p: number) => BigInt(Math.round(p * 100));
      exact +=
        BigInt(u.inputTokens) * cents(e.inputUsd) +
        BigInt(u.cacheReadTokens) * cents(e.cacheReadUsd) +
        BigInt(u.cacheWriteTokens) * cents(e.cacheWriteUsd) +
        BigInt(u.outputTokens) * cents(e.outputUsd);
    }
    const exactUsd = Number(exact) / 1e8;
    expect(floatSum).toBeGreaterThan(100);
    expect(Math.abs(floatSum - exactUsd)).toBeLessThan(1e-6);
  });
});

describe('PriceTable.withOverrides', () => {
  const shipped = PriceTable.shipped();

  it('overrides some fields of a known model and keeps the rest', () => {
    const t = shipped.withOverrides({ 'kimi-k2.6': { outputUsd: 5 } }, '/home/u/.flotilla/settings.json');
    expect(t.get('kimi-k2.6')).toMatchObject({
      inputUsd: 0.95,
      cacheReadUsd: 0.16,
      cacheWriteUsd: 0.95,
      outputUsd: 5,
      contextWindow: 262_144,
    });
    expect(t.get('kimi-k2.6')!.source).toContain('/home/u/.flotilla/settings.json (outputUsd)');
    expect(t.get('kimi-k2.6')!.asOf).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    // the original is untouched
    expect(shipped.get('kimi-k2.6')!.outputUsd).toBe(4);
  });

  it('names only the override as source when it gives every price', () => {
    const t = shipped.withOverrides({ 'kimi-k2.6': { inputUsd: 1, cacheReadUsd: 0.2, cacheWriteUsd: 1, outputUsd: 5 } }, 'my-source');
    expect(t.get('kimi-k2.6')!.source).toBe('my-source');
  });

  it('overrides a context window alone', () => {
    const t = shipped.withOverrides({ 'kimi-k2.6': { contextWindow: 131_072 } }, 's');
    expect(t.contextWindow('kimi-k2.6')).toBe(131_072);
    expect(t.get('kimi-k2.6')!.outputUsd).toBe(4);
  });

  it('adds an unknown model given input and output; cache rates default to input', () => {
    const t = shipped.withOverrides({ 'My-Model': { inputUsd: 2, outputUsd: 8 } }, 'settings.json');
    expect(t.get('my-model')).toMatchObject({
      model: 'my-model',
      inputUsd: 2,
      cacheReadUsd: 2,
      cacheWriteUsd: 2,
      outputUsd: 8,
      contextWindow: null,
      source: 'settings.json',
    });
    expect(t.cost('my-model', usage({ inputTokens: M, cacheReadTokens: M, outputTokens: M }))).toEqual({ usd: 12, priced: true });
    expect(t.entries().at(-1)!.model).toBe('my-model');
  });

  it('refuses an unknown model without input or output price, naming the model and the field', () => {
    expect(() => shipped.withOverrides({ 'my-model': { inputUsd: 2 } }, 'settings.json')).toThrow(PriceError);
    expect(() => shipped.withOverrides({ 'my-model': { inputUsd: 2 } }, 'settings.json')).toThrow(
      "settings.json: prices.my-model: 'my-model' is not in the price table, so it needs at least inputUsd and outputUsd (missing: outputUsd)",
    );
    expect(() => shipped.withOverrides({ 'my-model': { cacheReadUsd: 1 } }, 'x')).toThrow(/missing: inputUsd, outputUsd/);
  });

  it('refuses bad values and unknown fields', () => {
    expect(() => shipped.withOverrides({ 'kimi-k2.6': { inputUsd: -1 } }, 'f')).toThrow(
      'f: prices.kimi-k2.6.inputUsd: must be a number of US dollars per million tokens, 0 or more',
    );
    expect(() => shipped.withOverrides({ 'kimi-k2.6': { inputUsd: Number.NaN } }, 'f')).toThrow(/inputUsd/);
    expect(() => shipped.withOverrides({ 'kimi-k2.6': { contextWindow: 1.5 } }, 'f')).toThrow(
      /contextWindow: must be a positive whole number/,
    );
    expect(() => shipped.withOverrides({ 'kimi-k2.6': { outptUsd: 1 } as never }, 'f')).toThrow(/unknown field\(s\) 'outptUsd'/);
    expect(() => shipped.withOverrides({ ' ': { inputUsd: 1, outputUsd: 1 } }, 'f')).toThrow(/must not be empty/);
  });

  it('takes an override of a dated or prefixed id as a new entry based on the model it resolves to', () => {
    const t = shipped.withOverrides({ 'claude-sonnet-4-5-20250929': { outputUsd: 16 }, 'moonshotai/kimi-k2.6': { inputUsd: 1 } }, 's');
    expect(t.get('claude-sonnet-4-5-20250929')).toMatchObject({ inputUsd: 3, outputUsd: 16 });
    expect(t.get('claude-sonnet-4-5')!.outputUsd).toBe(15);
    expect(t.get('moonshotai/kimi-k2.6')).toMatchObject({ inputUsd: 1, outputUsd: 4 });
    expect(t.get('kimi-k2.6')!.inputUsd).toBe(0.95);
  });

  it('applies later layers over earlier ones', () => {
    const t = shipped
      .withOverrides({ 'my-model': { inputUsd: 2, outputUsd: 8 } }, 'a')
      .withOverrides({ 'my-model': { outputUsd: 9 } }, 'b');
    expect(t.get('my-model')).toMatchObject({ inputUsd: 2, outputUsd: 9 });
  });
});

describe('referenceCost', () => {
  it('prices the same tokens on the reference model', () => {
    const t = PriceTable.shipped();
    const u = { inputTokens: 10_000, cacheReadTokens: 100_000, cacheWriteTokens: 5_000, outputTokens: 2_000 };
    expect(referenceCost(t, 'claude-sonnet-4-5', u)).toBeCloseTo(0.03 + 0.03 + 0.01875 + 0.03, 12);
    expect(referenceCost(t, 'claude-sonnet-4-5', u)).toBeGreaterThan(t.cost('kimi-k2.6', u).usd);
    expect(referenceCost(t, 'nope', u)).toBe(0);
    expect(DEFAULT_REFERENCE_MODEL).toBe('claude-sonnet-4-5');
  });
});

describe('settings.json', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'flotilla-settings-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is {} when the file does not exist (or the data dir does not)', async () => {
    expect(await loadSettings(dir)).toEqual({});
    expect(await loadSettings(join(dir, 'nope'))).toEqual({});
  });

  it('round-trips through saveSettings, written 0600 with no temp file left', async () => {
    const s = {
      prices: { 'kimi-k2.6': { outputUsd: 4.5 }, 'my-model': { inputUsd: 1, outputUsd: 2 } },
      referenceModel: 'claude-opus-4-1',
      defaultBudget: { perSessionUsd: 2, runUsd: null },
    };
    await saveSettings(join(dir, 'data'), s);
    expect(await loadSettings(join(dir, 'data'))).toEqual(s);
    expect(statSync(join(dir, 'data', 'settings.json')).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(dir, 'data'))).toEqual(['settings.json']);
    await saveSettings(join(dir, 'data'), {});
    expect(await loadSettings(join(dir, 'data'))).toEqual({});
    expect(readFileSync(join(dir, 'data', 'settings.json'), 'utf8')).toBe('{}\n');
  });

  it('names the file when the JSON is broken', async () => {
    const file = join(dir, 'settings.json');
    writeFileSync(file, '{"prices": ');
    await expect(loadSettings(dir)).rejects.toThrow(SettingsError);
    await expect(loadSettings(dir)).rejects.toThrow(`${file}: not valid JSON`);
  });

  it('names the file and the field when the schema does not match', async () => {
    const file = join(dir, 'settings.json');
    const cases: [unknown, string][] = [
      [
        { prices: { 'kimi-k2.6': { inputUsd: 'cheap' } } },
        `${file}: prices.kimi-k2.6.inputUsd: must be a number of US dollars per million tokens, 0 or more (got "cheap")`,
      ],
      [
        { prices: { 'kimi-k2.6': { inptUsd: 1 } } },
        `${file}: prices.kimi-k2.6.inptUsd: unknown field — expected one of inputUsd, cacheReadUsd, cacheWriteUsd, outputUsd, contextWindow`,
      ],
      [{ refrenceModel: 'x' }, `${file}: refrenceModel: unknown field — expected one of prices, referenceModel, defaultBudget`],
      [{ referenceModel: '' }, `${file}: referenceModel: must be a non-empty model id`],
      [{ defaultBudget: { runUsd: -5 } }, `${file}: defaultBudget.runUsd: must be a positive number of US dollars, or null (got -5)`],
      [[1, 2], `${file}: (top level): must be a JSON object`],
      [
        { prices: { 'my-model': { inputUsd: 1 } } },
        `${file}: prices.my-model: 'my-model' is not in the price table, so it needs at least inputUsd and outputUsd (missing: outputUsd)`,
      ],
      [{ referenceModel: 'gpt-9' }, `${file}: referenceModel: 'gpt-9' has no price, so savings could not be measured against it`],
    ];
    for (const [value, message] of cases) {
      writeFileSync(file, JSON.stringify(value));
      const err = await loadSettings(dir).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SettingsError);
      expect((err as Error).message).toContain(message);
      expect((err as SettingsError).code).toBe('settings_invalid');
    }
  });

  it('accepts a reference model priced by the settings themselves', async () => {
    writeFileSync(
      join(dir, 'settings.json'),
      JSON.stringify({ referenceModel: 'gpt-9', prices: { 'gpt-9': { inputUsd: 5, outputUsd: 20 } } }),
    );
    expect((await loadSettings(dir)).referenceModel).toBe('gpt-9');
  });

  it('refuses to save invalid settings and leaves the old file', async () => {
    await saveSettings(dir, { referenceModel: 'claude-opus-4' });
    await expect(saveSettings(dir, { prices: { x: { inputUsd: 1 } } })).rejects.toThrow(/prices\.x.*missing: outputUsd/);
    expect(await loadSettings(dir)).toEqual({ referenceModel: 'claude-opus-4' });
    expect(readdirSync(dir)).toEqual(['settings.json']);
  });

  it('layers shipped ← settings ← template in effectivePrices', () => {
    const settings = { prices: { 'kimi-k2.6': { inputUsd: 1, outputUsd: 5 }, 'my-model': { inputUsd: 1, outputUsd: 2 } } };
    const t = effectivePrices(settings, { 'kimi-k2.6': { outputUsd: 6 } }, { settings: '/d/settings.json', template: '/r/t.yaml' });
    expect(t.get('kimi-k2.6')).toMatchObject({ inputUsd: 1, cacheReadUsd: 0.16, outputUsd: 6 });
    expect(t.get('kimi-k2.6')!.source).toMatch(/^\/r\/t\.yaml \(outputUsd\); \/d\/settings\.json/);
    expect(t.get('my-model')!.outputUsd).toBe(2);
    expect(t.get('kimi-k3')!.outputUsd).toBe(15);
    expect(effectivePrices({}).entries()).toEqual(PriceTable.shipped().entries());
  });

  it('picks the reference model: template, else settings, else claude-sonnet-4-5', () => {
    expect(effectiveReferenceModel({})).toBe('claude-sonnet-4-5');
    expect(effectiveReferenceModel({ referenceModel: 'claude-opus-4' })).toBe('claude-opus-4');
    expect(effectiveReferenceModel({ referenceModel: 'claude-opus-4' }, 'claude-haiku-4-5')).toBe('claude-haiku-4-5');
    expect(effectiveReferenceModel({ referenceModel: 'claude-opus-4' }, null)).toBe('claude-opus-4');
  });
});

describe('one table: the templates module reads the price table', () => {
  it('derives MODELS, modelInfo and context windows from PriceTable.shipped()', () => {
    const t = PriceTable.shipped();
    for (const e of t.entries()) {
      expect(MODELS[e.model]).toEqual({
        contextWindow: e.contextWindow,
        usdPerMTok: { cacheHit: e.cacheReadUsd, input: e.inputUsd, output: e.outputUsd },
      });
      expect(modelContextWindow(e.model)).toBe(e.contextWindow);
    }
    expect(Object.keys(MODELS).sort()).toEqual(
      t
        .entries()
        .map((e) => e.model)
        .sort(),
    );
    expect(modelInfo('moonshotai/kimi-k2.6')).toEqual(MODELS['kimi-k2.6']);
    expect(modelInfo('claude-sonnet-4-5-20250929')?.contextWindow).toBe(200_000);
    expect(MODEL_TABLE_SOURCE.asOf).toBe('2026-03-26');
    expect(MODEL_TABLE_SOURCE.source).toMatch(/Moonshot.*Anthropic/s);
  });

  it('keeps no numbers of its own in templates/models.ts', () => {
    const src = readFileSync(join(PROJECT, 'electron/engine/templates/models.ts'), 'utf8');
    expect(src).not.toMatch(/\d_\d{3}|\b\d+\.\d+\b/);
  });
});
