// The terminals' output scheduler: the focused terminal first each frame, a few background terminals per frame in
// turn with their writes coalesced, acks only after the write's callback, dropped output acked so flow control stays even.
import { describe, expect, it } from 'vitest';
import { WriteScheduler } from '../../renderer/src/terminal/scheduler.ts';

function harness(focused: string | null, o: { focusSlice?: number; backgroundSlice?: number; backgroundPerFrame?: number } = {}) {
  const frames: (() => void)[] = [];
  const writes: { id: string; bytes: number; done: () => void }[] = [];
  let t = 0;
  const s = new WriteScheduler((id, data, done) => writes.push({ id, bytes: data.length, done }), () => focused, {
    ...o,
    requestFrame: (cb) => frames.push(cb),
    now: () => t,
  });
  const step = () => frames.shift()?.();
  return { s, frames, writes, step, advance: (ms: number) => (t += ms) };
}
const bytes = (n: number) => new Uint8Array(n);

describe('WriteScheduler', () => {
  it('writes nothing until a frame; then the focused terminal first, and a few background ones in turn', () => {
    const h = harness('f', { backgroundPerFrame: 2 });
    // (The page uses one background terminal per frame with a bigger slice: bench/ui measured fewer long tasks so.)
    for (const id of ['a', 'b', 'c', 'f']) h.s.enqueue(id, bytes(10), () => {});
    expect(h.writes).toEqual([]);
    expect(h.frames).toHaveLength(1);
    h.step();
    expect(h.writes.map((w) => w.id)).toEqual(['f', 'a', 'b']);
    h.step();
    expect(h.writes.map((w) => w.id)).toEqual(['f', 'a', 'b', 'c']);
    expect(h.frames).toHaveLength(0);
  });

  it('coalesces what a background terminal has pending into one write, up to its slice', () => {
    const h = harness(null, { backgroundSlice: 25, backgroundPerFrame: 1 });
    for (let i = 0; i < 4; i++) h.s.enqueue('a', bytes(10), () => {});
    h.step();
    expect(h.writes.map((w) => w.bytes)).toEqual([20]);
    h.step();
    expect(h.writes.map((w) => w.bytes)).toEqual([20, 20]);
    // A chunk bigger than the slice still goes (whole chunks only).
    h.s.enqueue('a', bytes(100), () => {});
    h.step();
    expect(h.writes.at(-1)!.bytes).toBe(100);
  });

  it('acks only when xterm says the write is parsed; dropped output is acked at once', () => {
    const h = harness('f');
    const acked: string[] = [];
    h.s.enqueue('f', bytes(5), () => acked.push('f1'));
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
    const h = harness('f', { backgroundSlice: 1_000_000, backgroundPerFrame: 1 });
    h.s.noteInput();
    for (let i = 0; i < 8; i++) h.s.enqueue('bg', bytes(10_000), () => {});
    h.s.enqueue('f', bytes(10), () => {});
    for (let i = 0; i < 4; i++) h.step();
    // The focused one at once; the background one once in four frames, 16 KB at most (whole chunks: one of 10 KB).
    expect(h.writes.map((w) => `${w.id}:${w.bytes}`)).toEqual(['f:10', 'bg:10000']);
    h.advance(1000);
    h.step();
    expect(h.writes.at(-1)).toMatchObject({ id: 'bg', bytes: 70_000 });
  });

  it('measures each terminal\'s rate over the last second', () => {
    const h = harness('f');
    h.s.enqueue('f', bytes(300_000), () => {});
    h.step();
    h.advance(1000);
    expect(h.s.rateOf('f')).toBe(300_000);
    h.advance(1000);
    expect(h.s.rateOf('f')).toBe(0);
  });
});
