// The `flotilla` commands (loaded only when one runs: `flotilla --help` and `<command> --help` never load this file, so
// no native module and no SQLite). Logs go to stderr; with --json, stdout carries exactly one JSON document.
import { parseArgs } from 'node:util';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import { type CleanResult, type CommandCaller, type PriceOverrides, type RunInfo, type RunReport, type SessionInfo, isFinalStatus } from '../shared/contract.ts';
import { HttpEngineClient } from '../shared/client.ts';
import { Engine } from '../engine/engine.ts';
import { LOG_DIR, engineLogger, tailLog } from '../engine/logs.ts';
import { findEngine, startDetached, stopEngine, type EngineFile } from '../engine/daemon.ts';
import { Store, defaultDataDir, ensureDataDir } from '../engine/store/index.ts';
import { runGit } from '../engine/workspace/index.ts';
import { EngineError, toApiError } from '../engine/errors.ts';
import { runDoctor } from '../engine/doctor.ts';
import { LiveProgress, outputStyle, paint } from './progress.ts';
import { COMPAT_PROFILES, RULE_IDS, compatProfile, effectivePrices } from '../engine/meter/index.ts';
import { runProbe } from '../engine/probe/index.ts';
import { EngineSettings } from '../engine/settings/index.ts';
import { PROVIDER_PRESETS, compatOf, loadTemplateFile, providerSpec, type ProviderPresetName } from '../engine/templates/index.ts';


const here = dirname(fileURLToPath(import.meta.url));
/** The checkout or the packaged app: electron/cli/ from source, dist/electron/ bundled — two levels up either way. */
const root = resolve(here, '..', '..');

