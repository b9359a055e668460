// Flow control against real floods: a client that falls behind pauses the pty, memory stays bounded, acks resume it.
import { afterEach, describe, expect, it } from 'vitest';
import { tmpdir } from 'node:os';
import { AgentSession } from '../../electron/engine/sessions/index.ts';
import { MIRROR_BACKLOG_MAX } from '../../electron/engine/sessions/mirror.ts';
import { FlowControl, OutputBatching } from '../../electron/shared/contract.ts';
import { floodCommand, floodPtyBytes } from '../fixtures/flood.ts';
import { waitFor } from '../fixtures/wait.ts';

const ENV: Record<string, string> = Object.fromEntries(
  Object.entries(process.env).filter((e): e is [string, string] => typeof e[1] === 'string'),
);
const sessions: AgentSession[] = [];
afterEach(() => {
  for (const s of sessions.splice(0)) s.dispose();
});
function session(command: string, args: string[]): AgentSession {
  const s = new AgentSession(`flow${sessions.length + 1}`, { command, args, env: ENV, cwd: tmpdir(), cols: 120, rows: 32 });
  sessions.push(s);
  return s;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const exited = (s: AgentSession) => new Promise<{ exitCode: number | null; signal: string | null }>((r) => s.once('exit', r));

const FLOOD = 50_000_000;

describe('flow control', () => {
  it('a sink that never acks pauses the pty with bounded memory; acking everything resumes it to the end', async () => {
    // No linger: the child exits right after its last write while we may be behind — the tail must still arrive.
    const c = floodCommand(FLOOD);
    const s = session(c.command, c.args);
    let received = 0;
    let acking = false;
    const sub = s.subscribe({
      send(d) {
        received += d.byteLength;
        if (acking) sub.ack(d.byteLength);
      },
    });
    const done = exited(s);
    const rss0 = process.memoryUsage().rss;
    s.start();
    await waitFor(() => s.paused && received > 0, 'the pty to pause');
    await sleep(500); // it stays paused: nothing more arrives while the client is behind
    expect(s.paused).toBe(true);
    expect(s.running).toBe(true);
    expect(received).toBeLessThanOrEqual(FlowControl.HighWatermark + OutputBatching.MaxBytes);
    expect(s.maxUnacked).toBe(received);
    const atPause = received;
    await sleep(300);
    expect(received).toBe(atPause);
    expect(process.memoryUsage().rss - rss0).toBeLessThan(64 * 1024 * 1024);

    acking = true;
    sub.ack(received);
    expect(await done).toEqual({ exitCode: 0, signal: null });
    expect(received).toBe(floodPtyBytes(FLOOD));
    expect(s.status).toBe('done');
    expect(s.maxUnacked).toBe(0);
  });

  it('a closed subscription no longer holds the pty: the flood runs on to the end', async () => {
    const c = floodCommand(10_000_000);
    const s = session(c.command, c.args);
    const sub = s.subscribe({ send() {} });
    const done = exited(s);
    s.start();
    await waitFor(() => s.paused, 'the pty to pause');
    sub.close();
    sub.close(); // idempotent
    await waitFor(() => !s.paused, 'the pty to resume');
    expect((await done).exitCode).toBe(0);
    const snap = await s.snapshot();
    expect(snap.data).toContain('flotilla flood');
  });

  it('a subscription that lets go (shown screens) still receives every byte but never pauses the pty; holding again does', async () => {
    const c = floodCommand(10_000_000);
    const s = session(c.command, c.args);
    let received = 0;
    const sub = s.subscribe({ send: (d) => void (received += d.byteLength) });
    const done = exited(s);
    s.start();
    await waitFor(() => s.paused, 'the pty to pause');
    // Letting go forgets what it owed and resumes the pty; acks for it are ignored from now on.
    sub.hold(false);
    expect(s.maxUnacked).toBe(0);
    await waitFor(() => !s.paused, 'the pty to resume');
    let pausedEver = false;
    const t = setInterval(() => void (pausedEver ||= s.paused), 1);
    await waitFor(() => received > 4 * FlowControl.HighWatermark, 'more output than the high watermark');
    sub.ack(1);
    expect(s.maxUnacked).toBe(0);
    clearInterval(t);
    expect(pausedEver).toBe(false);
    // Holding again: un-acked bytes count from now on, and a client that does not ack pauses it once more.
    sub.hold(true);
    await waitFor(() => s.paused, 'the pty to pause again');
    expect(s.maxUnacked).toBeGreaterThan(FlowControl.HighWatermark);
    sub.hold(false);
    expect((await done).exitCode).toBe(0);
    expect(received).toBe(floodPtyBytes(10_000_000));
  });

  it('with no subscriber the flood never pauses; the mirror keeps a bounded backlog and ends with the last line', async () => {
    const c = floodCommand(20_000_000);
    const s = session(c.command, c.args);
    let maxPending = 0;
    let pausedEver = false;
    const done = exited(s);
    s.start();
    const t = setInterval(() => {
      maxPending = Math.max(maxPending, s.mirrorPending);
      pausedEver ||= s.paused;
    }, 1);
    await done;
    clearInterval(t);
    expect(pausedEver).toBe(false);
    expect(maxPending).toBeGreaterThan(0);
    expect(maxPending).toBeLessThanOrEqual(MIRROR_BACKLOG_MAX + OutputBatching.MaxBytes);
    expect(s.status).toBe('done');
    const snap = await s.snapshot();
    expect(snap.data).toContain('flotilla flood');
    expect(s.mirrorPending).toBe(0);
  });

  it('a child that exits while paused still gets its last output into the mirror', async () => {
    // Just over the high watermark at once (the client falls behind and the pty pauses), then a last line that waits in
    // the kernel buffer, then exit. node-pty closes a pty 200 ms after its child died, so the session must notice the
    // death while paused and drain the pty first.
    const script =
      "process.stdout.write(('y'.repeat(99) + '\\n').repeat(1050)); " +
      "setTimeout(() => { process.stdout.write('THE-END\\n'); process.exit(0); }, 400)";
    const s = session(process.execPath, ['-e', script]);
    s.subscribe({ send() {} });
    const done = exited(s);
    s.start();
    await waitFor(() => s.paused, 'the pty to pause');
    expect((await done).exitCode).toBe(0);
    expect((await s.snapshot()).data).toContain('THE-END');
  });

  it('Ctrl-C stops a `yes` flood, with a client keeping up and with one that is behind', async () => {
    for (const acks of [true, false]) {
      const s = session('yes', ['flotilla']);
      let received = 0;
      const sub = s.subscribe({
        send(d) {
          received += d.byteLength;
          if (acks) sub.ack(d.byteLength);
        },
      });
      const done = exited(s);
      s.start();
      await waitFor(() => (acks ? received > 2_000_000 : s.paused), 'the flood to run');
      s.write('\x03');
      const t0 = Date.now();
      expect(await done).toEqual({ exitCode: null, signal: 'SIGINT' });
      expect(Date.now() - t0).toBeLessThan(3000);
      expect(s.status).toBe('failed');
    }
  });

  it('stop() ends a flood whose client is behind', async () => {
    const c = floodCommand(FLOOD);
    const s = session(c.command, c.args);
    s.subscribe({ send() {} });
    s.start();
    await waitFor(() => s.paused, 'the pty to pause');
    await s.stop(1000);
    expect(s.status).toBe('stopped');
  });
});
