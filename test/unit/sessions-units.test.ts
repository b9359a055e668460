// The pure parts of sessions: batching, the flow gate, hook mapping, the screen heuristic, exit statuses.
import { describe, expect, it } from 'vitest';
import { OutputBatcher } from '../../electron/engine/sessions/output-batcher.ts';
import { FlowGate } from '../../electron/engine/sessions/flow-control.ts';
import { MIRROR_BACKLOG_MAX, TerminalMirror } from '../../electron/engine/sessions/mirror.ts';
import { exitStatus, looksLikePermissionPrompt, signalName, statusFromHook } from '../../electron/engine/sessions/status.ts';
import { floodCommand, floodPtyBytes } from '../fixtures/flood.ts';
import { execFileSync } from 'node:child_process';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('OutputBatcher', () => {
  it('passes the first chunk after a quiet interval on at once; joins what follows within the interval, in order', async () => {
    const out: string[] = [];
    const b = new OutputBatcher((d) => out.push(Buffer.from(d).toString()), 20, 1000);
    b.push(Buffer.from('ab'));
    expect(out).toEqual(['ab']);
    b.push(Buffer.from('cd'));
    b.push(Buffer.from('ef'));
    b.push(Buffer.from(''));
    expect(out).toEqual(['ab']);
    expect(b.pending).toBe(4);
    await sleep(40);
    expect(out).toEqual(['ab', 'cdef']);
    await sleep(40);
    // Quiet again: the next one goes at once.
    b.push(Buffer.from('g'));
    expect(out).toEqual(['ab', 'cdef', 'g']);
    b.dispose();
  });

  it('flushes at once at the size cap, and passes a lone chunk on without copying', () => {
    const out: Uint8Array[] = [];
    const b = new OutputBatcher((d) => out.push(d), 1000, 10);
    b.push(Buffer.alloc(12));
    out.length = 0;
    const big = Buffer.alloc(12, 1);
    b.push(big);
    expect(out).toHaveLength(1);
    expect(out[0]).toBe(big);
    b.push(Buffer.alloc(6));
    b.push(Buffer.alloc(6));
    expect(out.map((d) => d.byteLength)).toEqual([12, 12]);
    expect(b.pending).toBe(0);
    b.dispose();
  });

  it('flush() hands on pending data now; dispose() drops it', () => {
    const out: string[] = [];
    const b = new OutputBatcher((d) => out.push(Buffer.from(d).toString()), 1000, 1000);
    b.push(Buffer.from('w'));
    out.length = 0;
    b.push(Buffer.from('x'));
    b.flush();
    b.flush();
    expect(out).toEqual(['x']);
    b.push(Buffer.from('y'));
    b.dispose();
    expect(b.pending).toBe(0);
    expect(out).toEqual(['x']);
  });
});

describe('FlowGate', () => {
  function gate() {
    const calls: string[] = [];
    const g = new FlowGate({ pause: () => calls.push('pause'), resume: () => calls.push('resume') }, 100, 10);
    return { g, calls };
  }

  it('pauses when any consumer is above high, resumes when all are below low', () => {
    const { g, calls } = gate();
    const a = g.subscribe({ send() {} });
    const b = g.subscribe({ send() {} });
    g.deliver(new Uint8Array(60));
    expect(calls).toEqual([]);
    g.deliver(new Uint8Array(60));
    expect(calls).toEqual(['pause']);
    expect(g.paused).toBe(true);
    a.ack(120);
    expect(calls).toEqual(['pause']); // b still behind
    b.ack(100);
    expect(calls).toEqual(['pause']); // b at 20, not below 10
    b.ack(15);
    expect(calls).toEqual(['pause', 'resume']);
    b.ack(1000);
    expect(g.maxUnacked).toBe(0);
  });

  it('a closed or throwing subscription releases the pty; releaseSinks lets the pty run', () => {
    const { g, calls } = gate();
    const a = g.subscribe({ send() {} });
    g.subscribe({
      send() {
        throw new Error('gone');
      },
    });
    expect(g.subscriberCount).toBe(2);
    g.deliver(new Uint8Array(200));
    expect(g.subscriberCount).toBe(1);
    expect(calls).toEqual(['pause']);
    a.close();
    expect(calls).toEqual(['pause', 'resume']);
    const b = g.subscribe({ send() {} });
    g.deliver(new Uint8Array(200));
    expect(calls).toEqual(['pause', 'resume', 'pause']);
    g.releaseSinks();
    expect(calls).toEqual(['pause', 'resume', 'pause', 'resume']);
    g.deliver(new Uint8Array(200));
    expect(g.paused).toBe(false);
    b.ack(1);
  });
});