function fail(message: string, code = 2): never {
  process.stderr.write(`flotilla: ${message}\n`);
  process.exit(code);
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function parsePort(value: string | undefined): number {
  if (value === undefined) return 0;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port ${value} is not a port number (0–65535; 0 picks a free one)`);
  return port;
}

function builtUiDir(): string | null {
  const dir = resolve(root, 'dist', 'renderer');
  return existsSync(join(dir, 'index.html')) ? dir : null;
}

async function serve(argv: string[]): Promise<Engine> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      host: { type: 'string', default: '127.0.0.1' },
      'data-dir': { type: 'string' },
    },
  });
  const host = values.host!;
  if (!isLoopback(host)) fail(`--host ${host} is not a loopback address — Flotilla listens on 127.0.0.1 only; reach it remotely through an SSH tunnel`);
  const dataDir = await ensureDataDir(values['data-dir'] ?? defaultDataDir());
  const running = await findEngine(dataDir);
  if (running)
    fail(`an engine already serves ${dataDir} (pid ${running.pid}): ${uiUrl(running)} — open that, or stop it first with: flotilla stop --data-dir ${dataDir}`, 1);
  let token = '';
  const engine = await Engine.create({
    dataDir,
    host,
    port: parsePort(values.port),
    staticDir: builtUiDir(),
    log: engineLogger(dataDir, 'engine', process.env, () => (token ? [token] : [])),
  });
  token = engine.token;
  // Started by `open`, stdout is the engine's log: no token there (clients read it from engine.json, mode 0600).
  if (process.env.FLOTILLA_DETACHED === '1') process.stdout.write(`Flotilla is running: ${engine.origin} (pid ${process.pid}, data dir ${dataDir})\n`);
  else process.stdout.write(`Flotilla is running: ${engine.uiUrl}\n`);
  const shutdown = async () => {
    process.stderr.write('stopping sessions…\n');
    await engine.close();
    process.exit(0);
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
  return engine;
}

async function demo(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      count: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string', default: '127.0.0.1' },
      'data-dir': { type: 'string' },
    },
  });
  let count: number | undefined;
  if (values.count !== undefined) {
    count = Number(values.count);
    if (!Number.isInteger(count) || count < 1 || count > 16) fail(`--count ${values.count} is not a whole number from 1 to 16`);
  }
  const serveArgs = ['--host', values.host!];
  if (values.port !== undefined) serveArgs.push('--port', values.port);
  if (values['data-dir'] !== undefined) serveArgs.push('--data-dir', values['data-dir']);
  const engine = await serve(serveArgs);
  const result = await engine.call('demo', { count });
  process.stdout.write(
    `Demo launched: ${result.sessions.length} demo agent(s) talking to a SIMULATED K2 provider (no real model, no API key).\n` +
      `Scratch repository: ${result.run.repo}\n` +
      `Open ${engine.uiUrl}\n`,
  );
}

async function run(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      repo: { type: 'string' },
      count: { type: 'string' },
      'data-dir': { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
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
    if (!Number.isInteger(count)) failRun(new EngineError('bad_request', `--count ${values.count} is not a whole number (1–64)`, { field: 'count' }), 2);
  }
  const log = (line: string) => process.stderr.write(`${line}\n`);
  let dataDir: string;
  try {
    dataDir = await ensureDataDir(values['data-dir'] ?? defaultDataDir());
    // The template is checked before anything starts (no engine, no URL, no worktree for a template that cannot run).
    const settings = await EngineSettings.load(dataDir, process.env);
    await loadTemplateFile(resolve(templatePath), { repo: values.repo, count, knownPrices: effectivePrices(settings.current) });
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
      if (s.status === 'over_budget') say(`[slot ${s.slot}]   raise it: flotilla budget ${s.id} <usd>   or decline: flotilla budget ${s.id} --decline`);
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
  }
  const allDone = report.sessions.length > 0 && report.sessions.every((s) => s.status === 'done');
  process.exit(interrupted ? 130 : allDone ? 0 : 1);
}

/** A running engine on this data dir, from the file it leaves there (its store is exclusive while it runs). */
async function runningEngine(dataDir: string): Promise<CommandCaller | null> {
  const info = await findEngine(dataDir);
  return info ? new HttpEngineClient({ origin: info.origin, token: info.token }, fetch) : null;
}

const uiUrl = (e: EngineFile) => `${e.origin}/?token=${e.token}`;

/** How `open` starts an engine detached: this CLI's own `serve`, through the same Node and loader. */
function serveCommand(dataDir: string, port: string | undefined): { command: string; args: string[]; env: NodeJS.ProcessEnv } {
  const bin = resolve(root, 'bin', 'flotilla.js');
  const args = [...process.execArgv, bin, 'serve', '--data-dir', dataDir];
  if (port !== undefined) args.push('--port', port);
  return { command: process.execPath, args, env: { ...process.env, FLOTILLA_DETACHED: '1' } };
}

/** The OS's way of opening a URL in the default browser; a failure only means the user opens it by hand. */
function openBrowser(url: string): void {
  const [cmd, args] =
    process.platform === 'darwin' ? ['open', [url]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '', url]] : ['xdg-open', [url]];
  try {
    const child = spawn(cmd, args as string[], { detached: true, stdio: 'ignore' });
    child.on('error', () => process.stderr.write(`could not open a browser (${cmd}); open the URL above by hand\n`));
    child.unref();
  } catch {
    process.stderr.write('could not open a browser; open the URL above by hand\n');
  }
}

async function open(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { 'data-dir': { type: 'string' }, port: { type: 'string' }, 'no-browser': { type: 'boolean', default: false } },
  });
  if (values.port !== undefined) parsePort(values.port);
  const dataDir = await ensureDataDir(values['data-dir'] ?? defaultDataDir());
  let info = await findEngine(dataDir);
  if (info) process.stderr.write(`an engine already serves ${dataDir} (pid ${info.pid}, since ${info.startedAt || 'unknown'})\n`);
  else {
    process.stderr.write(`starting the engine for ${dataDir} in the background…\n`);
    info = await startDetached(dataDir, serveCommand(dataDir, values.port));
    process.stderr.write(`engine started (pid ${info.pid}); its log: flotilla logs${values['data-dir'] ? ` --data-dir ${dataDir}` : ''}; stop it with: flotilla stop${values['data-dir'] ? ` --data-dir ${dataDir}` : ''}\n`);
  }
  process.stdout.write(`${uiUrl(info)}\n`);
  if (!values['no-browser']) openBrowser(uiUrl(info));
}

async function status(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { 'data-dir': { type: 'string' }, json: { type: 'boolean', default: false } } });
  const dataDir = await ensureDataDir(values['data-dir'] ?? defaultDataDir());
  const info = await findEngine(dataDir);
  let live = 0;
  let needYou = 0;
  if (info) {
    const sessions = await new HttpEngineClient({ origin: info.origin, token: info.token }, fetch).call('listSessions', {});
    live = sessions.filter((s) => !isFinalStatus(s.status)).length;
    needYou = sessions.filter((s) => s.status === 'needs_you' || s.status === 'over_budget' || s.status === 'rejected').length;
  }
  if (values.json) {
    const out = info ? { running: true, dataDir, pid: info.pid, since: info.startedAt, url: uiUrl(info), liveSessions: live, needYou } : { running: false, dataDir };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } else if (info) {
    process.stdout.write(
      `running since ${info.startedAt || 'unknown'} (pid ${info.pid}) for ${dataDir}\n  ${live} live session(s)${needYou ? `, ${needYou} need you` : ''}\n  ${uiUrl(info)}\n`,
    );
  } else process.stdout.write(`no engine runs for ${dataDir} — start one with: flotilla open\n`);
  process.exit(info ? 0 : 3);
}

async function stop(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { 'data-dir': { type: 'string' } } });
  const dataDir = await ensureDataDir(values['data-dir'] ?? defaultDataDir());
  process.stderr.write(`stopping the engine for ${dataDir} and its sessions…\n`);
  const stopped = await stopEngine(dataDir);
  process.stdout.write(stopped ? `stopped the engine (pid ${stopped.pid}) and its sessions\n` : `no engine runs for ${dataDir}; nothing to stop\n`);
}

async function runs(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { 'data-dir': { type: 'string' }, json: { type: 'boolean', default: false } } });
  const dataDir = await ensureDataDir(values['data-dir'] ?? defaultDataDir());
  let list: (RunInfo & { sessions: SessionInfo[] })[];
  const engine = await runningEngine(dataDir);
  if (engine) {
    const all = await engine.call('listRuns', {});
    const sessions = await engine.call('listSessions', {});
    list = all.map((r) => ({ ...r, sessions: sessions.filter((s) => s.runId === r.id) }));
  } else {
    const store = Store.open(dataDir);
    try {
      // Runs whose engine died are shown as what they are now: ended, their sessions stopped.
      store.reconcileAfterRestart();
      store.interruptOpenUsage();
      list = store.listRuns().map((r) => ({ ...r, sessions: store.listSessions(r.id) }));
    } finally {
      store.close();
    }
  }
  if (values.json) return void process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
  if (list.length === 0) return void process.stdout.write('no runs yet — start one with: flotilla run <template.yaml>\n');
  for (const r of list) {
    process.stdout.write(`${r.startedAt}  ${r.name}  ${r.state}  ${r.id}\n`);
    for (const s of r.sessions)
      process.stdout.write(`    slot ${s.slot}  ${s.status}${isFinalStatus(s.status) ? '' : '*'}  ${s.worktree}\n`);
  }
}

/** Worktrees of these sessions that still exist, and which of them hold uncommitted work (git status). */
async function worktreeState(sessions: SessionInfo[]): Promise<{ present: SessionInfo[]; dirty: SessionInfo[] }> {
  const present = sessions.filter((s) => existsSync(s.worktree));
  const dirty: SessionInfo[] = [];
  for (const s of present) {
    const st = await runGit(s.worktree, ['status', '--porcelain', '--untracked-files=normal'], { okExits: [0, 128] }).catch(() => null);
    if (st && st.code === 0 && st.stdout.trim()) dirty.push(s);
  }
  return { present, dirty };
}

/** A yes/no question on the terminal (default no). */
async function confirm(question: string): Promise<boolean> {
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

async function clean(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { 'data-dir': { type: 'string' }, yes: { type: 'boolean', default: false }, 'dry-run': { type: 'boolean', default: false } },
  });
  const runId = positionals[0];
  if (!runId) fail('clean needs a run id (see: flotilla runs)');
  const dataDir = await ensureDataDir(values['data-dir'] ?? defaultDataDir());
  await withEngine(dataDir, async (engine) => {
    const run = (await engine.call('listRuns', {})).find((r) => r.id === runId);
    if (!run) fail(`no run with id ${runId} (see: flotilla runs)`, 1);
    const sessions = await engine.call('listSessions', { runId });
    const { present, dirty } = run.workspace === 'worktree' ? await worktreeState(sessions) : { present: [], dirty: [] };
    if (values['dry-run']) {
      process.stdout.write(
        run.workspace !== 'worktree'
          ? `run ${run.name} works in a shared checkout: nothing to remove\n`
          : `would remove ${present.length} worktree(s) and the run's branches (flotilla/${run.slug}/*):\n` +
              present.map((s) => `  slot ${s.slot}  ${s.worktree}${dirty.includes(s) ? '  (uncommitted work)' : ''}\n`).join(''),
      );
      return;
    }
    if (dirty.length && !values.yes) {
      const list = dirty.map((s) => `slot ${s.slot}`).join(', ');
      if (!process.stdin.isTTY) fail(`${dirty.length} worktree(s) hold uncommitted work (${list}) — pass --yes to remove them anyway, or --dry-run to see them`, 1);
      if (!(await confirm(`${dirty.length} worktree(s) hold uncommitted work (${list}). Remove them with the rest?`))) fail('nothing removed', 1);
    }
    const r: CleanResult = await engine.call('cleanRun', { runId });
    process.stdout.write(`removed ${r.removedWorktrees} worktree(s) and ${r.removedBranches} branch(es)\n`);
  });
}

