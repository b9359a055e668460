// What a client is shown from the engine's mirror — a snapshot (screen and scrollback: a reconnect, a focused tile) or a
// screen (a background tile that gets more than it can draw) — restored into a fresh terminal the way the page does it
// (reset, then write), must equal a terminal that was fed every byte: text, colours and attributes of every cell, the
// cursor. A property test over generated agent-like streams (redraws with 256/24-bit colour, progress bars, the
// alternate screen, wide characters) cut into random chunks, as a pty delivers them.
import type * as xtermHeadless from '@xterm/headless';
import { afterEach, describe, expect, it } from 'vitest';
import { HeadlessTerminal as Terminal, TerminalMirror } from '../../electron/engine/sessions/mirror.ts';
import { prng } from '../fixtures/prng.ts';

type Term = xtermHeadless.Terminal;

const WORDS = ['Reading', 'src/app.ts', 'Edited', '✓ passed', '日本語', 'tool_use', '…', 'Bash(npm test)', '⏺', '│', 'résumé'];

/** An agent-like stream: lines of coloured words, redraws of a status block, progress bars, sometimes a full-screen app. */
function stream(seed: number): string {
  const r = prng(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
  const sgr = () =>
    pick([
      '\x1b[0m',
      '\x1b[1m',
      '\x1b[2m',
      '\x1b[3m',
      '\x1b[4m',
      '\x1b[7m',
      `\x1b[3${Math.floor(r() * 8)}m`,
      `\x1b[9${Math.floor(r() * 8)}m`,
      `\x1b[38;5;${Math.floor(r() * 256)}m`,
      `\x1b[48;5;${Math.floor(r() * 256)}m`,
      `\x1b[38;2;${Math.floor(r() * 256)};${Math.floor(r() * 256)};${Math.floor(r() * 256)}m`,
    ]);
  let s = '';
  const steps = 60 + Math.floor(r() * 80);
  for (let i = 0; i < steps; i++) {
    const kind = r();
    if (kind < 0.5) {
      let line = '';
      for (let w = 0; w < 1 + Math.floor(r() * 12); w++) line += `${r() < 0.4 ? sgr() : ''}${pick(WORDS)} `;
      s += `${line}\x1b[0m\r\n`;
    } else if (kind < 0.7) {
      // A status block redrawn in place, inside synchronized output (as Claude Code does).
      const n = 1 + Math.floor(r() * 4);
      s += `\x1b[?2026h\x1b[${n}A`;
      for (let l = 0; l < n; l++) s += `\r\x1b[2K${sgr()}${pick(WORDS)} ${Math.floor(r() * 1000)}\x1b[0m\r\n`;
      s += '\x1b[?2026l';
    } else if (kind < 0.85) {
      for (let p = 0; p <= 100; p += 10 + Math.floor(r() * 30))
        s += `\r${sgr()}[${'#'.repeat(p / 5)}${' '.repeat(20 - p / 5)}] ${p}%\x1b[0m`;
      s += '\r\n';
    } else if (kind < 0.93) {
      // A full-screen program: the alternate screen, a drawn frame, sometimes left again.
      s += `\x1b[?1049h\x1b[H\x1b[2J${sgr()}`;
      for (let l = 1; l < 6; l++) s += `\x1b[${l};${1 + Math.floor(r() * 20)}H${pick(WORDS)}`;
      if (r() < 0.7) s += '\x1b[?1049l';
    } else {
      s += `\x1b[${1 + Math.floor(r() * 20)};${1 + Math.floor(r() * 60)}H${sgr()}${pick(WORDS)}\x1b[0m`;
    }
  }
  return s;
}

function chunks(bytes: Uint8Array, seed: number): Uint8Array[] {
  const r = prng(seed ^ 0x9e3779b9);
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; ) {
    const n = 1 + Math.floor(r() * 700);
    out.push(bytes.subarray(i, i + n));
    i += n;
  }
  return out;
}

const terms: Term[] = [];
const mirrors: TerminalMirror[] = [];
afterEach(() => {
  for (const t of terms.splice(0)) t.dispose();
  for (const m of mirrors.splice(0)) m.dispose();
});

function term(cols: number, rows: number, scrollback = 2000): Term {
  const t = new Terminal({ cols, rows, scrollback, allowProposedApi: true });
  terms.push(t);
  return t;
}
const write = (t: Term, d: string | Uint8Array) => new Promise<void>((r) => t.write(d, r));

