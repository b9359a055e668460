// Background tiles that get more than they can draw are shown screens, not the stream (engine/api/output-pacer.ts):
// a real engine, a real agent flooding its pty, a real WebSocket client that stands in for a tile — one that never acks
// (it cannot keep up), whose terminal is a headless xterm fed exactly what the page would write into its own.
import type * as xtermHeadless from '@xterm/headless';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { HeadlessTerminal as Terminal } from '../../electron/engine/sessions/mirror.ts';
import { EngineClient, type WebSocketCtor } from '../../electron/shared/client.ts';
import type { SnapshotResult } from '../../electron/shared/contract.ts';
import { useEngines } from '../fixtures/engine.ts';
import { makeRepo } from '../fixtures/repo.ts';
import { waitFor } from '../fixtures/wait.ts';

const env = useEngines({ key: 'sk-screens', keyEnv: 'SCREENS_KEY', upstream: false });

/** On "flood N": N blocks of 53 KB of numbered lines as fast as the pty takes them, then FLOOD-END; else an echo. */
const AGENT = [
  "let n = 0; const line = () => 'flotilla flood ' + String(++n).padStart(7, '0') + ' abcdefghijklmnopqrstuvwxyz\\\\n';",
  "process.stdin.on('data', (d) => { const s = String(d).trim();",
  "  if (!s.startsWith('flood')) return void process.stdout.write('got ' + s + '\\\\n');",
  "  let left = Number(s.split(' ')[1]); const pump = () => { while (left-- > 0) { let b = ''; for (let i = 0; i < 1000; i++) b += line();",
  "    if (!process.stdout.write(b)) return void process.stdout.once('drain', pump); } process.stdout.write('FLOOD-END\\\\n'); }; pump(); });",
  "console.log('ready')",
].join(' ');

function template(repo: string): string {
  return `name: screens
repo: ${repo}
workspace: shared
agent: { preset: shell, command: node, args: ["-e", "${AGENT}"] }
provider: { preset: custom, baseUrl: "http://127.0.0.1:9" }
`;
}

/** What a tile does with what the engine sends: screens and snapshots replace its content, output is written. */
class Tile {
  readonly term = new Terminal({ cols: 100, rows: 30, scrollback: 5000, allowProposedApi: true });
  screens: { snap: SnapshotResult; bytes: number }[] = [];
  streamed = 0;
  acking = false;
  private chain = Promise.resolve();

  private write(data: string | Uint8Array): void {
    this.chain = this.chain.then(() => new Promise<void>((r) => this.term.write(data, r)));
  }
  restore(snap: SnapshotResult): void {
    this.chain = this.chain.then(() => {
      this.term.reset();
      this.term.resize(snap.cols, snap.rows);
    });
    this.write(snap.data);
  }
  handlers() {
    return {
      onSnapshot: (snap: SnapshotResult) => this.restore(snap),
      onScreen: (snap: SnapshotResult, bytes: number) => {
        this.screens.push({ snap, bytes });
        this.restore(snap);
      },
      onData: (data: Uint8Array, consumed: (n: number) => void) => {
        this.streamed += data.length;
        this.write(data);
        if (this.acking) consumed(data.length);
      },
    };
  }
  /** The screen's text once everything received is parsed. */
  async text(): Promise<string> {
    await this.chain;
    return screenText(this.term);
  }
}

function screenText(t: xtermHeadless.Terminal): string {
  const b = t.buffer.active;
  const rows: string[] = [];
  for (let y = 0; y < t.rows; y++) rows.push(b.getLine(b.baseY + y)?.translateToString(true) ?? '');
  return rows.join('\n');
}

/** The engine's own picture of the session (its mirror, serialized), drawn into a terminal of the same size. */
async function engineScreen(ws: EngineClient, sessionId: string): Promise<string> {
  const snap = await ws.call('snapshot', { sessionId });
  const t = new Terminal({ cols: snap.cols, rows: snap.rows, scrollback: 5000, allowProposedApi: true });
  await new Promise<void>((r) => t.write(snap.data, r));
  const text = screenText(t);
  t.dispose();
  return text;
}

