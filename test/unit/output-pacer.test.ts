// The engine's per-socket output pacing: live sessions' output goes at once; quiet (background) sessions' small outputs
// wait up to QUIET_MS and go together in one batch frame; a bulk goes at once; nothing is reordered or lost, and what was
// held for an ended subscription is not sent. A quiet flood becomes screens at the refresh rate, lets go of the pty,
// and gets its stream back — after a full snapshot, with nothing lost or doubled — on focus or once it calms down.
import { describe, expect, it } from 'vitest';
import { BULK, OutputPacer, QUIET_MS, SCREENS_AFTER, SCREENS_UNTIL, type ScreenSource } from '../../electron/engine/api/output-pacer.ts';
import { type SnapshotResult, decodeFrame } from '../../electron/shared/contract.ts';

interface Sent {
  sessionId: string;
  text: string;
  screen?: { cols: number; rows: number; bytes: number };
}

function harness() {
  const sent: Sent[][] = [];
  const timers: { cb: () => void; ms: number }[] = [];
  let now = 0;
  const pacer = new OutputPacer(
    (frame) =>
      sent.push(
        decodeFrame(frame).map((p) => ({
          sessionId: p.sessionId,
          text: Buffer.from(p.data).toString(),
          ...(p.screen ? { screen: { cols: p.screen.cols, rows: p.screen.rows, bytes: p.screen.bytes } } : {}),
        })),
      ),
    {
      set: (cb, ms) => timers.push({ cb, ms }),
      clear: () => timers.splice(0),
      now: () => now,
    },
  );
  const fire = () => timers.splice(0).forEach((t) => t.cb());
  const advance = (ms: number) => void (now += ms);
  return { pacer, sent, timers, fire, advance };
}

/** A session's screens as the engine would make them: the mirror's text now; resync opens a new subscription. */
function source(name = 'a') {
  const log: string[] = [];
  let screenText = 'screen';
  let answer: ((s: SnapshotResult) => void) | null = null;
  const src: ScreenSource = {
    screen: async () => (log.push('screen'), { sessionId: name, cols: 80, rows: 24, data: screenText }),
    resync: () => (log.push('resync'), new Promise((r) => (answer = r))),
    hold: (on) => void log.push(on ? 'hold' : 'let go'),
  };
  return {
    src,
    log,
    setScreen: (t: string) => void (screenText = t),
    answer: (data: string) => answer!({ sessionId: name, cols: 80, rows: 24, data }),
  };
}
const settle = () => new Promise((r) => setImmediate(r));

