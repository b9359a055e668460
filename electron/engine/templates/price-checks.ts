// A template's prices checked against the price table: unknown models need their prices, the reference model one.
import type { PriceTable } from '../meter/index.ts';
import { type Problem, closest } from './doc.ts';

/** `prices:` entries for models the table does not know must be complete; the reference model must have a price. */
export function priceProblems(
  raw: { prices?: Record<string, { inputUsd?: number; outputUsd?: number }> | undefined; referenceModel?: string | undefined },
  known: PriceTable,
): Problem[] {
  const problems: Problem[] = [];
  const knownIds = known.entries().map((e) => e.model);
  for (const [model, p] of Object.entries(raw.prices ?? {})) {
    if (!model.trim()) {
      problems.push({ path: ['prices', model], text: 'a model id must not be empty' });
      continue;
    }
    if (known.get(model)) continue;
    const missing = (['inputUsd', 'outputUsd'] as const).filter((f) => p[f] === undefined);
    if (missing.length === 0) continue;
    const hint = closest(model, knownIds);
    problems.push({
      path: ['prices', model],
      text:
        `'${model}' is not in the price table, so it needs at least inputUsd and outputUsd (missing: ${missing.join(', ')})` +
        (hint ? ` — or did you mean '${hint}'?` : ''),
    });
  }
  if (problems.length === 0 && raw.referenceModel !== undefined) {
    const table = known.withOverrides(raw.prices ?? {}, 'template');
    if (!table.get(raw.referenceModel)) {
      const hint = closest(raw.referenceModel, knownIds);
      problems.push({
        path: ['referenceModel'],
        text:
          `'${raw.referenceModel}' has no price, so savings could not be measured against it` +
          (hint ? ` — did you mean '${hint}'?` : '') +
          ` — name a priced model (e.g. claude-sonnet-4-5) or give its prices under prices:`,
      });
    }
  }
  return problems;
}
