// Template fields `prices:` and `referenceModel:` (the rest of the template schema is in templates.test.ts).
import { describe, expect, it } from 'vitest';
import { PriceTable, effectivePrices } from '../../electron/engine/meter/prices.ts';
import { TemplateError, parseTemplate } from '../../electron/engine/templates/index.ts';

function parse(text: string, opts?: Parameters<typeof parseTemplate>[2]) {
  return parseTemplate(text, 'run.yaml', { cwd: '/work/repo', ...opts });
}

function parseError(text: string, opts?: Parameters<typeof parseTemplate>[2]): TemplateError {
  try {
    parse(text, opts);
  } catch (e) {
    expect(e).toBeInstanceOf(TemplateError);
    return e as TemplateError;
  }
  throw new Error('expected a TemplateError');
}

describe('template prices: and referenceModel:', () => {
  it('are absent from a template that gives neither (read as {} and null)', () => {
    const t = parse('name: x\n');
    expect(t.prices).toBeUndefined();
    expect(t.referenceModel).toBeUndefined();
    expect(t.prices ?? {}).toEqual({});
    expect(t.referenceModel ?? null).toBeNull();
  });

  it('reads partial overrides of known models and full prices of new ones', () => {
    const t = parse(`name: x
model: my-gateway-k2
referenceModel: claude-opus-4-1
prices:
  kimi-k2.6: { outputUsd: 4.5 }
  claude-sonnet-4-5-20250929:
    cacheWriteUsd: 3.75
  my-gateway-k2:
    inputUsd: 0.7
    cacheReadUsd: 0.2
    outputUsd: 2.8
    contextWindow: 131072
`);
    expect(t.referenceModel).toBe('claude-opus-4-1');
    expect(t.prices).toEqual({
      'kimi-k2.6': { outputUsd: 4.5 },
      'claude-sonnet-4-5-20250929': { cacheWriteUsd: 3.75 },
      'my-gateway-k2': { inputUsd: 0.7, cacheReadUsd: 0.2, outputUsd: 2.8, contextWindow: 131_072 },
    });
    const table = effectivePrices({}, t.prices);
    expect(table.get('my-gateway-k2')).toMatchObject({ inputUsd: 0.7, cacheReadUsd: 0.2, cacheWriteUsd: 0.7, outputUsd: 2.8 });
    expect(table.contextWindow('my-gateway-k2')).toBe(131_072);
    expect(table.get('kimi-k2.6')).toMatchObject({ inputUsd: 0.95, outputUsd: 4.5 });
    // survives the JSON round trip the store gives a run's template
    expect(JSON.parse(JSON.stringify(t))).toEqual(t);
  });

  it('treats `prices:` with nothing after it as not given', () => {
    expect(parse('name: x\nprices:\n').prices).toBeUndefined();
    expect(parse('name: x\nprices: {}\n').prices).toBeUndefined();
  });

  it('accepts a referenceModel priced only by the template', () => {
    const t = parse('name: x\nreferenceModel: gpt-9\nprices:\n  gpt-9: { inputUsd: 5, outputUsd: 20 }\n');
    expect(t.referenceModel).toBe('gpt-9');
  });

  it('takes prices from launch overrides, marked as such in errors', () => {
    const t = parse('name: x\n', { overrides: { prices: { 'kimi-k2.6': { inputUsd: 1 } }, referenceModel: 'claude-haiku-4-5' } });
    expect(t.prices).toEqual({ 'kimi-k2.6': { inputUsd: 1 } });
    expect(t.referenceModel).toBe('claude-haiku-4-5');
    expect(parseError('name: x\n', { overrides: { prices: { 'kimi-k2.6': { inputUsd: -1 } } } }).message).toBe(
      'run.yaml: prices.kimi-k2.6.inputUsd (override): must be a number of US dollars per million tokens, 0 or more (got -1)',
    );
  });
});

