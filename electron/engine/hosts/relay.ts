// The hosts' engines in this engine's grid: one supervised link per host (hosts.json), their runs and sessions kept
// (labelled with the host) so the dashboard lists them beside this machine's, their events passed on, and every
// command about one of their runs or sessions forwarded to the engine that owns it — terminal output included, with
// the page's acknowledgements carried back so flow control holds end to end. A launch on a host starts its engine
// there (installed first when needed) and hands it the provider keys the template names, into memory only.
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import type { EngineClient } from '../../shared/client.ts';
import type { EngineEvent, HostView, LaunchResult, RunInfo, SessionInfo } from '../../shared/contract.ts';
import { EngineError } from '../errors.ts';
import type { EngineSettings } from '../settings/index.ts';
import { parseTemplate, providersOf } from '../templates/index.ts';
import { flotillaRoot } from './bundle.ts';
import { type HostEntry, addHost, noteDesktop, readHosts, removeHost } from './hosts.ts';
import { HostLink, type LinkState } from './link.ts';
import { ON_HOST_ENV } from './remote.ts';
import { SHARE_ENV, closeConnection } from './ssh.ts';

/** Hands each named key this machine has to a host's engine: in its memory only, unless the host stores keys. */
export async function handKeys(
  client: { call: EngineClient['call'] },
  names: Iterable<string>,
  settings: EngineSettings,
  host: HostEntry,
): Promise<void> {
  for (const name of new Set(names)) {
    const value = settings.providerKey(name);
    if (value) await client.call('setProviderKey', { name, value, persist: host.storeKeys === true });
  }
}

/** A template's `host:` (YAML or JSON text), if it names one; text that does not parse names none (launch says why). */
export function templateHost(text: string): string | undefined {
  try {
    const doc = parseYaml(text) as { host?: unknown } | null;
    return typeof doc?.host === 'string' ? doc.host : undefined;
  } catch {
    return undefined;
  }
}

export const onHost = (env: NodeJS.ProcessEnv) => env[ON_HOST_ENV] === '1';

interface Host {
  entry: HostEntry;
  link: HostLink | null;
  view: HostView;
  runs: Map<string, RunInfo>;
  sessions: Map<string, SessionInfo>;
  /** Keys handed to its engine (again on every reconnection: an engine that restarted has none). */
  keys: Set<string>;
  retry: NodeJS.Timeout | null;
  /** A launch there waits for its connection: progress goes to the launch dialog. */
  launching: boolean;
}

export interface RelayOptions {
  dataDir: string;
  env: NodeJS.ProcessEnv;
  settings: EngineSettings;
  emit: (e: EngineEvent) => void;
  log: (line: string) => void;
  /** How long to wait before looking again at a host that could not be reached or runs no engine (default 60 s). */
  recheckMs?: number;
}

export class HostRelay {
  private readonly hosts = new Map<string, Host>();
  private closed = false;

  /** ssh calls of a long-lived engine share one connection per host (ControlMaster; ended on close). */
  private readonly sshEnv: NodeJS.ProcessEnv;

  constructor(private readonly o: RelayOptions) {
    this.sshEnv = { ...o.env, [SHARE_ENV]: '1' };
  }

  /** Connects to every added host that runs an engine (nothing is started there until a launch). */
  start(): void {
    let entries: HostEntry[];
    try {
      entries = readHosts(this.o.dataDir);
    } catch (err) {
      this.o.log(`hosts: ${(err as Error).message}`);
      return;
    }
    for (const entry of entries) this.track(entry);
  }

  private track(entry: HostEntry): Host {
    const host: Host = {
      entry,
      link: null,
      view: { name: entry.name, destination: entry.destination, state: 'connecting', attempt: null, message: null, version: null },
      runs: new Map(),
      sessions: new Map(),
      keys: new Set(),
      retry: null,
      launching: false,
    };
    this.hosts.set(entry.name, host);
    void this.connect(host, false).catch(() => {});
    return host;
  }

