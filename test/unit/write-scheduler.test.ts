// The terminals' output scheduler: the focused terminal first each frame, background terminals in turn within a byte
// budget per frame, each only once xterm parsed its last write (so their writes coalesce), acks only after the write's
// callback, dropped output acked so flow control stays even.
import { describe, expect, it } from 'vitest';
import { WriteScheduler } from '../../renderer/src/features/terminal/scheduler.ts';

function harness(focused: string | null, o: { focusSlice?: number; backgroundSlice?: number; backgroundBudget?: number } = {}) {
  const frames: (() => void)[] = [];
  const timers: { at: number; cb: () => void }[] = [];
  const writes: { id: string; bytes: number; done: () => void }[] = [];
  let t = 0;
  const s = new WriteScheduler(
    (id, data, done) => writes.push({ id, bytes: data.length, done }),
    () => focused,
    {
      backgroundIntervalMs: 250,
      ...o,
      requestFrame: (cb) => frames.push(cb),
      setTimer: (cb, ms) => timers.push({ at: t + ms, cb }),
      now: () => t,
    },
  );
  const step = () => frames.shift()?.();
  /** Moves the clock on, firing the timers that come due. */
  const advance = (ms: number) => {
    t += ms;
    for (const due of timers.filter((x) => x.at <= t)) {
      timers.splice(timers.indexOf(due), 1);
      due.cb();
    }
  };
  return { s, frames, timers, writes, step, advance };
}
/** Bigger than the scheduler's bulk threshold: fed without waiting for the background tick. */
const BULK = 40 * 1024;
const bytes = (n: number) => new Uint8Array(n);