/** Session 'a', quiet, with a screen source, sent a flood over the threshold (refresh `refreshMs` if given). */
function flooded(h: ReturnType<typeof harness>, refreshMs?: number) {
  const s = source();
  h.pacer.screens('a', s.src);
  h.pacer.setQuiet('a', true, refreshMs);
  h.pacer.output('a', big(SCREENS_AFTER));
  return s;
}
const big = (n: number, c = 0x42) => new Uint8Array(n).fill(c);
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

  it('a quiet flood becomes screens at the refresh rate, lets go of the pty, and never sends the stream meanwhile', async () => {
    const h = harness();
    const s = source();
    h.pacer.screens('a', s.src);
    h.pacer.setQuiet('a', true, 500);
    // Below the threshold in one refresh: the stream (held for the next batch), as before.
    h.pacer.output('a', big(SCREENS_AFTER / 2));
    expect(h.pacer.modeOf('a')).toBe('stream');
    h.fire();
    const streamed = h.sent.length;
    expect(streamed).toBe(1);
    // Over it within the same refresh: screens. What was held is not sent; the first screen comes at this session's
    // phase of the refresh (the first session's: at once).
    h.pacer.output('a', big(SCREENS_AFTER / 2));
    expect(h.pacer.modeOf('a')).toBe('screens');
    expect(s.log).toEqual(['let go']);
    expect(h.timers.map((t) => t.ms)).toEqual([0]);
    h.fire();
    expect(s.log).toEqual(['let go', 'screen']);
    await settle();
    expect(h.sent.slice(streamed)).toEqual([
      [{ sessionId: 'a', text: 'screen', screen: { cols: 80, rows: 24, bytes: SCREENS_AFTER / 2 } }],
    ]);
    // The flood goes on: no output frames, one screen per refresh with the bytes it stands for.
    for (let i = 0; i < 10; i++) h.pacer.output('a', big(BULK));
    expect(h.sent).toHaveLength(streamed + 1);
    expect(h.timers.map((t) => t.ms)).toEqual([500]);
    s.setScreen('screen 2');
    h.advance(500);
    h.fire();
    await settle();
    expect(h.sent.at(-1)).toEqual([{ sessionId: 'a', text: 'screen 2', screen: { cols: 80, rows: 24, bytes: 10 * BULK } }]);
    expect(s.log).toEqual(['let go', 'screen', 'screen']);
    // A live session next to it is not touched.
    h.pacer.output('b', text('live'));
    expect(h.sent.at(-1)).toEqual([{ sessionId: 'b', text: 'live' }]);
  });

  it('a calm refresh brings the stream back: full snapshot first, then what came meanwhile, nothing lost or doubled', async () => {
    const h = harness();
    const s = flooded(h, 500);
    h.fire();
    await settle();
    expect(s.log).toEqual(['let go', 'screen']);
    // Still flooding at the next refresh: another screen.
    h.pacer.output('a', big(SCREENS_UNTIL));
    h.fire();
    await settle();
    expect(s.log).toEqual(['let go', 'screen', 'screen']);
    const before = h.sent.length;
    // A refresh with little output: resync (a new subscription); its output waits for the snapshot.
    h.pacer.output('a', big(SCREENS_UNTIL - 1));
    h.fire();
    expect(s.log.at(-1)).toBe('resync');
    expect(h.pacer.modeOf('a')).toBe('resync');
    h.pacer.output('a', text('after'));
    expect(h.sent).toHaveLength(before);
    s.answer('full snapshot');
    await settle();
    expect(h.pacer.modeOf('a')).toBe('stream');
    expect(h.sent[before]).toEqual([{ sessionId: 'a', text: 'full snapshot', screen: { cols: 80, rows: 24, bytes: SCREENS_UNTIL - 1 } }]);
    // Quiet still: the small output after the snapshot goes in the next batch, after it.
    h.fire();
    expect(h.sent.at(-1)).toEqual([{ sessionId: 'a', text: 'after' }]);
    expect(h.sent).toHaveLength(before + 2);
  });

  it('focusing a tile shown as screens restores it from the mirror and streams it live', async () => {
    const h = harness();
    const s = flooded(h);
    h.fire();
    await settle();
    h.pacer.setQuiet('a', false);
    expect(s.log).toEqual(['let go', 'screen', 'resync']);
    h.pacer.output('a', text('x'));
    s.answer('screen and scrollback');
    await settle();
    expect(h.sent.slice(-2)).toEqual([
      [{ sessionId: 'a', text: 'screen and scrollback', screen: { cols: 80, rows: 24, bytes: 0 } }],
      [{ sessionId: 'a', text: 'x' }],
    ]);
    // Live: even a flood streams.
    h.pacer.output('a', big(SCREENS_AFTER * 2));
    expect(h.pacer.modeOf('a')).toBe('stream');
    expect(h.sent.at(-1)![0]!.text).toHaveLength(SCREENS_AFTER * 2);
  });

  it('a screen or snapshot that comes after the subscription ended is dropped; without a source a flood streams', async () => {
    const h = harness();
    flooded(h);
    const before = h.sent.length;
    h.pacer.forget('a');
    await settle();
    expect(h.sent).toHaveLength(before);
    // A host's session (no source here: its engine makes the screens): bulk frames as before; relayed screens in order.
    h.pacer.setQuiet('r', true);
    h.pacer.output('r', big(SCREENS_AFTER));
    expect(h.pacer.modeOf('r')).toBe('stream');
    h.pacer.output('r', text('held'));
    h.pacer.screen('r', { sessionId: 'r', cols: 10, rows: 2, data: 'remote' }, 7);
    expect(h.sent.slice(-2)).toEqual([
      [{ sessionId: 'r', text: 'held' }],
      [{ sessionId: 'r', text: 'remote', screen: { cols: 10, rows: 2, bytes: 7 } }],
    ]);
  });

  it('sessions that begin flooding together get their screens at different phases of the refresh', () => {
    const h = harness();
    for (const id of ['a', 'b', 'c']) {
      h.pacer.screens(id, source(id).src);
      h.pacer.setQuiet(id, true, 800);
      h.pacer.output(id, big(SCREENS_AFTER));
    }
    expect(h.timers.map((t) => t.ms)).toEqual([0, 100, 200]);
  });
});
