import { resolve } from 'node:path';
import { DATA_DIR, defineCommand, fail } from '../command.ts';

export const probe = defineCommand({
  name: 'probe',
  usage:
    'flotilla probe [template.yaml] [--provider P] [--model M] [--compat C] [--rules-on R,…] [--rules-off R,…]\n               [--base-url URL] [--key-env VAR] [--json]\n       flotilla probe template.yaml --providers [--json]',
  args: '[template.yaml]',
  about:
    "Send Claude Code's request shapes to the real provider, as sent and through the compatibility profile: which it\naccepts, which rules it needs, what the probe cost. Exit 0 when the profile makes every shape pass.\nWith --providers (or a template with providers:): every provider of the template, ranked — time to first token,\ntokens/s, the price of a typical turn, the rules it needs, whether a tool call comes back valid.",
  options: {
    provider: { type: 'string', value: 'P', help: 'a provider preset (default moonshot)' },
    model: { type: 'string', value: 'M', help: 'the model to probe' },
    compat: { type: 'string', value: 'C', help: 'a compat profile' },
    'rules-on': { type: 'string', value: 'R,…', help: 'compat rules to add to the profile' },
    'rules-off': { type: 'string', value: 'R,…', help: 'compat rules to leave out' },
    'base-url': { type: 'string', value: 'URL', help: "the provider's Anthropic-style base URL" },
    'key-env': { type: 'string', value: 'VAR', help: 'the environment variable holding the key' },
    'data-dir': DATA_DIR,
    providers: { type: 'boolean', default: false, help: "every provider of the template's providers: list, ranked" },
    json: { type: 'boolean', default: false, help: 'the report as one JSON document on stdout' },
  },
  example: 'flotilla probe --provider moonshot --model kimi-k2.7-code',
  async run(values, positionals) {
    const { dataDirOf } = await import('../engine-access.ts');
    const { EngineError } = await import('../../engine/errors.ts');
    const { compatProfile, effectivePrices } = await import('../../engine/meter/index.ts');
    const { resolveProbeTarget, runProbe } = await import('../../engine/probe/index.ts');
    const { EngineSettings } = await import('../../engine/settings/index.ts');
    const { loadTemplateFile } = await import('../../engine/templates/index.ts');
    const template = positionals[0] ? await loadTemplateFile(resolve(positionals[0])) : undefined;
    if (values.providers || template?.providers) {
      if (!template) fail('--providers needs a template with providers: — flotilla probe my-template.yaml --providers');
      const { probeProviders, providersTable } = await import('../../engine/probe/index.ts');
      const settings = await EngineSettings.load(await dataDirOf(values), process.env);
      const log = (line: string) => process.stderr.write(`${line}\n`);
      const report = await probeProviders(template, {
        providerKey: (name) => settings.providerKey(name),
        prices: effectivePrices(settings.current, template.prices),
        onProvider: (p) =>
          log(
            `  ${p.provider}: ${p.error ? `error — ${p.error}` : `TTFT ${Math.round(p.ttftMs ?? 0)} ms, ${p.tokensPerSec?.toFixed(0) ?? '—'} tok/s`}`,
          ),
      });
      if (values.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      else process.stdout.write(`${providersTable(report)}\n`);
      const good = report.providers.every((p) => !p.error && p.toolCall?.valid && (p.shapes?.ok ?? true));
      process.exit(good ? 0 : 1);
    }
    let target: ReturnType<typeof resolveProbeTarget>;
    try {
      target = resolveProbeTarget({
        template,
        provider: values.provider,
        model: values.model,
        compat: values.compat,
        rulesOn: values['rules-on'],
        rulesOff: values['rules-off'],
        baseUrl: values['base-url'],
        keyEnv: values['key-env'],
      });
    } catch (err) {
      if (err instanceof EngineError) fail(err.message);
      throw err;
    }
    const settings = await EngineSettings.load(await dataDirOf(values), process.env);
    const key = settings.providerKey(target.apiKeyEnv);
    if (!key) fail(`${target.apiKeyEnv} is not set — export ${target.apiKeyEnv}=… (or save it in Settings), then probe again`);
    const prices = effectivePrices(settings.current, target.prices);
    const log = (line: string) => process.stderr.write(`${line}\n`);
    const profileName = compatProfile(target.compat, target.rules).name;
    log(`probing ${target.baseUrl} with ${target.model}, profile ${profileName} …`);
    const report = await runProbe(
      {
        baseUrl: target.baseUrl,
        style: target.style === 'openai' ? 'openai' : 'anthropic',
        key,
        model: target.model,
        profile: target.compat,
        rules: target.rules,
        prices,
      },
      (s) =>
        log(
          `  ${s.shape.padEnd(12)} ${s.verdict}${s.asSent.accepted ? '' : ` — as sent: ${s.asSent.status} ${s.asSent.message?.slice(0, 120) ?? ''}`}`,
        ),
    );
    if (values.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else {
      const cost = report.usd === null ? 'unpriced model' : `$${report.usd.toFixed(4)}`;
      process.stdout.write(
        `${report.ok ? 'OK' : 'NOT ENOUGH'}: profile ${report.provider.profile} on ${report.provider.model} — ${report.requests} requests, ${cost}\n` +
          `  rules needed:     ${report.rules.needed.join(', ') || 'none'}\n` +
          `  rules not needed: ${report.rules.notNeeded.join(', ') || 'none'}\n` +
          (report.rules.missing.length
            ? `  rules missing:    ${report.rules.missing.join(', ')} — use a profile that has them (provider.compat)\n`
            : ''),
      );
    }
    process.exit(report.ok ? 0 : 1);
  },
});
