// `flotilla run --host <name>` and `flotilla status --host <name>`: the same as locally, against the engine on a host
// (installed and started there when needed), through a tunnel that heals. The provider keys the template names go to
// that engine over the tunnel and stay in its memory: they are never written to the host's disk.
import { readFile } from 'node:fs/promises';
import type { EngineClient } from '../shared/client.ts';
import { type RunReport, isFinalStatus } from '../shared/contract.ts';
import { findHost, noteDesktop } from '../engine/hosts/index.ts';
import { HostLink } from '../engine/hosts/link.ts';
import { handKeys } from '../engine/hosts/relay.ts';
import { EngineSettings } from '../engine/settings/index.ts';
import { type Template, providersOf } from '../engine/templates/index.ts';
import { root } from './engine-access.ts';
import { printReport, runOutput } from './run-output.ts';

export interface HostRun {
  dataDir: string;
  host: string;
  templatePath: string;
  template: Template;
  repo: string | undefined;
  count: number | undefined;
  json: boolean;
}

/** Every session of the run has ended (asked again after each reconnection: events during a drop are not replayed). */
async function ended(client: EngineClient, runId: string): Promise<boolean> {
  const sessions = await client.call('listSessions', { runId });
  return sessions.length > 0 && sessions.every((s) => isFinalStatus(s.status));
}

export async function runOnHost(r: HostRun): Promise<never> {
  const entry = findHost(r.dataDir, r.host);
  const settings = await EngineSettings.load(r.dataDir, process.env);
  const keyNames = providersOf(r.template).map((p) => p.apiKeyEnv);
  const out = runOutput();
  const link = new HostLink(r.dataDir, entry, {
    root,
    env: process.env,
    progress: out.say,
    onConnect: async (client) => {
      await handKeys(client, keyNames, settings, entry);
      await noteDesktop(r.dataDir, entry, process.env).catch(() => []);
    },
  });
  link.on('event', out.event);
  let runId: string | null = null;
  let wake: () => void = () => {};
  link.on('event', (e) => {
    if (e.event === 'session' && e.session.runId === runId) wake();
  });
  link.on('state', (s) => {
    if (s.state === 'reconnecting') out.say(`${s.message} — its sessions go on there`);
    if (s.state === 'connected' && runId) {
      out.say(`${entry.name}: connected again`);
      wake();
    }
  });
  let interrupted = false;
  process.once('SIGINT', () => {
    interrupted = true;
    out.say(`interrupted: stopping the sessions on ${entry.name}…`);
    if (runId) void link.ready().then((c) => c.call('stopRun', { runId: runId as string }));
    else void link.close().then(() => process.exit(130));
  });
  try {
    const client = await link.connect();
    out.say(`${entry.name}: engine ${link.state.state === 'connected' ? link.state.engine.version : ''} connected`);
    const text = await readFile(r.templatePath, 'utf8');
    const launched = await client.call('launch', { templateText: text, repo: r.repo, count: r.count });
    runId = launched.run.id;
    for (const n of launched.notices ?? []) process.stderr.write(`flotilla: note: ${n}\n`);
    for (;;) {
      const woken = new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 5000).unref();
      });
      const c = await link.ready();
      if (await ended(c, runId).catch(() => false)) break;
      await woken;
    }
    const report: RunReport = await (await link.ready()).call('report', { runId });
    out.end();
    await link.close();
    process.exit(printReport(report, r.json, interrupted, ` on ${entry.name}`));
  } catch (err) {
    out.end();
    await link.close();
    throw err;
  }
}