/**
 * Runs `fn` against the data dir's running engine, or an engine of its own for the call (closed after). `running` says
 * which, for commands whose answer differs (nothing is held without a running engine).
 */
async function withEngine<T>(dataDir: string, fn: (engine: CommandCaller, running: boolean) => Promise<T>): Promise<T> {
  const running = await runningEngine(dataDir);
  if (running) return fn(running, true);
  const own = await Engine.create({ dataDir });
  try {
    return await fn(own, false);
  } finally {
    await own.close();
  }
}

async function budget(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { 'data-dir': { type: 'string' }, decline: { type: 'boolean', default: false } },
  });
  const [id, amount] = positionals;
  if (!id) fail('budget needs a session or run id (see: flotilla runs): flotilla budget <id> <usd> | flotilla budget <session-id> --decline');
  const dataDir = await ensureDataDir(values['data-dir'] ?? defaultDataDir());
  await withEngine(dataDir, async (engine, running) => {
    const sessions = await engine.call('listSessions', {});
    const session = sessions.find((s) => s.id === id);
    if (values.decline) {
      if (!session) fail(`--decline needs a session id; ${id} is not one (see: flotilla runs)`);
      if (!running) fail('no engine is running for this data dir, so nothing is held');
      await engine.call('declineBudget', { sessionId: id });
      return void process.stdout.write(`declined: session ${session.slot}'s held requests got the budget error\n`);
    }
    const usd = Number(amount);
    if (amount === undefined || !Number.isFinite(usd) || usd <= 0) fail(`budget needs an amount in US dollars above 0, e.g. flotilla budget ${id} 5 (got ${amount ?? 'none'})`);
    await engine.call('raiseBudget', session ? { sessionId: id, usd } : { runId: id, usd });
    process.stdout.write(`${session ? `session ${session.slot}` : `run ${id}`}: budget $${usd.toFixed(2)}${running ? ' — held requests it covers go on now' : ' (kept for its next start)'}\n`);
  });
}