describe('WriteScheduler', () => {
  it('writes nothing until a frame; then the focused terminal first, and background ones in turn within the budget', () => {
    const h = harness('f', { backgroundBudget: 2 * BULK, backgroundSlice: BULK });
    for (const id of ['a', 'b', 'c', 'f']) h.s.enqueue(id, bytes(BULK), () => {});
    expect(h.writes).toEqual([]);
    expect(h.frames).toHaveLength(1);
    h.step();
    expect(h.writes.map((w) => w.id)).toEqual(['f', 'a', 'b']);
    h.step();
    expect(h.writes.map((w) => w.id)).toEqual(['f', 'a', 'b', 'c']);
    expect(h.frames).toHaveLength(0);
  });

  it('a background terminal gets its next turn only once xterm parsed the last, with everything pending coalesced', () => {
    const h = harness(null, { backgroundSlice: 2 * BULK + 10 });
    h.s.enqueue('a', bytes(BULK), () => {});
    h.step();
    expect(h.writes.map((w) => w.bytes)).toEqual([BULK]);
    for (let i = 0; i < 4; i++) h.s.enqueue('a', bytes(BULK), () => {});
    // Still parsing: no frame is even asked for until the callback.
    expect(h.frames).toHaveLength(0);
    h.writes[0]!.done();
    h.step();
    expect(h.writes.map((w) => w.bytes)).toEqual([BULK, 2 * BULK]);
    h.writes[1]!.done();
    h.step();
    expect(h.writes.map((w) => w.bytes)).toEqual([BULK, 2 * BULK, 2 * BULK]);
    // A chunk bigger than the slice still goes (whole chunks only).
    h.writes[2]!.done();
    h.s.enqueue('a', bytes(5 * BULK), () => {});
    h.step();
    expect(h.writes.at(-1)!.bytes).toBe(5 * BULK);
  });

  it('background trickles (spinners) wait for the tick and are all drawn in the same frame; no frames in between', () => {
    const h = harness('f');
    h.s.enqueue('a', bytes(30), () => {});
    // The first tick is due at once (a timer, then the frame).
    expect(h.frames).toHaveLength(0);
    h.advance(0);
    h.step();
    expect(h.writes.map((w) => w.id)).toEqual(['a']);
    h.writes[0]!.done();
    // Three spinners redraw at different moments within the next interval.
    h.s.enqueue('a', bytes(30), () => {});
    h.advance(60);
    h.s.enqueue('b', bytes(30), () => {});
    h.advance(60);
    h.s.enqueue('c', bytes(30), () => {});
    h.s.enqueue('a', bytes(30), () => {});
    expect(h.frames).toHaveLength(0);
    expect(h.writes).toHaveLength(1);
    h.advance(130);
    expect(h.frames).toHaveLength(1);
    h.step();
    expect(
      h.writes
        .slice(1)
        .map((w) => `${w.id}:${w.bytes}`)
        .sort(),
    ).toEqual(['a:60', 'b:30', 'c:30']);
    // A bulk of output does not wait for the tick.
    h.s.enqueue('b', bytes(BULK), () => {});
    h.writes.find((w) => w.id === 'b')!.done();
    expect(h.frames).toHaveLength(1);
  });

  it("a keystroke's echo for the focused terminal is written at once while xterm is idle, not a frame later", () => {
    const h = harness('f');
    h.s.enqueue('f', bytes(3), () => {});
    expect(h.writes.map((w) => w.bytes)).toEqual([3]);
    // While xterm parses it, more output waits for the frame (in order).
    h.s.enqueue('f', bytes(3), () => {});
    expect(h.writes).toHaveLength(1);
    h.step();
    expect(h.writes.map((w) => w.bytes)).toEqual([3, 3]);
    // Background terminals never take this path.
    h.s.enqueue('g', bytes(3), () => {});
    expect(h.writes).toHaveLength(2);
  });

  it('the focused terminal is fed every frame, also while xterm still parses its last write', () => {
    const h = harness('f', { focusSlice: BULK });
    for (let i = 0; i < 3; i++) h.s.enqueue('f', bytes(BULK), () => {});
    h.step();
    h.step();
    h.step();
    expect(h.writes.map((w) => w.bytes)).toEqual([BULK, BULK, BULK]);
  });

  it('acks only when xterm says the write is parsed; dropped output is acked at once', () => {
    const h = harness('f');
    const acked: string[] = [];
    h.s.enqueue('f', bytes(BULK), () => acked.push('f1'));
    h.s.enqueue('f', bytes(5), () => acked.push('f2'));
    h.s.enqueue('g', bytes(5), () => acked.push('g1'));
    h.step();
    expect(acked).toEqual([]);
    h.writes[0]!.done();
    expect(acked).toEqual(['f1', 'f2']);
    h.s.enqueue('x', bytes(5), () => acked.push('x1'));
    h.s.drop('x');
    expect(acked).toEqual(['f1', 'f2', 'x1']);
    expect(h.s.pendingBytes('x')).toBe(0);
  });

  it('right after a keystroke, background terminals get a small turn every fourth frame only', () => {
    const h = harness('f', { backgroundSlice: 1_000_000, backgroundBudget: 1_000_000 });
    h.s.noteInput();
    for (let i = 0; i < 8; i++) h.s.enqueue('bg', bytes(10_000), () => {});
    // (8 × 10 KB: a bulk, fed without waiting for the background tick.)
    h.s.enqueue('f', bytes(10), () => {});
    for (let i = 0; i < 4; i++) h.step();
    // The focused one at once; the background one once in four frames, 16 KB at most (whole chunks: one of 10 KB).
    expect(h.writes.map((w) => `${w.id}:${w.bytes}`)).toEqual(['f:10', 'bg:10000']);
    h.writes.at(-1)!.done();
    h.advance(1000);
    h.step();
    expect(h.writes.at(-1)).toMatchObject({ id: 'bg', bytes: 70_000 });
  });

  it("measures each terminal's rate over the last second", () => {
    const h = harness('f');
    h.s.enqueue('f', bytes(300_000), () => {});
    h.step();
    h.advance(1000);
    expect(h.s.rateOf('f')).toBe(300_000);
    h.advance(1000);
    expect(h.s.rateOf('f')).toBe(0);
  });
});
