// bench/vt: how fast a terminal core parses what agents print — the engine's headless mirror (@xterm/headless, as
// sessions/mirror.ts drives it: 16 KB writes) against Ghostty's VT core compiled to WebAssembly (`ghostty-web`'s
// ghostty-vt.wasm, through its GhosttyTerminal), on the same bytes in the same process: redraws like Claude Code's
// (synchronized output, cursor up, erase line, 24-bit colour, a spinner), `ls -lR --color` of /usr/lib, and a build log
// with progress bars; then plain ASCII at several write sizes for Ghostty's ceiling. Best of three per case. Issue 26's
// question: would a WebAssembly VT core lift the mirror's ~25 MB/s cap?
//
//   npx tsx bench/vt.ts [--mb 8]
import { execSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { HeadlessTerminal } from '../electron/engine/sessions/mirror.ts';

const { values } = parseArgs({ options: { mb: { type: 'string', default: '8' } } });
const BYTES = Number(values.mb) * 1024 * 1024;
const require = createRequire(import.meta.url);
const gw = (await import('ghostty-web')) as unknown as {
  Ghostty: new (
    i: WebAssembly.Instance,
  ) => {
    createTerminal(
      c: number,
      r: number,
      cfg?: { scrollbackLimit?: number },
    ): { write(d: Uint8Array): void; update(): unknown; free(): void };
  };
};
const wasm = readFileSync(require.resolve('ghostty-web/ghostty-vt.wasm'));
const { instance } = await WebAssembly.instantiate(wasm, { env: { log: () => {} } });
const ghostty = new gw.Ghostty(instance);
const enc = new TextEncoder();

function claudeLike(): Uint8Array {
  let s = '';
  for (let i = 0; s.length < BYTES; i++) {
    s += '\x1b[?2026h\x1b[12A';
    for (let l = 0; l < 12; l++)
      s += `\x1b[2K\x1b[38;2;215;119;87m│\x1b[39m \x1b[1mLine ${l}\x1b[22m of the answer, streaming token ${i} — \x1b[3mitalic\x1b[23m \x1b[38;5;244mgrey\x1b[39m\r\n`;
    s += `\x1b[2K\x1b[38;2;215;119;87m${'⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏'[i % 10]}\x1b[39m Thinking… (${i}s · esc to interrupt)\r\n\x1b[?2026l`;
  }
  return enc.encode(s);
}
function lsLike(): Uint8Array {
  const base = execSync('ls -lR --color=always /usr/lib 2>/dev/null | head -c 2000000', { maxBuffer: 64 << 20 })
    .toString()
    .replace(/\n/g, '\r\n');
  let s = '';
  while (s.length < BYTES) s += base;
  return enc.encode(s.slice(0, BYTES));
}
function buildLog(): Uint8Array {
  let s = '';
  for (let i = 0; s.length < BYTES; i++) {
    s += `\x1b[32m✓\x1b[0m src/module-${i}.ts \x1b[2m(${i % 97} tests)\x1b[22m ${(i * 7) % 1000}ms\r\n`;
    if (i % 10 === 0) {
      for (let p = 0; p <= 100; p += 20) s += `\r[${'#'.repeat(p / 5).padEnd(20)}] ${p}%`;
      s += '\r\n';
    }
  }
  return enc.encode(s);
}

async function xterm(data: Uint8Array, chunk: number): Promise<number> {
  const t = new HeadlessTerminal({ cols: 120, rows: 32, scrollback: 1000, allowProposedApi: true });
  const t0 = performance.now();
  for (let o = 0; o < data.length; o += chunk) t.write(data.subarray(o, o + chunk));
  await new Promise<void>((r) => t.write('', r));
  const ms = performance.now() - t0;
  t.dispose();
  return ms;
}
function ghosttyVt(data: Uint8Array, chunk: number): number {
  const t = ghostty.createTerminal(120, 32, { scrollbackLimit: 1000 * 120 * 16 });
  const t0 = performance.now();
  for (let o = 0; o < data.length; o += chunk) t.write(data.subarray(o, o + chunk));
  t.update();
  const ms = performance.now() - t0;
  t.free();
  return ms;
}

const rate = (bytes: number, ms: number) => bytes / 1024 / 1024 / (ms / 1000);
console.log(`bench/vt: ${values.mb} MB per case, best of 3, 120×32, 1000 lines of scrollback (Node ${process.version})`);
console.log('case                      xterm MB/s   ghostty MB/s   ghostty / xterm');
const cases: [string, Uint8Array, number][] = [
  ['claude-like redraws', claudeLike(), 16384],
  ['ls -lR --color', lsLike(), 16384],
  ['build log', buildLog(), 16384],
];
const plain = enc.encode(`${'the quick brown fox jumps over the lazy dog '.repeat(2)}\r\n`.repeat(Math.ceil(BYTES / 90)));
for (const chunk of [4096, 16384, 262144, 1 << 20]) cases.push([`plain ASCII, ${chunk / 1024} KB writes`, plain, chunk]);
for (const [name, data, chunk] of cases) {
  let x = Number.POSITIVE_INFINITY;
  let g = Number.POSITIVE_INFINITY;
  for (let r = 0; r < 3; r++) {
    x = Math.min(x, await xterm(data, chunk));
    g = Math.min(g, ghosttyVt(data, chunk));
  }
  const xr = rate(data.length, x);
  const gr = rate(data.length, g);
  console.log(`${name.padEnd(26)}${xr.toFixed(1).padStart(9)}${gr.toFixed(1).padStart(15)}${(gr / xr).toFixed(2).padStart(17)}`);
}