describe('TerminalMirror', () => {
  it('counts bytes until parsed, decodes UTF-8 split across writes, serializes', async () => {
    const m = new TerminalMirror(40, 5, 100);
    const bytes = Buffer.from('héllo ✓\r\n');
    m.write(bytes.subarray(0, 2)); // splits the é
    m.write(bytes.subarray(2, 10)); // splits the ✓
    m.write(bytes.subarray(10));
    expect(m.pending).toBe(bytes.length);
    await new Promise<void>((r) => m.whenParsed(r));
    expect(m.pending).toBe(0);
    expect(m.screenLines()[0]).toBe('héllo ✓');
    expect(m.serialize()).toContain('héllo ✓');
    m.dispose();
  });
});

describe('TerminalMirror backlog', () => {
  it('never holds more than its backlog: skips the oldest from a line start, says so, and ends with the newest line', async () => {
    // A scrollback larger than what can follow the last skip (the backlog and what it keeps: ~17 500 of these lines), so
    // the marker is still in it at the end.
    const m = new TerminalMirror(80, 10, 30_000);
    const line = (i: number) => `line ${String(i).padStart(7, '0')} ${'x'.repeat(60)}\r\n`;
    const lines = 200_000; // ~15 MB, written at once: far more than the mirror parses before it must skip
    let maxPending = 0;
    for (let i = 0; i < lines; i += 1000) {
      m.write(Buffer.from(Array.from({ length: 1000 }, (_, k) => line(i + k)).join('')));
      maxPending = Math.max(maxPending, m.pending);
    }
    expect(maxPending).toBeLessThanOrEqual(MIRROR_BACKLOG_MAX + 80 * 1000);
    expect(m.skipped).toBeGreaterThan(10_000_000);
    await new Promise<void>((r) => m.whenParsed(r));
    expect(m.pending).toBe(0);
    const text = m.serialize();
    expect(text).toMatch(/MB of output skipped here while the session flooded/);
    // What was skipped is not in it: far fewer rows than lines written.
    expect((text.match(/line \d{7}/g) ?? []).length).toBeLessThan(lines / 2);
    expect(m.screenLines().filter(Boolean).at(-1)).toBe(line(lines - 1).trimEnd());
    // The kept part starts at a line start: every row after the marker is whole (the one before it may be cut).
    const after = text.slice(text.lastIndexOf('output skipped here'));
    for (const row of after.split(/\r?\n/).filter((r) => r.includes('line '))) expect(row).toMatch(/line \d{7} x{60}/);
    m.dispose();
  });
});

describe('TerminalMirror dispose', () => {
  it('calls waiting whenParsed callbacks on dispose', () => {
    const m = new TerminalMirror(80, 24, 100);
    m.write(Buffer.alloc(1_000_000, 0x61));
    let called = 0;
    m.whenParsed(() => {
      called++;
      expect(m.isDisposed).toBe(true);
    });
    expect(called).toBe(0);
    m.dispose();
    expect(called).toBe(1);
  });
});

