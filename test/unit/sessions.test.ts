// AgentSession against real ptys: output path, input, resize, lifecycle, status, restart, snapshots.
import { afterEach, describe, expect, it } from 'vitest';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentSession, type AgentSessionOptions, type PtySpec } from '../../electron/engine/sessions/index.ts';
import type { SessionStatus } from '../../electron/shared/contract.ts';
import { waitFor } from '../fixtures/wait.ts';

const NODE = process.execPath;
const ENV: Record<string, string> = Object.fromEntries(
  Object.entries(process.env).filter((e): e is [string, string] => typeof e[1] === 'string'),
);

const sessions: AgentSession[] = [];
afterEach(() => {
  for (const s of sessions.splice(0)) s.dispose();
});

function spec(command: string, args: string[], over: Partial<PtySpec> = {}): PtySpec {
  return { command, args, env: ENV, cwd: tmpdir(), cols: 80, rows: 24, ...over };
}
function session(command: string, args: string[], opts: AgentSessionOptions = {}, over: Partial<PtySpec> = {}): AgentSession {
  const s = new AgentSession(`s${sessions.length + 1}`, spec(command, args, over), opts);
  sessions.push(s);
  return s;
}
const nodeSession = (script: string, opts: AgentSessionOptions = {}, over: Partial<PtySpec> = {}) =>
  session(NODE, ['-e', script], opts, over);

/** Collects everything a sink receives. */
function collector(s: AgentSession, ackImmediately = true) {
  const chunks: Buffer[] = [];
  let bytes = 0;
  let sends = 0;
  const sub = s.subscribe({
    send(d) {
      chunks.push(Buffer.from(d));
      bytes += d.byteLength;
      sends++;
      if (ackImmediately) sub.ack(d.byteLength);
    },
  });
  return {
    sub,
    text: () => Buffer.concat(chunks).toString('utf8'),
    get bytes() {
      return bytes;
    },
    get sends() {
      return sends;
    },
  };
}

function statusLog(s: AgentSession): Array<[SessionStatus, string | null]> {
  const log: Array<[SessionStatus, string | null]> = [];
  s.on('status', (st, d) => log.push([st, d]));
  return log;
}

