// The pty host's contract is declared once (PtyHostService / PtyHostEvents): the client, the wire messages and the
// worker's dispatch derive from it. The @ts-expect-error lines are the compile-time half of this test: `npm run
// typecheck` fails if any of them stops being an error (a method that could be left unimplemented, a call kind that
// could drift from its method's return type).
import { MessageChannel } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { type CallMessage, HOST_CALLS, type PtyHostService, dispatchCall, serviceClient } from '../../electron/engine/ptyhost/protocol.ts';

// A service missing a method is not a PtyHostService: worker.ts declares its implementation with this type.
// @ts-expect-error — 'crash' (and the rest) missing
const partial: PtyHostService = { create() {} };
void partial;

// HOST_CALLS must name every method with the kind its return type says.
// @ts-expect-error — `start` returns a Promise: it is a request, not a send
const wrongKind: typeof HOST_CALLS = { ...HOST_CALLS, start: 'send' };
void wrongKind;

// A wire message carries exactly its method's arguments.
// @ts-expect-error — resize takes (id, cols, rows)
const badArgs: CallMessage<PtyHostService> = { t: 'resize', args: ['s1', 80] };
void badArgs;

interface Echo {
  say(word: string): void;
  twice(n: number): Promise<number>;
  fail(): Promise<void>;
}

describe('the pty host contract', () => {
  it('names every service method once, requests exactly the Promise-returning ones', () => {
    expect(
      Object.entries(HOST_CALLS)
        .filter(([, k]) => k === 'request')
        .map(([n]) => n)
        .sort(),
    ).toEqual(['restart', 'screen', 'shutdown', 'snapshot', 'start']);
  });

  it('a client and a dispatch derived from one interface talk over a real message port', async () => {
    const { port1, port2 } = new MessageChannel();
    const said: string[] = [];
    const impl: Echo = {
      say: (w) => void said.push(w),
      twice: async (n) => n * 2,
      fail: async () => {
        throw new Error('no such session');
      },
    };
    port2.on('message', (m: CallMessage<Echo>) =>
      dispatchCall(impl, m, (req, result) =>
        result.then(
          (value) => port2.postMessage({ req, ok: true, value }),
          (err: Error) => port2.postMessage({ req, ok: false, error: err.message }),
        ),
      ),
    );
    const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
    port1.on('message', (r: { req: number; ok: boolean; value?: unknown; error?: string }) => {
      const p = pending.get(r.req)!;
      if (r.ok) p.resolve(r.value);
      else p.reject(new Error(r.error));
    });
    let next = 1;
    const client = serviceClient<Echo>(
      { say: 'send', twice: 'request', fail: 'request' },
      (m) => port1.postMessage(m),
      (m) => new Promise((resolve, reject) => (pending.set(m.req, { resolve, reject }), port1.postMessage(m))),
      () => next++,
    );
    client.say('hello');
    expect(await client.twice(21)).toBe(42);
    await expect(client.fail()).rejects.toThrow('no such session');
    expect(said).toEqual(['hello']);
    port1.close();
  });

  it('a call the implementation lacks is refused by name', () => {
    expect(() => dispatchCall({} as Echo, { t: 'say', args: ['x'] }, () => {})).toThrow('has no call "say"');
  });
});
