// What `flotilla run` prints, the same for a local engine and a host's: a line (or a live row) per session change,
// launch progress, and the report at the end. Loaded by the run command's handler only.
import type { EngineEvent, RunReport } from '../shared/contract.ts';
import { LiveProgress, outputStyle, paint } from './progress.ts';

export interface RunOutput {
  /** A log line above the live block (or a plain line). */
  say(line: string): void;
  /** Feeds an engine event (launch progress, spend, session changes). */
  event(e: EngineEvent): void;
  end(): void;
}

export function runOutput(): RunOutput {
  const log = (line: string) => process.stderr.write(`${line}\n`);
  // On a terminal a live block of one line per session; elsewhere plain lines, one per change.
  const errStyle = outputStyle(process.stderr, process.env);
  const live = errStyle.live ? new LiveProgress(process.stderr, errStyle) : null;
  const say = (line: string) => (live ? live.log(line) : log(line));
  return {
    say,
    event(e) {
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
    },
    end: () => live?.end(),
  };
}

/** The report on stdout (JSON with --json); the exit code: 0 only when every session is done (130 when interrupted). */
export function printReport(report: RunReport, json: boolean, interrupted: boolean, where = ''): number {
  if (json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else {
    const out = outputStyle(process.stdout, process.env);
    const spent = ` — spent ${paint(out, 'bold', `$${report.totals.usd.toFixed(4)}`)} in ${report.totals.requests} request(s)`;
    process.stdout.write(`run ${report.run.name} (${report.run.id})${where}${spent}\n`);
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
  return interrupted ? 130 : allDone ? 0 : 1;
}