async function probe(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      provider: { type: 'string' },
      model: { type: 'string' },
      compat: { type: 'string' },
      'rules-on': { type: 'string' },
      'rules-off': { type: 'string' },
      'base-url': { type: 'string' },
      'key-env': { type: 'string' },
      'data-dir': { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const dataDir = values['data-dir'] ?? defaultDataDir();
  let target: {
    baseUrl: string;
    style: string;
    apiKeyEnv: string;
    model: string;
    compat: string;
    rules: { on: string[]; off: string[] };
    prices: PriceOverrides | undefined;
  };
  if (positionals[0]) {
    const t = await loadTemplateFile(resolve(positionals[0]));
    const rules = t.provider.compatRules ?? { on: [], off: [] };
    target = { baseUrl: t.provider.baseUrl, style: t.provider.style, apiKeyEnv: t.provider.apiKeyEnv, model: t.model, compat: compatOf(t), rules, prices: t.prices };
  } else {
    const preset = values.provider ?? 'moonshot';
    if (!(PROVIDER_PRESETS as readonly string[]).includes(preset)) fail(`--provider ${preset} is not a provider preset — use one of ${PROVIDER_PRESETS.join(', ')}`);
    const spec = providerSpec(preset as ProviderPresetName);
    const baseUrl = values['base-url'] ?? spec.baseUrl;
    if (!baseUrl) fail(`--provider ${preset} needs --base-url (the provider's Anthropic-style base URL)`);
    target = { baseUrl, style: spec.style, apiKeyEnv: spec.apiKeyEnv, model: spec.defaultModel, compat: spec.compat, rules: { on: [], off: [] }, prices: undefined };
  }
  if (values.model) target.model = values.model;
  if (values.compat) target.compat = values.compat;
  if (values['base-url']) target.baseUrl = values['base-url'];
  if (values['key-env']) target.apiKeyEnv = values['key-env'];
  if (!COMPAT_PROFILES.includes(target.compat)) fail(`--compat ${target.compat} is not a compat profile — use one of ${COMPAT_PROFILES.join(', ')}`);
  for (const side of ['on', 'off'] as const) {
    const list = values[`rules-${side}`];
    if (list === undefined) continue;
    for (const id of list.split(',').map((r) => r.trim()).filter(Boolean)) {
      if (!RULE_IDS.includes(id)) fail(`--rules-${side} ${id} is not a compat rule — use one of ${RULE_IDS.join(', ')}`);
      target.rules[side].push(id);
    }
  }
  const both = target.rules.on.find((id) => target.rules.off.includes(id));
  if (both) fail(`compat rule ${both} is both on and off — keep it in one of --rules-on / --rules-off`);
  if (target.style !== 'anthropic')
    fail(`probe sends Claude Code's request shapes, so it needs an Anthropic-style provider (${target.baseUrl} is ${target.style}) — e.g. --provider moonshot`);
  const settings = await EngineSettings.load(await ensureDataDir(dataDir), process.env);
  const key = settings.providerKey(target.apiKeyEnv);
  if (!key) fail(`${target.apiKeyEnv} is not set — export ${target.apiKeyEnv}=… (or save it in Settings), then probe again`);
  const prices = effectivePrices(settings.current, target.prices);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const profileName = compatProfile(target.compat, target.rules).name;
  log(`probing ${target.baseUrl} with ${target.model}, profile ${profileName} …`);
  const report = await runProbe({ baseUrl: target.baseUrl, key, model: target.model, profile: target.compat, rules: target.rules, prices }, (s) =>
    log(`  ${s.shape.padEnd(12)} ${s.verdict}${s.asSent.accepted ? '' : ` — as sent: ${s.asSent.status} ${s.asSent.message?.slice(0, 120) ?? ''}`}`),
  );
  if (values.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else {
    const cost = report.usd === null ? 'unpriced model' : `$${report.usd.toFixed(4)}`;
    process.stdout.write(
      `${report.ok ? 'OK' : 'NOT ENOUGH'}: profile ${report.provider.profile} on ${report.provider.model} — ${report.requests} requests, ${cost}\n` +
        `  rules needed:     ${report.rules.needed.join(', ') || 'none'}\n` +
        `  rules not needed: ${report.rules.notNeeded.join(', ') || 'none'}\n` +
        (report.rules.missing.length ? `  rules missing:    ${report.rules.missing.join(', ')} — use a profile that has them (provider.compat)\n` : ''),
    );
  }
  process.exit(report.ok ? 0 : 1);
}

async function doctor(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { 'data-dir': { type: 'string' }, json: { type: 'boolean', default: false } } });
  const checks = await runDoctor({ dataDir: values['data-dir'] ?? defaultDataDir(), env: process.env });
  const ok = !checks.some((c) => !c.ok && c.required);
  if (values.json) process.stdout.write(`${JSON.stringify({ ok, checks }, null, 2)}\n`);
  else {
    const out = outputStyle(process.stdout, process.env);
    const mark = (c: (typeof checks)[number]) => (c.ok ? paint(out, 'green', '✓') : c.required ? paint(out, 'red', '✗') : paint(out, 'yellow', '!'));
    for (const c of checks) process.stdout.write(`${mark(c)} ${c.name}: ${c.detail}\n`);
  }
  process.exit(ok ? 0 : 1);
}