/** An engine running the agent, and a tile watching it from the background (quiet, refreshed every 100 ms). */
async function backgroundTile() {
  const engine = await env.engine();
  const ws = await EngineClient.connect(engine.wsUrl, WebSocket as unknown as WebSocketCtor);
  const tile = new Tile();
  try {
    const { sessions } = await ws.call('launch', { templateText: template(makeRepo()) });
    const id = sessions[0]!.id;
    await waitFor(async () => (await ws.call('snapshot', { sessionId: id })).data.includes('ready'), 'the agent to start');
    const unsubscribe = await ws.subscribe(id, tile.handlers(), { quiet: true, refreshMs: 100 });
    return { ws, tile, id, unsubscribe };
  } catch (err) {
    ws.close();
    throw err;
  }
}

describe('background tiles are shown screens when they get more than they can draw', () => {
  it("a flood in a tile that never acks: screens at the refresh rate, the agent never held, the stream back once it's calm", async () => {
    const { ws, tile, id, unsubscribe } = await backgroundTile();
    try {
      // ~8.5 MB. Held by a client that never acks, the pty would pause after FlowControl.HighWatermark and never end.
      await ws.call('input', { sessionId: id, data: 'flood 160\r' });
      await waitFor(async () => (await ws.call('snapshot', { sessionId: id })).data.includes('FLOOD-END'), 'the whole flood', 90_000);
      expect(tile.screens.length).toBeGreaterThan(0);
      expect(tile.screens.some((s) => s.snap.data.includes('flotilla flood'))).toBe(true);
      // The stream stopped when the screens began: far less than the flood reached the client as output.
      expect(tile.streamed).toBeLessThan(1024 * 1024);
      // Calm: one more snapshot (screen and scrollback), and the stream again — a typed line comes back as output (the
      // first ones may still be shown by that snapshot, when typed before the refresh that saw the calm).
      await waitFor(() => tile.screens.some((s) => s.snap.data.includes('FLOOD-END')), 'the snapshot after the flood');
      const streamedBefore = tile.streamed;
      for (let i = 1; tile.streamed === streamedBefore && i <= 20; i++) {
        await ws.call('input', { sessionId: id, data: `hello ${i}\r` });
        await waitFor(async () => (await tile.text()).includes(`got hello ${i}`), `echo ${i}`);
      }
      expect(tile.streamed).toBeGreaterThan(streamedBefore);
      const screensNow = tile.screens.length;
      await ws.call('input', { sessionId: id, data: 'last\r' });
      await waitFor(async () => (await tile.text()).includes('got last'), 'the last echo');
      expect(tile.screens.length).toBe(screensNow);
      // Nothing lost or doubled across the switch: the tile shows what the engine's mirror shows.
      expect(await tile.text()).toBe(await engineScreen(ws, id));
      // The flood is accounted for (the tile's rate badge): written into the tile, or stood for by a screen — all but
      // what was on its way to the old subscription when the stream came back (the snapshot covers it, uncounted).
      const shownBytes = tile.screens.reduce((a, s) => a + s.bytes, 0);
      expect(shownBytes + tile.streamed).toBeGreaterThan(0.9 * 160_000 * 51);
      await unsubscribe();
    } finally {
      ws.close();
    }
  });

  it('focusing a flooding tile restores it with its scrollback and streams it under flow control to the end', async () => {
    const { ws, tile, id, unsubscribe } = await backgroundTile();
    try {
      await ws.call('input', { sessionId: id, data: 'flood 400\r' });
      await waitFor(() => tile.screens.length >= 2, 'screens while it floods');
      // Focused: the tile now keeps up (acks what it parsed), the engine sends the full picture, then the stream.
      tile.acking = true;
      const before = tile.screens.length;
      const streamedBefore = tile.streamed;
      await ws.call('pace', { sessionId: id, quiet: false, refreshMs: 100 });
      await waitFor(() => tile.screens.length > before, 'the restoring snapshot');
      const restoring = tile.screens[before]!.snap.data;
      // Screen and scrollback: many more lines than the 30 rows a screen has.
      expect(restoring.split('\n').length).toBeGreaterThan(300);
      await waitFor(async () => (await tile.text()).includes('FLOOD-END'), 'the end of the flood, streamed', 90_000);
      expect(tile.streamed - streamedBefore).toBeGreaterThan(1024 * 1024);
      // Only that one snapshot since the focus: a live tile is never sent screens.
      expect(tile.screens.length).toBe(before + 1);
      expect(await tile.text()).toBe(await engineScreen(ws, id));
      await unsubscribe();
    } finally {
      ws.close();
    }
  });
});
