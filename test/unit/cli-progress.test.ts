// What `flotilla run` shows while it runs: colour rules (NO_COLOR, FORCE_COLOR, TTY), the line per session, the live
// block redrawn in place with log lines above it.
import { describe, expect, it } from 'vitest';
import { LiveProgress, outputStyle, progressLine } from '../../electron/cli/progress.ts';

const ESC = '\x1b[';

describe('outputStyle', () => {
  it('colours and redraws only on a terminal, respects NO_COLOR, FORCE_COLOR and TERM=dumb', () => {
    expect(outputStyle({ isTTY: true }, { TERM: 'xterm-256color' })).toEqual({ color: true, live: true });
    expect(outputStyle({ isTTY: false }, {})).toEqual({ color: false, live: false });
    expect(outputStyle({}, {})).toEqual({ color: false, live: false });
    expect(outputStyle({ isTTY: true }, { NO_COLOR: '1' })).toEqual({ color: false, live: true });
    // no-color.org: an empty NO_COLOR does not count.
    expect(outputStyle({ isTTY: true }, { NO_COLOR: '' }).color).toBe(true);
    expect(outputStyle({ isTTY: true }, { TERM: 'dumb' })).toEqual({ color: false, live: false });
    expect(outputStyle({ isTTY: false }, { FORCE_COLOR: '1' })).toEqual({ color: true, live: false });
    expect(outputStyle({ isTTY: true }, { FORCE_COLOR: '0' }).color).toBe(true);
  });
});

describe('progressLine', () => {
  const row = {
    slot: 3,
    status: 'needs_you' as const,
    detail: 'permission prompt',
    task: 'fix   the\nflaky test',
    usd: 0.01234,
    requests: 7,
  };
  it('shows slot, status, detail, spend, requests and the task on one line', () => {
    const line = progressLine(row, { color: false }, 200);
    expect(line).toBe('slot  3  needs you (permission prompt)  $0.0123    7 req  fix the flaky test');
  });
  it('colours the status only with colour on, and fits the width', () => {
    expect(progressLine(row, { color: true }, 200)).toContain(`${ESC}33mneeds you${ESC}0m`);
    const narrow = progressLine(row, { color: false }, 30);
    expect([...narrow].length).toBeLessThanOrEqual(30);
    expect(narrow.endsWith('…')).toBe(true);
  });
});

describe('LiveProgress', () => {
  function screen() {
    const writes: string[] = [];
    return { writes, out: { write: (t: string) => writes.push(t), isTTY: true, columns: 120 } };
  }
  it('redraws the block in place (cursor up over its lines) and keeps log lines above it', async () => {
    const { writes, out } = screen();
    // A tick far away: the test draws with flush(), as the timer would.
    const p = new LiveProgress(out, { color: false, live: true }, 60_000);
    p.session({ id: 'a', slot: 1, status: 'working', statusDetail: null, task: 'one' });
    p.session({ id: 'b', slot: 2, status: 'starting', statusDetail: null, task: 'two' });
    expect(writes).toEqual([]);
    p.flush();
    expect(writes.join('')).toMatch(/slot  1  working.*\n.*slot  2  starting/);
    writes.length = 0;
    p.spend('a', 0.5, 3);
    p.session({ id: 'b', slot: 2, status: 'done', statusDetail: null, task: 'two' });
    p.flush();
    // One redraw for both changes: back over the two lines, then both again.
    expect(writes).toHaveLength(1);
    expect(writes[0]!.startsWith(`${ESC}2F${ESC}J`)).toBe(true);
    expect(writes[0]).toContain('$0.5000    3 req');
    expect(writes[0]).toContain('slot  2  done');
    writes.length = 0;
    p.log('[launch] all started');
    expect(writes[0]).toBe(`${ESC}2F${ESC}J[launch] all started\n`);
    p.end();
    // The final block is drawn under the log line (no cursor movement: nothing drawn since the log).
    expect(writes[1]!.startsWith(`${ESC}2K`)).toBe(true);
    writes.length = 0;
    p.session({ id: 'a', slot: 1, status: 'done', statusDetail: null, task: 'one' });
    p.flush();
    expect(writes).toEqual([]);
  });
});
