// Checks over a whole `providers:` list: names unique, and what its route needs.
import type { PriceOverrides } from '../../shared/contract.ts';
import type { PriceTable } from '../meter/index.ts';
import type { Problem } from './doc.ts';
import type { ProviderConfig, RawProvider, Route } from './provider-entry.ts';

/** Names each provider uniquely (a second unnamed entry of one preset becomes `<preset>-2`) and checks the route. */
export function listProblems(
  providers: ProviderConfig[],
  route: Route,
  model: string,
  raw: { providers?: RawProvider[] | undefined; prices?: PriceOverrides | undefined },
  known: PriceTable,
): Problem[] {
  const problems: Problem[] = [];
  const used = new Set<string>();
  providers.forEach((p, i) => {
    const explicit = raw.providers?.[i]?.name !== undefined;
    if (used.has(p.name)) {
      if (explicit) {
        problems.push({ path: ['providers', i, 'name'], text: `a second provider named '${p.name}' — give each a different name:` });
        return;
      }
      let n = 2;
      while (used.has(`${p.name}-${n}`)) n++;
      p.name = `${p.name}-${n}`;
    }
    used.add(p.name);
  });
  if (route === 'cheapest') {
    const table = known.withOverrides(raw.prices ?? {}, 'template');
    providers.forEach((p, i) => {
      if (table.getFor([p.name, p.preset], p.model ?? model)) return;
      problems.push({
        path: ['providers', i],
        text:
          `route: cheapest needs a price for every provider, and ${p.name} has none for ${p.model ?? model}` +
          ` — add prices: {"${p.name}:${model}": {inputUsd: …, outputUsd: …}} (US dollars per million tokens)`,
      });
    });
  }
  return problems;
}

/** Every provider of a template: its list, else the one. Templates stored by older builds have only `provider`. */
export function providersOf(t: { provider: ProviderConfig; providers?: ProviderConfig[] }): ProviderConfig[] {
  return t.providers ?? [{ ...t.provider, name: t.provider.name ?? t.provider.preset }];
}