describe('statusFromHook', () => {
  it('maps hook events', () => {
    expect(statusFromHook({ hook_event_name: 'PermissionRequest' })).toEqual({
      kind: 'attention',
      status: 'needs_you',
      detail: 'permission prompt',
    });
    expect(statusFromHook({ hook_event_name: 'Notification', notification_type: 'permission_prompt', message: 'May I?' })).toMatchObject({
      status: 'needs_you',
      detail: 'May I?',
    });
    expect(statusFromHook({ hook_event_name: 'Notification', notification_type: 'elicitation_dialog' })).toMatchObject({
      status: 'needs_you',
    });
    expect(statusFromHook({ hook_event_name: 'Notification', notification_type: 'idle_prompt' })).toEqual({
      kind: 'waiting',
      status: 'idle',
      detail: 'waiting for you',
    });
    expect(statusFromHook({ hook_event_name: 'Notification', notification_type: 'auth_success' })).toBeNull();
    expect(statusFromHook({ hook_event_name: 'Stop' })).toEqual({ kind: 'waiting', status: 'idle', detail: 'waiting for you' });
    expect(statusFromHook({ hook_event_name: 'StopFailure', error: 'rate_limit' })).toMatchObject({
      status: 'idle',
      detail: 'API error: rate_limit',
    });
    expect(statusFromHook({ hook_event_name: 'StopFailure', error: 'server_error', error_details: '529' })).toMatchObject({
      detail: 'API error: server_error (529)',
    });
    for (const name of ['UserPromptSubmit', 'PreToolUse', 'PostToolUse']) {
      expect(statusFromHook({ hook_event_name: name })).toEqual({ kind: 'working', status: 'working', detail: null });
    }
    expect(statusFromHook({ hook_event_name: 'SessionStart' })).toBeNull();
    expect(statusFromHook({ hook_event_name: 'SubagentStop' })).toBeNull();
  });
});

describe('looksLikePermissionPrompt', () => {
  it('spots Claude-style menus near the bottom', () => {
    const screen = [
      '╭──────────────────────────────╮',
      '│ Bash command                 │',
      '│   rm -rf build               │',
      '│ Do you want to proceed?      │',
      '│ ❯ 1. Yes                     │',
      "│   2. Yes, and don't ask again │",
      '│   3. No (esc)                │',
      '╰──────────────────────────────╯',
      '',
      '',
    ];
    expect(looksLikePermissionPrompt(screen)).toBe(true);
  });

  it('spots a line-mode question on the last line', () => {
    expect(looksLikePermissionPrompt(['building...', 'Overwrite config.json? (y/n) ', '', ''])).toBe(true);
    expect(looksLikePermissionPrompt(['Continue? [Y/n]'])).toBe(true);
    expect(looksLikePermissionPrompt(['Do you want to continue'])).toBe(true);
    expect(looksLikePermissionPrompt(['Allow network access?'])).toBe(true);
  });

  it('ignores an answered question and ordinary output', () => {
    expect(looksLikePermissionPrompt(['Overwrite config.json? (y/n) y', 'wrote config.json', ''])).toBe(false);
    expect(looksLikePermissionPrompt(['$ npm test', 'All 12 tests passed', '> '])).toBe(false);
    expect(looksLikePermissionPrompt(['   ', ''])).toBe(false);
    expect(looksLikePermissionPrompt([])).toBe(false);
  });

  it('only looks at the last few non-empty lines for menus', () => {
    const old = ['❯ 1. Yes', ...Array.from({ length: 10 }, (_, i) => `output ${i}`)];
    expect(looksLikePermissionPrompt(old)).toBe(false);
  });
});

describe('exit statuses', () => {
  it('names signals and maps exits', () => {
    expect(signalName(15)).toBe('SIGTERM');
    expect(signalName(9)).toBe('SIGKILL');
    expect(signalName(0)).toBeNull();
    expect(signalName(undefined)).toBeNull();
    expect(exitStatus(0, null)).toEqual({ status: 'done', detail: null });
    expect(exitStatus(1, null)).toEqual({ status: 'failed', detail: 'exit code 1' });
    expect(exitStatus(null, 'SIGSEGV')).toEqual({ status: 'failed', detail: 'killed by SIGSEGV' });
  });
});

describe('floodCommand', () => {
  it('writes exactly totalBytes of printable lines and exits 0', () => {
    for (const n of [0, 150, 1_000_003]) {
      const c = floodCommand(n);
      const out = execFileSync(c.command, c.args, { maxBuffer: 4_000_000 });
      expect(out.length).toBe(n);
      expect(/^[\x20-\x7e\n]*$/.test(out.toString('latin1'))).toBe(true);
      expect(floodPtyBytes(n) - n).toBe(out.toString('latin1').split('\n').length - 1);
    }
    expect(() => floodCommand(-1)).toThrow();
  });
});

describe('floodCommand lingering', () => {
  it('stays alive lingerMs after its last write', () => {
    const c = floodCommand(1000, { lingerMs: 300 });
    const t0 = Date.now();
    expect(execFileSync(c.command, c.args).length).toBe(1000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
  });
});
