// Commands about a host's run or session go to that host's engine (hosts/relay.ts); the rest are this engine's own. The
// lists (runs, sessions, totals) are this machine's and every host's together; a launch goes where its `host` says.
import { COMMAND_NAMES, type CommandName, type SnapshotResult } from '../../shared/contract.ts';
import type { Handlers, StreamContext } from '../api/handlers.ts';
import { appEnv, remoteLaunch, startDetachedApp } from '../open-in.ts';
import type { EngineSettings } from '../settings/index.ts';
import type { HostRelay } from './relay.ts';

/** Sent without waiting for an answer, in order: keystrokes and sizes (as the page sends them). */
const FIRE_AND_FORGET = new Set<CommandName>(['input', 'resize']);

type AnyHandler = (args: never, stream: StreamContext | null) => unknown;
type Loose = Record<string, unknown>;

export function routeToHosts(local: Handlers, relay: HostRelay, o: { env: NodeJS.ProcessEnv; settings: EngineSettings }): Handlers {
  const call = (h: unknown, args: unknown, stream: StreamContext | null) => (h as AnyHandler)(args as never, stream);
  const routed: Record<string, AnyHandler> = {};
  for (const cmd of COMMAND_NAMES)
    routed[cmd] = ((args: Loose, stream: StreamContext | null) => {
      const host = relay.ownerOf(args ?? {});
      if (!host) return call(local[cmd], args, stream);
      const client = relay.client(host);
      if (FIRE_AND_FORGET.has(cmd)) return (client.send(cmd as 'input', args as never), null);
      return client.call(cmd, args as never);
    }) as AnyHandler;

  const own: Partial<Record<CommandName, unknown>> = {
    launch: async (a: Parameters<Handlers['launch']>[0]) => {
      const target = await relay.launchTarget(a);
      return target ? relay.launch(target.host, target.text, a) : local.launch(a);
    },
    listRuns: async () => [...(await local.listRuns({})), ...relay.runs()],
    runTotals: async () => {
      const theirs = await Promise.all(relay.connectedClients().map(([, c]) => c.call('runTotals', {}).catch(() => [])));
      return [...(await local.runTotals({})), ...theirs.flat()];
    },
    listSessions: async (a: { runId?: string }) => {
      const host = relay.ownerOf(a);
      if (host) return (await relay.client(host).call('listSessions', a)).map((s) => ({ ...s, host }));
      return a.runId ? local.listSessions(a) : [...(await local.listSessions(a)), ...relay.sessions()];
    },
    // The host's output relayed as it comes; the page's acknowledgements go back to the host's flow control.
    // The host's engine sends screens for a quiet flood itself (its mirror is there): they are relayed as they come.
    subscribe: async (a: { sessionId: string; quiet?: boolean; refreshMs?: number }, stream: StreamContext) => {
      const host = relay.ownerOf(a);
      if (!host) return local.subscribe(a, stream);
      const { sessionId } = a;
      stream.subscriptions.get(sessionId)?.close();
      stream.forget(sessionId);
      if (a.quiet) stream.setQuiet(sessionId, true, a.refreshMs);
      let ack: ((bytes: number) => void) | null = null;
      let closed = false;
      let snapshot: SnapshotResult | null = null;
      const unsubscribe = await relay.client(host).subscribe(
        sessionId,
        {
          onSnapshot: (s) => (snapshot = s),
          onScreen: (s, bytes) => void (!closed && stream.sendScreen(sessionId, s, bytes)),
          onData: (data, consumed) => {
            ack = consumed;
            if (closed) consumed(data.length);
            else stream.sendOutput(sessionId, data);
          },
        },
        { ...(a.quiet ? { quiet: true } : {}), ...(a.refreshMs !== undefined ? { refreshMs: a.refreshMs } : {}) },
      );
      stream.subscriptions.set(sessionId, {
        ack: (bytes) => ack?.(bytes),
        close: () => {
          if (closed) return;
          closed = true;
          void unsubscribe().catch(() => {}); // the link dropped: nothing to undo there
        },
        hold: () => {}, // (the host's engine decides for its own pty)
      });
      return snapshot as unknown as SnapshotResult;
    },
    unsubscribe: (a: { sessionId: string }, stream: StreamContext) => {
      if (!relay.ownerOf(a)) return local.unsubscribe(a, stream);
      stream.subscriptions.get(a.sessionId)?.close();
      stream.subscriptions.delete(a.sessionId);
      stream.forget(a.sessionId);
      return null;
    },
    pace: (a: { sessionId: string; quiet: boolean; refreshMs?: number }, stream: StreamContext) => {
      const host = relay.ownerOf(a);
      if (!host) return local.pace(a, stream);
      stream.setQuiet(a.sessionId, a.quiet, a.refreshMs);
      relay.client(host).send('pace', a);
      return null;
    },
    // The worktree is on the host: VS Code's Remote-SSH, or a terminal with ssh -t, started here.
    openIn: async (a: { sessionId: string; app: 'editor' | 'terminal' }) => {
      const host = relay.ownerOf(a);
      if (!host) return local.openIn(a);
      const wt = await relay.client(host).call('worktreePath', { sessionId: a.sessionId });
      const l = remoteLaunch(relay.destination(host), wt.path, a.app, {
        platform: process.platform,
        env: o.env,
        terminal: o.settings.current.ui?.terminal,
      });
      await startDetachedApp(l, appEnv(o.env));
      return { command: [l.command, ...l.args].join(' '), path: wt.path };
    },
  };
  return { ...routed, ...own } as unknown as Handlers;
}