  private setView(host: Host, patch: Partial<HostView>): void {
    host.view = { ...host.view, ...patch };
    this.o.emit({ type: 'event', event: 'host', host: host.view });
  }

  private onState(host: Host, s: LinkState): void {
    if (s.state === 'connected') this.setView(host, { state: 'connected', attempt: null, message: null, version: s.engine.version });
    else if (s.state === 'reconnecting') this.setView(host, { state: 'reconnecting', attempt: s.attempt, message: s.message });
  }

  /** Reaches the host's engine (starting it when `start`); a failure leaves the host unavailable, looked at again later. */
  private async connect(host: Host, start: boolean): Promise<EngineClient> {
    if (host.link) {
      if (start) host.link.allowStart();
      if (host.view.state === 'connected' || host.view.state === 'reconnecting') return host.link.ready();
    }
    if (host.retry) clearTimeout(host.retry);
    host.retry = null;
    const link =
      host.link ??
      new HostLink(this.o.dataDir, host.entry, {
        root: flotillaRoot(),
        env: this.sshEnv,
        start,
        progress: (line) => {
          this.o.log(`${host.entry.name}: ${line}`);
          // A launch waiting for the host (checked, installed, started) shows each step in the dialog.
          if (host.launching)
            this.o.emit({
              type: 'event',
              event: 'launchProgress',
              progress: { runId: '', phase: 'validating', done: 0, total: 0, message: line },
            });
        },
        onConnect: async (client) => {
          await handKeys(client, host.keys, this.o.settings, host.entry);
          await noteDesktop(this.o.dataDir, host.entry, this.sshEnv).catch(() => []);
          await this.resync(host, client);
        },
      });
    if (!host.link) {
      host.link = link;
      link.on('state', (s) => this.onState(host, s));
      link.on('event', (e) => this.onRemoteEvent(host, e));
    }
    if (start) link.allowStart();
    try {
      return await link.connect();
    } catch (err) {
      const e = err as EngineError;
      this.setView(host, { state: e.code === 'no_engine' ? 'no_engine' : 'unavailable', message: e.message, attempt: null });
      if (!this.closed) host.retry = setTimeout(() => void this.connect(host, false).catch(() => {}), this.o.recheckMs ?? 60_000).unref();
      throw err;
    }
  }

  /** After each (re)connection: the host's runs and sessions as they are now, passed on as events. */
  private async resync(host: Host, client: EngineClient): Promise<void> {
    const [runs, sessions] = await Promise.all([client.call('listRuns', {}), client.call('listSessions', {})]);
    host.runs = new Map(runs.map((r) => [r.id, { ...r, host: host.entry.name }]));
    host.sessions = new Map(sessions.map((s) => [s.id, { ...s, host: host.entry.name }]));
    for (const run of host.runs.values()) this.o.emit({ type: 'event', event: 'run', run });
    for (const session of host.sessions.values()) this.o.emit({ type: 'event', event: 'session', session });
  }

  private onRemoteEvent(host: Host, e: EngineEvent): void {
    if (e.event === 'run') {
      const run = { ...e.run, host: host.entry.name };
      host.runs.set(run.id, run);
      return this.o.emit({ ...e, run });
    }
    if (e.event === 'session') {
      const session = { ...e.session, host: host.entry.name };
      host.sessions.set(session.id, session);
      return this.o.emit({ ...e, session });
    }
    // Its own health and rate governor are its own: this engine's panels show this machine's.
    if (e.event === 'health' || e.event === 'governor' || e.event === 'host') return;
    this.o.emit(e);
  }

  /** The host that owns a run or session id, if one does. */
  ownerOf(args: { sessionId?: unknown; runId?: unknown }): string | null {
    for (const h of this.hosts.values())
      if (
        (typeof args.sessionId === 'string' && h.sessions.has(args.sessionId)) ||
        (typeof args.runId === 'string' && h.runs.has(args.runId))
      )
        return h.entry.name;
    return null;
  }

