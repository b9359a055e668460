// A host's session seen through this engine: the host's engine makes the screens of a quiet flood (its mirror is there);
// this one relays them to the page in order with the output, passes the page's refresh on, and makes none of its own.
import { describe, expect, it } from 'vitest';
import type { Handlers, StreamContext } from '../../electron/engine/api/index.ts';
import { OutputPacer } from '../../electron/engine/api/output-pacer.ts';
import type { HostRelay } from '../../electron/engine/hosts/relay.ts';
import { routeToHosts } from '../../electron/engine/hosts/routed.ts';
import type { EngineSettings } from '../../electron/engine/settings/index.ts';
import { type SnapshotResult, decodeFrame } from '../../electron/shared/contract.ts';

type HostHandlers = {
  onSnapshot?: (s: SnapshotResult) => void;
  onScreen?: (s: SnapshotResult, bytes: number) => void;
  onData: (d: Uint8Array, consumed: (n: number) => void) => void;
};

describe("a host's screens, relayed", () => {
  it('reach the page as Screen frames in order; subscribe and pace carry the refresh to the host', async () => {
    let host: HostHandlers | null = null;
    const told: unknown[] = [];
    const client = {
      subscribe: async (sessionId: string, h: HostHandlers, opts: unknown) => {
        told.push(['subscribe', sessionId, opts]);
        host = h;
        h.onSnapshot?.({ sessionId, cols: 80, rows: 24, data: 'first' });
        return async () => void told.push(['unsubscribe', sessionId]);
      },
      send: (cmd: string, args: unknown) => void told.push([cmd, args]),
    };
    const relay = { ownerOf: (a: { sessionId?: string }) => (a.sessionId === 'remote' ? 'box' : null), client: () => client };
    const local = new Proxy({} as Handlers, {
      get: () => () => {
        throw new Error('a local handler was called for a host session');
      },
    });
    const routed = routeToHosts(local, relay as unknown as HostRelay, { env: {}, settings: {} as EngineSettings });

    const frames: ReturnType<typeof decodeFrame>[] = [];
    const pacer = new OutputPacer((f) => frames.push(decodeFrame(f)));
    const stream: StreamContext = {
      subscriptions: new Map(),
      sendOutput: (id, d) => pacer.output(id, d),
      sendScreen: (id, s, b) => pacer.screen(id, s, b),
      setQuiet: (id, q, ms) => pacer.setQuiet(id, q, ms),
      screens: (id, src) => pacer.screens(id, src),
      forget: (id) => pacer.forget(id),
    };
    const snap = await routed.subscribe({ sessionId: 'remote', quiet: true, refreshMs: 800 }, stream);
    expect(snap).toMatchObject({ data: 'first' });
    expect(told).toEqual([['subscribe', 'remote', { quiet: true, refreshMs: 800 }]]);

    // The host's output, then its screen: the held output goes first, then the screen, as the host sent them.
    host!.onData(new TextEncoder().encode('held'), () => {});
    host!.onScreen!({ sessionId: 'remote', cols: 100, rows: 30, data: 'the host screen' }, 123_456);
    expect(frames.map((f) => f.map((p) => p.screen?.data ?? Buffer.from(p.data).toString()))).toEqual([['held'], ['the host screen']]);
    expect(frames[1]![0]!.screen).toMatchObject({ cols: 100, rows: 30, bytes: 123_456 });
    // This engine makes no screens of its own for it, however much comes.
    host!.onData(new Uint8Array(256 * 1024), () => {});
    expect(pacer.modeOf('remote')).toBe('stream');

    await routed.pace({ sessionId: 'remote', quiet: false, refreshMs: 800 }, stream);
    expect(told.at(-1)).toEqual(['pace', { sessionId: 'remote', quiet: false, refreshMs: 800 }]);
    stream.subscriptions.get('remote')!.close();
    await new Promise((r) => setImmediate(r));
    expect(told.at(-1)).toEqual(['unsubscribe', 'remote']);
    // After it ended, a late screen from the host is not sent.
    const n = frames.length;
    host!.onScreen!({ sessionId: 'remote', cols: 1, rows: 1, data: 'late' }, 1);
    expect(frames).toHaveLength(n);
    pacer.close();
  });
});
