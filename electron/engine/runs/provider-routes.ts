// A session's way to its provider(s): the proxy route of each, how the meter meters each, and how they are chosen.
import { createHash } from 'node:crypto';
import { type ProviderLimits, effectiveLimits } from '../../shared/contract.ts';

import {
  type MeteredSession,
  type PriceTable,
  type ProxyRoute,
  type RouteKind,
  type RoutedProvider,
  TYPICAL_TURN,
  speedKey,
} from '../meter/index.ts';
import { type ProviderConfig, type Template, hostModelId, providerCompat, providersOf, translates } from '../templates/index.ts';

export interface ProviderAccess {
  providerKey: (name: string) => string | undefined;
  accountLimits: (name: string) => ProviderLimits | undefined;
  /** A host's engine: a key not here yet comes from a desktop (requests wait for it, see MeterProxy awaitKey). */
  keysFromDesktop?: boolean;
}

export interface SessionRoutes {
  /** The first provider's route: the only one of a run of one provider. */
  route: ProxyRoute;
  /** Runs of several providers: each one's route and ranking figures, and the route kind; null for one provider. */
  several: { providers: RoutedProvider[]; kind: RouteKind } | null;
  /** How the meter meters the session's requests. */
  metered: Pick<MeteredSession, 'style' | 'compat' | 'rateKey' | 'providers'>;
}

/** The host's id for a session's model on this provider (a slot may run another model than the template's). */
function modelOn(t: Template, p: ProviderConfig, model: string): string {
  if (model === t.model) return p.model ?? model;
  return t.providers ? (hostModelId(p.preset as Parameters<typeof hostModelId>[0], model) ?? model) : model;
}

/** The governor's entry for a provider account: the key itself (hashed, never shown) shared by every run using it. */
function rateKeyOf(p: ProviderConfig, apiKey: string | null, access: ProviderAccess): NonNullable<MeteredSession['rateKey']> | null {
  if (!apiKey) return null;
  return {
    id: createHash('sha256').update(`${p.baseUrl}\n${apiKey}`).digest('hex').slice(0, 16),
    label: p.apiKeyEnv,
    limits: effectiveLimits(p.limits ?? access.accountLimits(p.apiKeyEnv)),
  };
}

export function sessionRoutes(t: Template, sessionId: string, model: string, prices: PriceTable, access: ProviderAccess): SessionRoutes {
  const list = providersOf(t);
  const several = t.providers !== undefined;
  const built = list.map((p) => {
    const apiKey = access.providerKey(p.apiKeyEnv) ?? null;
    const hostModel = modelOn(t, p, model);
    const route: ProxyRoute = {
      sessionId,
      upstreamBaseUrl: p.baseUrl,
      apiKey,
      ...(apiKey === null && access.keysFromDesktop && p.keyRequired !== false ? { awaitKey: p.apiKeyEnv } : {}),
      style: p.style,
      ...(translates(t.agent.preset, p) ? { translate: { model: hostModel } } : {}),
      ...(several ? { provider: p.name } : {}),
      ...(hostModel !== model ? { model: hostModel } : {}),
      ...(p.preferences ? { bodyFields: { provider: p.preferences } } : {}),
    };
    const compat = providerCompat(p);
    const cost = prices.costFor([p.name, p.preset], hostModel, TYPICAL_TURN);
    return {
      p,
      route,
      rateKey: rateKeyOf(p, apiKey, access),
      compat: compat.rules.length ? compat : null,
      turnUsd: cost.priced ? cost.usd : null,
    };
  });
  const first = built[0]!;
  return {
    route: first.route,
    several: several
      ? {
          kind: t.route ?? 'ordered',
          providers: built.map((b) => ({
            route: { ...b.route, provider: b.p.name },
            speedKey: speedKey(b.p.name, model),
            rateKey: b.rateKey?.id ?? null,
            turnUsd: b.turnUsd,
          })),
        }
      : null,
    metered: {
      style: first.p.style,
      compat: first.compat,
      rateKey: first.rateKey,
      ...(several
        ? {
            providers: Object.fromEntries(
              built.map((b) => [b.p.name, { preset: b.p.preset, style: b.p.style, compat: b.compat, rateKey: b.rateKey }]),
            ),
          }
        : {}),
    },
  };
}
