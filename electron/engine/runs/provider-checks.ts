// What a run of several providers needs before anything starts: every provider's key, and for `route: fastest` a speed
// for at least one of them (a short timed request to each provider that has none). Each problem names the template
// line; nothing is launched half-configured.
import type { ErrorIssue } from '../../shared/contract.ts';
import { EngineError } from '../errors.ts';
import { type ProviderRouter, speedKey } from '../meter/index.ts';
import { timedRequest } from '../probe/timed.ts';
import { type Template, providerCompat } from '../templates/index.ts';

export interface ProviderCheckDeps {
  providerKey: (name: string) => string | undefined;
  router: ProviderRouter;
  /** Says what is being measured (launch progress). */
  progress?: (message: string) => void;
  /** How long one timed request may take (default 20 s). */
  timeoutMs?: number;
}

function located(t: Template, line: number | null | undefined, field: string, text: string): ErrorIssue {
  const file = t.file ?? '<template>';
  return { field, line: line ?? null, message: `${line ? `${file}:${line}` : file}: ${field}: ${text}` };
}

function fail(t: Template, issues: ErrorIssue[]): never {
  throw new EngineError('template_invalid', issues.map((i) => i.message).join('\n'), {
    file: t.file ?? '<template>',
    ...(issues[0]!.line !== null ? { line: issues[0]!.line } : {}),
    field: issues[0]!.field ?? undefined,
    issues,
  });
}

export async function checkProviders(t: Template, d: ProviderCheckDeps): Promise<void> {
  const list = t.providers;
  if (!list) return;
  const issues: ErrorIssue[] = [];
  list.forEach((p, i) => {
    if (p.keyRequired === false || d.providerKey(p.apiKeyEnv)) return;
    issues.push(
      located(
        t,
        p.line,
        `providers[${i}]`,
        `${p.apiKeyEnv} is not set (provider ${p.name}) — export ${p.apiKeyEnv}=… before starting Flotilla, or save it in Settings → Keys`,
      ),
    );
  });
  if (issues.length) fail(t, issues);
  if (t.route !== 'fastest') return;

  const unmeasured = list.filter((p) => d.router.speed(speedKey(p.name, t.model)) === null);
  if (unmeasured.length === 0) return;
  d.progress?.(`measuring ${unmeasured.map((p) => p.name).join(', ')} (one short request each) for route: fastest`);
  const results = await Promise.all(
    unmeasured.map(async (p) => {
      const r = await timedRequest(
        {
          baseUrl: p.baseUrl,
          style: p.style,
          key: d.providerKey(p.apiKeyEnv) ?? null,
          model: p.model ?? t.model,
          compat: providerCompat(p),
          ...(p.preferences ? { bodyFields: { provider: p.preferences } } : {}),
        },
        { maxTokens: 128, timeoutMs: d.timeoutMs ?? 20_000 },
      );
      if (r.ok) d.router.observe(speedKey(p.name, t.model), r.ttftMs, r.tokensPerSec ?? 1);
      return { p, r };
    }),
  );
  if (list.some((p) => d.router.speed(speedKey(p.name, t.model)) !== null)) return;
  const why = results.map(({ p, r }) => `${p.name}: ${r.error}`).join('; ');
  fail(t, [
    located(
      t,
      null,
      'route',
      `fastest needs a speed for at least one provider, and none could be measured (${why}) — use route: ordered, or check the hosts with flotilla probe --providers`,
    ),
  ]);
}