  /** The host's client now, or an error saying it is away (its sessions carry on there). */
  client(name: string): EngineClient {
    const host = this.hosts.get(name);
    const client = host?.link?.connected;
    if (!client) {
      const why = host?.view.message ?? `${name} is not connected`;
      throw new EngineError('host_unreachable', `${why} — its sessions carry on there; try again once it is back`);
    }
    return client;
  }

  runs(): RunInfo[] {
    return [...this.hosts.values()].flatMap((h) => [...h.runs.values()]);
  }

  sessions(): SessionInfo[] {
    return [...this.hosts.values()].flatMap((h) => [...h.sessions.values()]);
  }

  connectedClients(): [string, EngineClient][] {
    return [...this.hosts.keys()].flatMap((name) => {
      try {
        return [[name, this.client(name)] as [string, EngineClient]];
      } catch {
        return [];
      }
    });
  }

  destination(name: string): string {
    const host = this.hosts.get(name);
    if (!host) throw new EngineError('not_found', `no host named ${name}`);
    return host.entry.destination;
  }

  list(): HostView[] {
    return [...this.hosts.values()].map((h) => h.view);
  }

  async add(name: string, destination: string): Promise<HostView> {
    const entry = await addHost(this.o.dataDir, name, destination);
    const host = this.track(entry);
    return host.view;
  }

  async remove(name: string): Promise<void> {
    await removeHost(this.o.dataDir, name, this.o.env); // ends its shared connection too
    const host = this.hosts.get(name);
    if (!host) return;
    this.hosts.delete(name);
    if (host.retry) clearTimeout(host.retry);
    await host.link?.close();
  }

  /**
   * The host a launch goes to (its `host` argument, else the template's `host:`), or null for this machine. A template
   * file is read here: the host's engine gets its text.
   */
  async launchTarget(args: {
    host?: string;
    templatePath?: string;
    templateText?: string;
  }): Promise<{ host: string; text: string } | null> {
    if (args.host === undefined && args.templatePath === undefined && args.templateText === undefined) return null;
    const text = args.templateText ?? (args.templatePath ? await readFile(args.templatePath, 'utf8').catch(() => null) : null);
    let host = args.host;
    // The template's `host:` names where the run goes from a desktop; the host's own engine is that place.
    if (host === undefined && text !== null && !onHost(this.o.env)) host = templateHost(text);
    if (!host) return null;
    if (!this.hosts.has(host)) {
      const known = [...this.hosts.keys()];
      throw new EngineError(
        'not_found',
        `no host named ${host}${known.length ? ` (known: ${known.join(', ')})` : ''} — add it in Settings → Hosts, or: flotilla hosts add ${host} <user@host>`,
        { field: 'host' },
      );
    }
    if (text === null)
      throw new EngineError('bad_request', 'a launch on a host needs the template: templatePath (readable here) or templateText', {
        field: 'templatePath',
      });
    return { host, text };
  }

  /** Launches on a host: its engine started (and installed) when needed, the template's keys handed over first. */
  async launch(
    name: string,
    text: string,
    args: { repo?: string; count?: number; overrides?: Record<string, unknown> },
  ): Promise<LaunchResult> {
    const host = this.hosts.get(name) as Host;
    const t = parseTemplate(text, '', { defaults: this.o.settings.current, count: args.count, repo: args.repo ?? '.' });
    for (const p of providersOf(t)) host.keys.add(p.apiKeyEnv);
    host.launching = true;
    const client = await this.connect(host, true).finally(() => (host.launching = false));
    await handKeys(client, host.keys, this.o.settings, host.entry);
    const launched = await client.call('launch', { templateText: text, repo: args.repo, count: args.count, overrides: args.overrides });
    const run = { ...launched.run, host: name };
    const sessions = launched.sessions.map((s) => ({ ...s, host: name }));
    host.runs.set(run.id, run);
    for (const s of sessions) host.sessions.set(s.id, s);
    return { ...launched, run, sessions };
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(
      [...this.hosts.values()].map(async (h) => {
        if (h.retry) clearTimeout(h.retry);
        await h.link?.close();
        if (h.link) await closeConnection(this.o.dataDir, h.entry.destination, this.o.env);
      }),
    );
  }
}