async function logs(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { 'data-dir': { type: 'string' }, lines: { type: 'string', short: 'n', default: '50' }, follow: { type: 'boolean', short: 'f', default: false } } });
  const n = Number(values.lines);
  if (!Number.isInteger(n) || n < 1) fail(`--lines ${values.lines} is not a whole number above 0`);
  const dataDir = await ensureDataDir(values['data-dir'] ?? defaultDataDir());
  const shown = tailLog(dataDir, 'engine', n);
  if (shown.length === 0 && !values.follow) return void process.stdout.write(`no engine log yet in ${join(dataDir, LOG_DIR)}\n`);
  for (const l of shown) process.stdout.write(`${l}\n`);
  if (!values.follow) return;
  // Follow: print what is appended, across rotations, until Ctrl-C.
  let last = shown.at(-1) ?? '';
  for (;;) {
    await new Promise((r) => setTimeout(r, 500));
    const now = tailLog(dataDir, 'engine', 200);
    const from = last ? now.lastIndexOf(last) + 1 : 0;
    for (const l of now.slice(from)) process.stdout.write(`${l}\n`);
    if (now.length) last = now.at(-1)!;
  }
}

/** Every command, by name (the dispatcher in ../cli.ts loads this module only to run one). */
export const COMMANDS: Record<string, (argv: string[]) => Promise<unknown>> = {
  serve,
  open,
  status,
  stop,
  demo,
  run,
  runs,
  clean,
  doctor,
  probe,
  budget,
  logs,
};

export { fail };
