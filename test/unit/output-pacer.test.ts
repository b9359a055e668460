// The engine's per-socket output pacing: live sessions' output goes at once; quiet (background) sessions' small outputs
// wait up to QUIET_MS and go together in one batch frame; a bulk goes at once; nothing is reordered or lost, and what was
// held for an ended subscription is not sent.
import { describe, expect, it } from 'vitest';
import { BULK, OutputPacer, QUIET_MS } from '../../electron/engine/api/output-pacer.ts';
import { decodeFrame } from '../../electron/shared/contract.ts';

function harness() {
  const sent: { sessionId: string; text: string }[][] = [];
  const timers: { cb: () => void; ms: number }[] = [];
  const pacer = new OutputPacer(
    (frame) => sent.push(decodeFrame(frame).map((p) => ({ sessionId: p.sessionId, text: Buffer.from(p.data).toString() }))),
    {
      set: (cb, ms) => timers.push({ cb, ms }),
      clear: () => timers.splice(0),
    },
  );
  const fire = () => timers.splice(0).forEach((t) => t.cb());
  return { pacer, sent, timers, fire };
}
const text = (s: string) => new TextEncoder().encode(s);

describe('OutputPacer', () => {
  it('sends live output at once, one frame per output', () => {
    const h = harness();
    h.pacer.output('a', text('1'));
    h.pacer.output('a', text('2'));
    expect(h.sent).toEqual([[{ sessionId: 'a', text: '1' }], [{ sessionId: 'a', text: '2' }]]);
    expect(h.timers).toHaveLength(0);
  });

  it("holds quiet sessions' small outputs and sends them all in one batch after QUIET_MS", () => {
    const h = harness();
    for (const id of ['a', 'b', 'c']) h.pacer.setQuiet(id, true);
    h.pacer.output('a', text('a1'));
    h.pacer.output('b', text('b1'));
    h.pacer.output('a', text('a2'));
    h.pacer.output('c', text('c1'));
    expect(h.sent).toEqual([]);
    expect(h.timers.map((t) => t.ms)).toEqual([QUIET_MS]);
    h.fire();
    expect(h.sent).toEqual([
      [
        { sessionId: 'a', text: 'a1a2' },
        { sessionId: 'b', text: 'b1' },
        { sessionId: 'c', text: 'c1' },
      ],
    ]);
  });

  it("a quiet session's bulk goes at once (with what it held first); turning live flushes it", () => {
    const h = harness();
    h.pacer.setQuiet('a', true);
    h.pacer.setQuiet('b', true);
    h.pacer.output('a', text('x'));
    h.pacer.output('a', new Uint8Array(BULK).fill(0x41));
    expect(h.sent).toHaveLength(1);
    expect(h.sent[0]![0]!.text).toBe(`x${'A'.repeat(BULK)}`);
    h.pacer.output('b', text('held'));
    h.pacer.setQuiet('b', false);
    expect(h.sent.at(-1)).toEqual([{ sessionId: 'b', text: 'held' }]);
    // Live now: order kept, nothing waits.
    h.pacer.output('b', text('next'));
    expect(h.sent.at(-1)).toEqual([{ sessionId: 'b', text: 'next' }]);
    h.fire();
    expect(h.sent).toHaveLength(3);
  });

  it('what was held for a subscription that ended (or began anew) is not sent', () => {
    const h = harness();
    h.pacer.setQuiet('a', true);
    h.pacer.output('a', text('old'));
    h.pacer.forget('a');
    h.fire();
    expect(h.sent).toEqual([]);
    // Forgotten also means live again until the new subscription asks for quiet.
    h.pacer.output('a', text('new'));
    expect(h.sent).toEqual([[{ sessionId: 'a', text: 'new' }]]);
  });
});
