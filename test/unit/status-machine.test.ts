// The one writer of a session's status, without a pty: facts, hooks, input and the meter in, statuses out.
import { describe, expect, it } from 'vitest';
import { SessionStatusMachine } from '../../electron/engine/sessions/status-machine.ts';
import type { SessionStatus } from '../../electron/shared/contract.ts';

function machine() {
  const log: Array<[SessionStatus, string | null]> = [];
  const m = new SessionStatusMachine((s, d) => log.push([s, d]));
  return { m, log };
}
const exited = (exitCode: number | null, over: object = {}) =>
  ({ kind: 'exited', exitCode, signal: null, stopped: null, spawnFailure: null, ...over }) as const;

describe('SessionStatusMachine', () => {
  it('follows a process from start to exit through activity and quiet', () => {
    const { m, log } = machine();
    m.fact({ kind: 'started', pid: 7 });
    m.fact({ kind: 'active' });
    m.fact({ kind: 'quiet', prompt: false });
    m.fact({ kind: 'active' });
    m.fact({ kind: 'quiet', prompt: true });
    m.input();
    m.fact(exited(0));
    expect(log).toEqual([
      ['starting', null],
      ['working', null],
      ['idle', null],
      ['working', null],
      ['needs_you', 'waiting for an answer'],
      ['working', null],
      ['done', null],
    ]);
  });

  it('exits: stopped (killed after the grace), a spawn failure, a signal, a failure code', () => {
    const cases: Array<[Parameters<SessionStatusMachine['fact']>[0], [SessionStatus, string | null]]> = [
      [
        exited(null, { signal: 'SIGKILL', stopped: { killedAfterMs: 3000 } }),
        ['stopped', 'did not exit on SIGTERM within 3000 ms; killed'],
      ],
      [exited(0, { stopped: { killedAfterMs: null } }), ['stopped', null]],
      [exited(1, { spawnFailure: 'cannot start "x": No such file' }), ['failed', 'cannot start "x": No such file']],
      [exited(null, { signal: 'SIGSEGV' }), ['failed', 'killed by SIGSEGV']],
      [exited(2), ['failed', 'exit code 2']],
    ];
    for (const [fact, want] of cases) {
      const { m } = machine();
      m.fact({ kind: 'started', pid: 1 });
      m.fact(fact);
      expect([m.status, m.detail]).toEqual(want);
    }
  });

  it('a Stop hook is sticky against output until input; late hooks change nothing', () => {
    const { m } = machine();
    m.fact({ kind: 'started', pid: 1 });
    m.hook({ hook_event_name: 'UserPromptSubmit' });
    m.hook({ hook_event_name: 'Stop' });
    m.fact({ kind: 'active' });
    expect([m.status, m.detail]).toEqual(['idle', 'waiting for you']);
    m.input();
    m.fact({ kind: 'active' });
    expect(m.status).toBe('working');
    m.fact(exited(0));
    expect(m.hook({ hook_event_name: 'UserPromptSubmit' })).toBeNull();
    expect(m.status).toBe('done');
  });

  it('the meter lifts only what it set, and never a final status', () => {
    const { m } = machine();
    m.fact({ kind: 'started', pid: 1 });
    m.hook({ hook_event_name: 'PermissionRequest' });
    m.meter('working', null);
    expect(m.status).toBe('needs_you');
    m.meter('over_budget', 'run budget $1.00 reached');
    m.meter('working', null);
    expect(m.status).toBe('working');
    m.fact(exited(0));
    m.meter('rate_limited', 'retry in 5 s');
    expect(m.status).toBe('done');
  });

  it('interrupted only while queued or running', () => {
    const a = machine();
    expect(a.m.interrupted('the pty host stopped')).toBe(true);
    expect(a.m.status).toBe('interrupted');
    const b = machine();
    b.m.fact({ kind: 'failed_to_start', detail: 'cannot start "x": command not found on the session\'s PATH' });
    expect(b.m.interrupted('the pty host stopped')).toBe(false);
    expect(b.m.status).toBe('failed');
  });
});
