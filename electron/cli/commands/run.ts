import { resolve } from 'node:path';
import type { RunReport } from '../../shared/contract.ts';
import { DATA_DIR, defineCommand, fail } from '../command.ts';

export const run = defineCommand({
  name: 'run',
  args: '<template.yaml>',
  about: 'Launch a run headless, wait until every session has ended, print a report. Exit 0 only if every session is done.',
  options: {
    repo: { type: 'string', value: 'DIR', help: "the repository (instead of the template's repo)" },
    count: { type: 'string', value: 'N', help: 'sessions (1–64)' },
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
    const { LiveProgress, outputStyle, paint } = await import('../progress.ts');
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
    const log = (line: string) => process.stderr.write(`${line}\n`);
    let dataDir: string;
    try {
      dataDir = await dataDirOf(values);
      // The template is checked before anything starts (no engine, no URL, no worktree for a template that cannot run).
      const settings = await EngineSettings.load(dataDir, process.env);
      await loadTemplateFile(resolve(templatePath), {
        repo: values.repo,
        count,
        knownPrices: effectivePrices(settings.current),
        defaults: settings.current,
      });
    } catch (err) {
      failRun(err);
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
    const engine = await Engine.create({ dataDir, log });
    // On a terminal a live block of one line per session; elsewhere plain lines, one per change.
    const errStyle = outputStyle(process.stderr, process.env);
    const live = errStyle.live ? new LiveProgress(process.stderr, errStyle) : null;
    const say = (line: string) => (live ? live.log(line) : log(line));
    say(`watch it live: ${engine.uiUrl}`);
    engine.on('event', (e) => {
      if (e.event === 'launchProgress') say(`[launch] ${e.progress.message}`);
      if (e.event === 'spend') live?.spend(e.spend.sessionId, e.spend.usd, e.spend.requests);
      if (e.event === 'session') {
        const s = e.session;
        if (live) live.session(s);
        else log(`[slot ${s.slot}] ${s.status}${s.statusDetail ? ` (${s.statusDetail})` : ''}`);
        // A held request waits for the user: say how to let it through from another terminal.
        if (s.status === 'over_budget')
          say(`[slot ${s.slot}]   raise it: flotilla budget ${s.id} <usd>   or decline: flotilla budget ${s.id} --decline`);
      }
    });
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
    live?.end();
    await engine.close();
    if (values.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else {
      const out = outputStyle(process.stdout, process.env);
      const spent = ` — spent ${paint(out, 'bold', `$${report.totals.usd.toFixed(4)}`)} in ${report.totals.requests} request(s)`;
      process.stdout.write(`run ${report.run.name} (${report.run.id})${spent}\n`);
      for (const s of report.sessions)
        process.stdout.write(
          `  slot ${s.slot}  ${paint(out, s.status === 'done' ? 'green' : 'red', s.status.padEnd(8))}  exit ${s.exitCode ?? '-'}  $${s.spend.usd.toFixed(4)}  ${s.branch ?? ''}  ${s.worktree}\n`,
        );
      for (const p of report.providers ?? [])
        process.stdout.write(
          `  provider ${p.provider}: ${p.requests} request(s), TTFT p50 ${p.ttftP50Ms === null ? '—' : `${Math.round(p.ttftP50Ms)} ms`}, ${p.tokensPerSecP50 === null ? '—' : p.tokensPerSecP50.toFixed(0)} tok/s, $${p.usd.toFixed(4)}, ${p.errors} error(s), ${p.failovers} failover(s)\n`,
        );
    }
    const allDone = report.sessions.length > 0 && report.sessions.every((s) => s.status === 'done');
    process.exit(interrupted ? 130 : allDone ? 0 : 1);
  },
});