// Generous: these wait for a child process to start and print, which takes seconds on a loaded 2-core machine. The
// status tests below wait on the session's own events instead (untilStatus).
/** Resolves when the session's status satisfies `pred`: checked now and at every status event, no clock of its own. */
function untilStatus(s: AgentSession, pred: (status: SessionStatus) => boolean): Promise<void> {
  return new Promise((resolve) => {
    if (pred(s.status)) return resolve();
    const on = (status: SessionStatus) => {
      if (!pred(status)) return;
      s.off('status', on);
      resolve();
    };
    s.on('status', on);
  });
}
const exited = (s: AgentSession) => new Promise<{ exitCode: number | null; signal: string | null }>((r) => s.once('exit', r));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('output path', () => {
  it('delivers output to a subscribed sink and to the mirror', async () => {
    const s = nodeSession("console.log('hello from the pty ✓')");
    const c = collector(s);
    const done = exited(s);
    s.start();
    expect(s.status).toBe('starting');
    expect(s.pid).toBeGreaterThan(0);
    expect(await done).toEqual({ exitCode: 0, signal: null });
    expect(c.text()).toContain('hello from the pty ✓');
    const snap = await s.snapshot();
    expect(snap.data).toContain('hello from the pty ✓');
    expect(snap.cols).toBe(80);
    expect(snap.rows).toBe(24);
    expect(s.status).toBe('done');
    expect(s.exitCode).toBe(0);
  });

  it('batches many tiny writes into few sends', async () => {
    // 200 one-byte writes about 1 ms apart: each is its own pty read, so without batching ~200 sends.
    const s = nodeSession(
      "let n = 0; const t = setInterval(() => { process.stdout.write('x'); if (++n === 200) { clearInterval(t); } }, 1)",
    );
    const c = collector(s);
    const done = exited(s);
    s.start();
    await done;
    expect(c.text().replace(/[^x]/g, '')).toHaveLength(200);
    expect(c.sends).toBeLessThan(70);
  });

  it('keeps multi-byte UTF-8 characters intact when the pty splits them', async () => {
    const s = nodeSession(
      "const b = Buffer.from('✓€😀 done\\n'); let i = 0; const t = setInterval(() => { process.stdout.write(b.subarray(i, i + 1)); if (++i === b.length) clearInterval(t); }, 12)",
    );
    const c = collector(s);
    const done = exited(s);
    s.start();
    await done;
    expect(c.text()).toContain('✓€😀 done');
    expect((await s.snapshot()).data).toContain('✓€😀 done');
  });

  it('a sink that throws is dropped without disturbing the others', async () => {
    const s = nodeSession("console.log('one'); setTimeout(() => console.log('two'), 100)");
    let bad = 0;
    s.subscribe({
      send() {
        bad++;
        throw new Error('socket gone');
      },
    });
    const good = collector(s);
    const done = exited(s);
    s.start();
    await done;
    expect(bad).toBe(1);
    expect(good.text()).toContain('one');
    expect(good.text()).toContain('two');
  });

  it('echoes input and shows the reply in the snapshot', async () => {
    const s = nodeSession(
      "require('readline').createInterface({ input: process.stdin }).on('line', (l) => { console.log('got:' + l.toUpperCase()); if (l === 'bye') process.exit(0); })",
    );
    const c = collector(s);
    const done = exited(s);
    s.start();
    s.write('hello\r');
    await waitFor(() => c.text().includes('got:HELLO'), 'the reply');
    const snap = await s.snapshot();
    expect(snap.data).toContain('hello'); // the pty's echo
    expect(snap.data).toContain('got:HELLO');
    s.write('bye\r');
    expect((await done).exitCode).toBe(0);
  });

  it('resize reaches the child (SIGWINCH) and the mirror', async () => {
    const s = nodeSession(
      "process.stdout.on('resize', () => console.log('size=' + process.stdout.columns + 'x' + process.stdout.rows)); console.log('ready ' + process.stdout.columns); setInterval(() => {}, 1000)",
    );
    const c = collector(s);
    s.start();
    await waitFor(() => c.text().includes('ready 80'), 'the child to start');
    s.resize(100, 30);
    await waitFor(() => c.text().includes('size=100x30'), 'the child to see the new size');
    expect(s.cols).toBe(100);
    expect(s.rows).toBe(30);
    const snap = await s.snapshot();
    expect([snap.cols, snap.rows]).toEqual([100, 30]);
    expect(() => s.resize(0, 10)).toThrow(/positive integers/);
  });

  it('keeps at most the scrollback in the snapshot after 5000 lines', async () => {
    const s = nodeSession("for (let i = 1; i <= 5000; i++) console.log('line ' + String(i).padStart(5, '0'))", { scrollback: 300 });
    const done = exited(s);
    s.start();
    await done;
    const snap = await s.snapshot();
    const lines = snap.data.split(/\r?\n/).filter((l) => l.includes('line '));
    expect(lines.length).toBeGreaterThan(300);
    expect(lines.length).toBeLessThanOrEqual(300 + 24);
    expect(snap.data).toContain('line 05000');
    expect(snap.data).not.toContain('line 00001');
  });
});

