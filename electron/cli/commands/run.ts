import { resolve } from 'node:path';
import type { RunReport } from '../../shared/contract.ts';
import type { Template } from '../../engine/templates/index.ts';
import { DATA_DIR, defineCommand, fail } from '../command.ts';

export const run = defineCommand({
  name: 'run',
  args: '<template.yaml>',
  about: 'Launch a run headless, wait until every session has ended, print a report. Exit 0 only if every session is done.',
  options: {
    repo: { type: 'string', value: 'DIR', help: "the repository (instead of the template's repo)" },
    count: { type: 'string', value: 'N', help: 'sessions (1–64)' },
    host: {
      type: 'string',
      value: 'NAME',
      help: "run on a host (flotilla hosts add): its engine, its repo (default: the template's host:)",
    },
    'data-dir': DATA_DIR,
    json: { type: 'boolean', default: false, help: 'the report (or the error) as one JSON document on stdout' },
  },
  example: 'flotilla run .flotilla/templates/lint.yaml --json',
  async run(values, positionals) {
    const { dataDirOf, uiUrl } = await import('../engine-access.ts');
    const { EngineError, toApiError } = await import('../../engine/errors.ts');
    const { findEngine } = await import('../../engine/daemon.ts');
    const { Engine } = await import('../../engine/engine.ts');
    const { EngineSettings } = await import('../../engine/settings/index.ts');
    const { effectivePrices } = await import('../../engine/meter/index.ts');
    const { loadTemplateFile } = await import('../../engine/templates/index.ts');
    const { printReport, runOutput } = await import('../run-output.ts');
    // With --json a failure is one JSON document on stdout too ({"error": {code, message, field?, file?, line?}}).
    function failRun(err: unknown, code = 1): never {
      const e = toApiError(err);
      if (values.json) process.stdout.write(`${JSON.stringify({ error: e }, null, 2)}\n`);
      fail(e.message, code);
    }
    const templatePath = positionals[0];
    if (!templatePath) failRun(new EngineError('bad_request', 'run needs a template: flotilla run <template.yaml>'), 2);
    let count: number | undefined;
    if (values.count !== undefined) {
      count = Number(values.count);
      if (!Number.isInteger(count))
        failRun(new EngineError('bad_request', `--count ${values.count} is not a whole number (1–64)`, { field: 'count' }), 2);
    }
    let dataDir: string;
    let template: Template;
    try {
      dataDir = await dataDirOf(values);
      // The template is checked before anything starts (no engine, no URL, no worktree for a template that cannot run).
      const settings = await EngineSettings.load(dataDir, process.env);
      template = await loadTemplateFile(resolve(templatePath), {
        repo: values.repo,
        count,
        knownPrices: effectivePrices(settings.current),
        defaults: settings.current,
      });
    } catch (err) {
      failRun(err);
    }
    const host = values.host ?? template.host;
    if (host) {
      const { runOnHost } = await import('../remote-run.ts');
      return runOnHost({ dataDir, host, templatePath: resolve(templatePath), template, repo: values.repo, count, json: values.json }).catch(
        (err: unknown) => failRun(err),
      );
    }
    // `run` brings its own engine; the data dir can have only one.
    const running = await findEngine(dataDir);
    if (running)
      failRun(
        new EngineError(
          'engine_running',
          `an engine already serves ${dataDir} (pid ${running.pid}, ${uiUrl(running)}) — launch the template in its dashboard, use another --data-dir, or stop it first: flotilla stop`,
        ),
      );
    const engine = await Engine.create({ dataDir, log: (line) => process.stderr.write(`${line}\n`) });
    const out = runOutput();
    const say = out.say;
    say(`watch it live: ${engine.uiUrl}`);
    engine.on('event', out.event);
    let runId: string | null = null;
    let interrupted = false;
    process.once('SIGINT', () => {
      interrupted = true;
      say('interrupted: stopping sessions…');
      if (runId) void engine.call('stopRun', { runId });
      else void engine.close().then(() => process.exit(130));
    });
    let report: RunReport;
    try {
      const launched = await engine.call('launch', { templatePath: resolve(templatePath), repo: values.repo, count });
      runId = launched.run.id;
      for (const n of launched.notices ?? []) process.stderr.write(`flotilla: note: ${n}\n`);
      await engine.waitForRun(runId);
      report = await engine.call('report', { runId: launched.run.id });
    } catch (err) {
      await engine.close();
      failRun(err);
    }
    out.end();
    await engine.close();
    process.exit(printReport(report, values.json, interrupted));
  },
});