/** Every cell of rows [from, to) of the active buffer: its text and what it looks like. */
function cells(t: Term, from: number, to: number): string[] {
  const b = t.buffer.active;
  const cell = b.getNullCell();
  const rows: string[] = [];
  for (let y = from; y < to; y++) {
    const line = b.getLine(y);
    if (!line) {
      rows.push('');
      continue;
    }
    let row = '';
    for (let x = 0; x < t.cols; x++) {
      line.getCell(x, cell);
      // A blank with no background, not inverse nor underlined, draws nothing whatever its foreground says.
      const blank = (cell.getChars() === '' || cell.getChars() === ' ') && cell.isBgDefault() && !cell.isInverse() && !cell.isUnderline();
      const look = blank
        ? `blank,${cell.getWidth()}`
        : [
            mode(cell.getFgColorMode(), cell.getFgColor()),
            cell.getFgColor(),
            mode(cell.getBgColorMode(), cell.getBgColor()),
            cell.getBgColor(),
            cell.isBold(),
            cell.isDim(),
            cell.isItalic(),
            cell.isUnderline(),
            cell.isInverse(),
            cell.getWidth(),
          ].join(',');
      row += `${cell.getChars() || ' '}{${look}}`;
    }
    rows.push(row);
  }
  return rows;
}

/** 256-colour index n < 16 is the 16-colour palette's n: the serializer writes it as `3n`/`9n`, the same colour. */
const P16 = 0x1000000;
const P256 = 0x2000000;
const mode = (m: number, color: number) => (m === P256 && color < 16 ? P16 : m);

function screenOf(t: Term): { cells: string[]; cursor: [number, number]; alt: boolean } {
  const b = t.buffer.active;
  return { cells: cells(t, b.baseY, b.baseY + t.rows), cursor: [b.cursorX, b.cursorY], alt: b.type === 'alternate' };
}

function scrollbackText(t: Term): string[] {
  const b = t.buffer.normal;
  const out: string[] = [];
  for (let y = 0; y < b.length; y++) out.push(b.getLine(y)?.translateToString(true) ?? '');
  return out;
}

describe('what the mirror shows a client equals what every byte drew', () => {
  for (let seed = 1; seed <= 24; seed++) {
    it(`stream ${seed}: snapshot and screen, restored, match a terminal fed directly`, async () => {
      const cols = 60 + (seed % 4) * 20;
      const rows = 16 + (seed % 3) * 8;
      const bytes = new TextEncoder().encode(stream(seed));
      const direct = term(cols, rows);
      await write(direct, bytes);
      const mirror = new TerminalMirror(cols, rows);
      mirrors.push(mirror);
      for (const c of chunks(bytes, seed)) mirror.write(c);
      await new Promise<void>((r) => mirror.whenParsed(r));
      expect(mirror.skipped).toBe(0);

      // A snapshot (reconnect, focus): screen, cursor and the normal buffer's scrollback.
      const restored = term(cols, rows);
      restored.reset();
      await write(restored, mirror.serialize());
      expect(screenOf(restored)).toEqual(screenOf(direct));
      expect(scrollbackText(restored)).toEqual(scrollbackText(direct));

      // A screen (a background tile): the visible screen and the cursor, without scrollback.
      const tile = term(cols, rows, 1000);
      await write(tile, 'something the tile showed before\r\n');
      tile.reset();
      await write(tile, mirror.serialize({ scrollback: 0 }));
      expect(screenOf(tile)).toEqual(screenOf(direct));
    });
  }

  it('a cell that stays bold while dim ends (and the reverse) is restored so (SGR 22 ends both)', async () => {
    for (const seq of ['\x1b[1;2mA\x1b[22;1mB\x1b[0m', '\x1b[1;2mA\x1b[22;2mB\x1b[0m', '\x1b[1;2mA\x1b[0;1mB\x1b[0m']) {
      const direct = term(10, 2);
      await write(direct, seq);
      const mirror = new TerminalMirror(10, 2);
      mirrors.push(mirror);
      mirror.write(new TextEncoder().encode(seq));
      await new Promise<void>((r) => mirror.whenParsed(r));
      const restored = term(10, 2);
      await write(restored, mirror.serialize());
      expect(screenOf(restored), JSON.stringify(seq)).toEqual(screenOf(direct));
    }
  });
});