describe('lifecycle', () => {
  it('exit code 0 → done, non-zero → failed with the code, a signal → failed with its name', async () => {
    const ok = nodeSession('process.exit(0)');
    const bad = nodeSession('process.exit(2)');
    const killed = nodeSession("process.kill(process.pid, 'SIGTERM'); setInterval(() => {}, 1000)");
    const all = [ok, bad, killed].map((s) => {
      const e = exited(s);
      s.start();
      return e;
    });
    expect(await Promise.all(all)).toEqual([
      { exitCode: 0, signal: null },
      { exitCode: 2, signal: null },
      { exitCode: null, signal: 'SIGTERM' },
    ]);
    expect([ok.status, ok.statusDetail]).toEqual(['done', null]);
    expect([bad.status, bad.statusDetail]).toEqual(['failed', 'exit code 2']);
    expect([killed.status, killed.statusDetail]).toEqual(['failed', 'killed by SIGTERM']);
  });

  it('a missing command fails at once with a detail naming it, and emits exit', async () => {
    const s = session('flotilla-no-such-agent', []);
    const log = statusLog(s);
    const done = exited(s);
    s.start();
    expect(s.status).toBe('failed');
    expect(s.statusDetail).toContain('flotilla-no-such-agent');
    expect(s.statusDetail).toMatch(/not found/);
    expect(await done).toEqual({ exitCode: null, signal: null });
    expect(s.pid).toBeNull();
    expect(log).toEqual([['failed', s.statusDetail]]);
  });

  it('a missing working directory fails with a detail naming it', async () => {
    const s = session(NODE, ['-e', '0'], {}, { cwd: '/nonexistent/flotilla-dir' });
    const done = exited(s);
    s.start();
    await done;
    expect(s.status).toBe('failed');
    expect(s.statusDetail).toContain('/nonexistent/flotilla-dir');
  });

  it('an exec failure inside the spawn helper (bad interpreter) fails with a clear detail', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flotilla-sess-'));
    try {
      const script = join(dir, 'agent.sh');
      writeFileSync(script, '#!/nonexistent/interpreter\necho hi\n');
      chmodSync(script, 0o755);
      const s = session(script, []);
      const done = exited(s);
      s.start();
      await done;
      expect(s.status).toBe('failed');
      expect(s.statusDetail).toContain(`cannot start "${script}"`);
      expect(s.statusDetail).toMatch(/No such file/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('stop() sends SIGTERM; a process that honours it ends as stopped', async () => {
    const s = nodeSession(
      "process.on('SIGTERM', () => { console.log('got TERM'); process.exit(3); }); console.log('ready'); setInterval(() => {}, 1000)",
    );
    const c = collector(s);
    s.start();
    await waitFor(() => c.text().includes('ready'), 'the child to start');
    const t0 = Date.now();
    await s.stop(5000);
    expect(Date.now() - t0).toBeLessThan(4000);
    expect(s.status).toBe('stopped');
    expect(s.statusDetail).toBeNull();
    expect(s.exitCode).toBe(3);
    expect(c.text()).toContain('got TERM');
    expect((await s.snapshot()).data).toContain('got TERM');
  });

  it('stop() of a process that ignores SIGTERM kills it after the grace period', async () => {
    const s = nodeSession("process.on('SIGTERM', () => console.log('ignoring TERM')); console.log('ready'); setInterval(() => {}, 1000)");
    const c = collector(s);
    s.start();
    await waitFor(() => c.text().includes('ready'), 'the child to start');
    const pid = s.pid!;
    const t0 = Date.now();
    await s.stop(400);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(380);
    expect(s.status).toBe('stopped');
    expect(s.signal).toBe('SIGKILL');
    expect(s.exitCode).toBeNull();
    expect(s.statusDetail).toMatch(/killed/);
    expect(c.text()).toContain('ignoring TERM');
    expect(() => process.kill(pid, 0)).toThrow();
  });

  it('stop() of a session that is not running resolves at once', async () => {
    const s = nodeSession('0');
    await s.stop();
    expect(s.status).toBe('queued');
  });

  it('restart() stops, starts a new process and marks the screen', async () => {
    const s = nodeSession("console.log('run ' + process.pid); setInterval(() => {}, 1000)");
    const c = collector(s);
    s.start();
    const pid1 = s.pid!;
    await waitFor(() => c.text().includes(`run ${pid1}`), 'the first run');
    const log = statusLog(s);
    await s.restart();
    const pid2 = s.pid!;
    expect(pid2).not.toBe(pid1);
    expect(s.status).toBe('starting');
    expect(s.exitCode).toBeNull();
    await waitFor(() => c.text().includes(`run ${pid2}`), 'the second run');
    const snap = await s.snapshot();
    expect(snap.data).toContain('── restarted ──');
    expect(snap.data.indexOf(`run ${pid1}`)).toBeLessThan(snap.data.indexOf('── restarted ──'));
    expect(snap.data.indexOf('── restarted ──')).toBeLessThan(snap.data.indexOf(`run ${pid2}`));
    expect(log.map((l) => l[0])).toEqual(['stopped', 'starting', 'working']);
  });

  it('restart(spec) runs the given spec, also after the process has exited', async () => {
    const s = nodeSession("console.log('first')");
    const c = collector(s);
    let done = exited(s);
    s.start();
    await done;
    expect(s.status).toBe('done');
    done = exited(s);
    await s.restart(spec(NODE, ['-e', "console.log('second ' + process.stdout.columns)"], { cols: 90, rows: 20 }));
    await done;
    expect(c.text()).toMatch(/first[\s\S]*── restarted ──[\s\S]*second 90/);
    expect(s.spec.args[1]).toContain('second');
    expect([s.cols, s.rows]).toEqual([90, 20]);
    expect(s.status).toBe('done');
  });

  it('dispose() kills the process and stays quiet', async () => {
    const s = nodeSession("console.log('ready'); setInterval(() => {}, 1000)");
    const c = collector(s);
    s.start();
    await waitFor(() => c.text().includes('ready'), 'the child to start');
    const pid = s.pid!;
    let events = 0;
    s.on('exit', () => events++);
    s.on('status', () => events++);
    s.dispose();
    await waitFor(() => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    }, 'the process to die');
    await sleep(100);
    expect(events).toBe(0);
    await expect(s.snapshot()).rejects.toThrow(/disposed/);
  });
});

describe('status', () => {
  it('starting → working on output → idle after silence → working again', async () => {
    // The second output comes when the test says so (input), after the first idle period: no race with the idle timer.
    const s = nodeSession("console.log('a'); process.stdin.once('data', () => console.log('b')); setInterval(() => {}, 1000)", {
      idleAfterMs: 250,
      supportsHooks: true,
    });
    const log = statusLog(s);
    s.start();
    await untilStatus(s, (st) => st === 'idle');
    s.write('next\r');
    await waitFor(() => log.filter((l) => l[0] === 'idle').length === 2, 'two idle periods');
    expect(log).toEqual([
      ['starting', null],
      ['working', null],
      ['idle', null],
      ['working', null],
      ['idle', null],
    ]);
  });

  it('stays starting while there is no output', async () => {
    const s = nodeSession('setInterval(() => {}, 1000)', { idleAfterMs: 100 });
    s.start();
    await sleep(400);
    expect(s.status).toBe('starting');
  });

  it('maps Claude Code hooks to statuses', async () => {
    const s = nodeSession('setInterval(() => {}, 1000)', { supportsHooks: true, idleAfterMs: 60_000 });
    s.start();
    s.handleHook({ hook_event_name: 'UserPromptSubmit' });
    expect([s.status, s.statusDetail]).toEqual(['working', null]);
    s.handleHook({ hook_event_name: 'PermissionRequest', tool_name: 'Bash' });
    expect([s.status, s.statusDetail]).toEqual(['needs_you', 'permission prompt']);
    s.handleHook({ hook_event_name: 'PostToolUse' });
    expect(s.status).toBe('working');
    s.handleHook({
      hook_event_name: 'Notification',
      notification_type: 'permission_prompt',
      message: 'Claude needs your permission to use Bash',
    });
    expect([s.status, s.statusDetail]).toEqual(['needs_you', 'Claude needs your permission to use Bash']);
    s.handleHook({ hook_event_name: 'PreToolUse' });
    expect(s.status).toBe('working');
    s.handleHook({ hook_event_name: 'Stop' });
    expect([s.status, s.statusDetail]).toEqual(['idle', 'waiting for you']);
    s.handleHook({ hook_event_name: 'UserPromptSubmit' });
    s.handleHook({ hook_event_name: 'Notification', notification_type: 'idle_prompt', message: 'Claude is waiting for your input' });
    expect([s.status, s.statusDetail]).toEqual(['idle', 'waiting for you']);
    s.handleHook({ hook_event_name: 'StopFailure', error: 'rate_limit' });
    expect([s.status, s.statusDetail]).toEqual(['idle', 'API error: rate_limit']);
    s.handleHook({ hook_event_name: 'SessionStart' }); // not a status change
    expect(s.status).toBe('idle');
    await s.stop();
    s.handleHook({ hook_event_name: 'UserPromptSubmit' }); // late hooks do not revive a stopped session
    expect(s.status).toBe('stopped');
  });

  it('needs_you survives plain output (prompt redraws); input clears it', async () => {
    const s = nodeSession("setInterval(() => process.stdout.write('.'), 20)", { supportsHooks: true, idleAfterMs: 60_000 });
    const c = collector(s);
    s.start();
    await waitFor(() => s.status === 'working', 'output');
    s.handleHook({ hook_event_name: 'PermissionRequest', message: 'Allow Bash?' });
    const before = c.bytes;
    await sleep(200);
    expect(c.bytes).toBeGreaterThan(before);
    expect([s.status, s.statusDetail]).toEqual(['needs_you', 'Allow Bash?']);
    s.write('1');
    expect([s.status, s.statusDetail]).toEqual(['working', null]);
  });

  it('a Stop hook is not undone by redraw output; input then output is working again', async () => {
    const s = nodeSession("process.stdin.on('data', () => console.log('busy')); setInterval(() => process.stdout.write('.'), 20)", {
      supportsHooks: true,
      idleAfterMs: 60_000,
    });
    s.start();
    await waitFor(() => s.status === 'working', 'output');
    s.handleHook({ hook_event_name: 'Stop' });
    await sleep(150);
    expect([s.status, s.statusDetail]).toEqual(['idle', 'waiting for you']);
    s.write('go\r');
    await waitFor(() => s.status === 'working', 'working after input');
  });

  it("the meter's verdict overrides, emitting only on change", () => {
    const s = nodeSession('0');
    const log = statusLog(s);
    s.applyMeterVerdict('rate_limited', 'retry in 30 s');
    s.applyMeterVerdict('rate_limited', 'retry in 30 s');
    s.applyMeterVerdict('rate_limited', 'retry in 20 s');
    expect(log).toEqual([
      ['rate_limited', 'retry in 30 s'],
      ['rate_limited', 'retry in 20 s'],
    ]);
  });

  it('without hooks, a permission prompt on a quiet screen means needs_you; the answer clears it', async () => {
    const s = nodeSession(
      "process.stdout.write('About to delete 3 files.\\nDo you want to proceed? (y/n) '); process.stdin.setRawMode(true); process.stdin.once('data', (d) => { console.log('\\nanswer=' + d.toString()); setInterval(() => {}, 1000); })",
      // The quiet window is the behaviour under test (a prompt on a screen that went quiet); 2 s is generous so that a
      // loaded machine's delay between the answer and its echo is not mistaken for quiet.
      { idleAfterMs: 2_000, supportsHooks: false },
    );
    const c = collector(s);
    const log = statusLog(s);
    s.start();
    await untilStatus(s, (st) => st === 'needs_you');
    expect(s.statusDetail).toBe('waiting for an answer');
    s.write('y');
    expect(s.status).toBe('working');
    await waitFor(() => c.text().includes('answer=y'), 'the answer');
    // Answered: the question is still on screen, but no longer the last line.
    await untilStatus(s, (st) => st !== 'working');
    expect(log.map((l) => l[0])).toEqual(['starting', 'working', 'needs_you', 'working', 'idle']);
  });

  it('without hooks, ordinary quiet output is idle, not needs_you', async () => {
    const s = nodeSession("console.log('compiling...'); console.log('done in 2s'); setInterval(() => {}, 1000)", {
      idleAfterMs: 200,
    });
    s.start();
    await untilStatus(s, (st) => st === 'idle' || st === 'needs_you');
    expect(s.status).toBe('idle');
    expect(s.statusDetail).toBeNull();
  });
});

describe('snapshot and dispose', () => {
  it('a snapshot pending while the session is disposed rejects instead of hanging', async () => {
    const s = nodeSession("setInterval(() => process.stdout.write('z'.repeat(50000)), 1)");
    let received = 0;
    const sub = s.subscribe({
      send(d) {
        received += d.byteLength;
        sub.ack(d.byteLength);
      },
    });
    s.start();
    await waitFor(() => received > 1_000_000, 'the flood to run');
    const snap = s.snapshot();
    expect(s.mirrorPending).toBeGreaterThan(0); // the flush inside snapshot() handed the mirror fresh bytes
    s.dispose();
    await expect(snap).rejects.toThrow(/disposed/);
  });
});

describe('resources', () => {
  it.runIf(process.platform === 'linux')('leaves no file descriptors behind after sessions end', async () => {
    const { readdirSync } = await import('node:fs');
    const fds = () => readdirSync('/proc/self/fd').length;
    const warm = nodeSession("console.log('warm')");
    let done = exited(warm);
    warm.start();
    await done;
    await sleep(50);
    const before = fds();
    for (let i = 0; i < 5; i++) {
      const s = nodeSession("console.log('x'.repeat(20000))");
      done = exited(s);
      s.start();
      await done;
    }
    const stopped = nodeSession('setInterval(() => {}, 1000)');
    stopped.start();
    await stopped.stop();
    const disposed = nodeSession('setInterval(() => {}, 1000)');
    disposed.start();
    disposed.dispose();
    await sleep(300);
    expect(fds()).toBeLessThanOrEqual(before);
  });
});