describe('template prices: errors name file, line, field and what is expected', () => {
  it('a price that is not a number of dollars', () => {
    const e = parseError('name: x\nprices:\n  kimi-k2.6:\n    inputUsd: cheap\n');
    expect(e.message).toBe(
      "run.yaml:4: prices.kimi-k2.6.inputUsd: must be a number of US dollars per million tokens, 0 or more (got 'cheap')",
    );
    expect([e.line, e.field]).toEqual([4, 'prices.kimi-k2.6.inputUsd']);
    expect(parseError('name: x\nprices:\n  kimi-k2.6: { outputUsd: -2 }\n').message).toBe(
      'run.yaml:3: prices.kimi-k2.6.outputUsd: must be a number of US dollars per million tokens, 0 or more (got -2)',
    );
  });

  it('a context window that is not a whole number', () => {
    expect(parseError('name: x\nprices:\n  kimi-k2.6:\n    contextWindow: 1.5\n').message).toBe(
      'run.yaml:4: prices.kimi-k2.6.contextWindow: must be a positive whole number of tokens (got 1.5)',
    );
  });

  it('an unknown field in a price entry, with a suggestion', () => {
    const e = parseError('name: x\nprices:\n  kimi-k2.6:\n    inptUsd: 1\n');
    expect(e.message).toBe(
      "run.yaml:4: prices.kimi-k2.6.inptUsd: unknown field 'inptUsd' — did you mean 'inputUsd'? — expected one of inputUsd, cacheReadUsd, cacheWriteUsd, outputUsd, contextWindow",
    );
    expect(e.field).toBe('prices.kimi-k2.6.inptUsd');
  });

  it('prices that are not a mapping', () => {
    expect(parseError('name: x\nprices: [kimi-k2.6]\n').message).toBe(
      'run.yaml:2: prices: must be a mapping of model id: { inputUsd, cacheReadUsd, cacheWriteUsd, outputUsd, contextWindow } (got a list)',
    );
    expect(parseError('name: x\nprices:\n  kimi-k2.6: 4\n').message).toBe(
      'run.yaml:3: prices.kimi-k2.6: must be a mapping with inputUsd, cacheReadUsd, cacheWriteUsd, outputUsd, contextWindow (got 4)',
    );
  });

  it('a model the table does not know, without input or output price', () => {
    const e = parseError('name: x\ncount: 1\nprices:\n  my-model:\n    inputUsd: 1\n');
    expect(e.message).toBe(
      "run.yaml:4: prices.my-model: 'my-model' is not in the price table, so it needs at least inputUsd and outputUsd (missing: outputUsd)",
    );
    expect([e.line, e.field]).toEqual([4, 'prices.my-model']);
    expect(parseError('name: x\nprices:\n  kimi-k2-thinkng: { cacheReadUsd: 0.1 }\n').message).toBe(
      "run.yaml:3: prices.kimi-k2-thinkng: 'kimi-k2-thinkng' is not in the price table, so it needs at least inputUsd and outputUsd (missing: inputUsd, outputUsd) — or did you mean 'kimi-k2-thinking'?",
    );
  });

  it('a referenceModel without a price', () => {
    const e = parseError('name: x\nreferenceModel: claude-sonet-4-5\n');
    expect(e.message).toBe(
      "run.yaml:2: referenceModel: 'claude-sonet-4-5' has no price, so savings could not be measured against it — did you mean 'claude-sonnet-4-5'? — name a priced model (e.g. claude-sonnet-4-5) or give its prices under prices:",
    );
    expect(e.field).toBe('referenceModel');
    expect(parseError('name: x\nreferenceModel: ""\n').message).toBe(
      "run.yaml:2: referenceModel: must be a non-empty model id with a price, e.g. claude-sonnet-4-5 (got '')",
    );
  });

  it('a misspelt top-level pricing field gets a suggestion', () => {
    expect(parseError('name: x\nprice: {}\n').message).toMatch(/^run\.yaml:2: price: unknown field 'price' — did you mean 'prices'\?/);
    expect(parseError('name: x\nreferenceModle: claude-opus-4\n').message).toMatch(/did you mean 'referenceModel'\?/);
  });

  it('lists several problems in file order', () => {
    const e = parseError('name: x\nprices:\n  a-model: { inputUsd: 1 }\n  kimi-k2.6: { outputUsd: -1 }\n');
    // schema problems come first (the completeness check runs on a valid shape)
    expect(e.message).toBe('run.yaml:4: prices.kimi-k2.6.outputUsd: must be a number of US dollars per million tokens, 0 or more (got -1)');
  });

  it('checks against the prices it is given (shipped ← settings.json)', () => {
    const known = PriceTable.shipped().withOverrides({ 'my-model': { inputUsd: 1, outputUsd: 2 } }, 'settings.json');
    const text = 'name: x\nreferenceModel: my-model\nprices:\n  my-model: { outputUsd: 3 }\n';
    expect(parse(text, { knownPrices: known }).prices).toEqual({ 'my-model': { outputUsd: 3 } });
    expect(parseError(text).message).toMatch(/^run\.yaml:4: prices\.my-model: 'my-model' is not in the price table/);
  });
});
