// The pty host: every session's pty, mirror and flow control run on a worker thread of the engine. Through the real
// engine and real ptys: flow control still holds across the thread (a client that never acks pauses a flood, Ctrl-C
// still ends it), the engine keeps answering while sessions flood, and a pty host killed mid-flood leaves the engine
// up, its sessions interrupted (their agents killed and reaped before the thread ends), and a restart that works.
import { afterEach, describe, expect, it } from 'vitest';
import { Engine } from '../../electron/engine/engine.ts';
import { FlowControl } from '../../electron/shared/contract.ts';
import { floodCommand } from '../fixtures/flood.ts';
import { makeRepo, tempDir } from '../fixtures/repo.ts';
import { waitFor } from '../fixtures/wait.ts';

const engines: Engine[] = [];
afterEach(async () => {
  for (const e of engines.splice(0)) await e.close();
});

async function engine(): Promise<Engine> {
  const e = await Engine.create({ dataDir: tempDir('flotilla-data-') });
  engines.push(e);
  return e;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** A run of `count` sessions each running `command args` (JSON-quoted into the template). */
function template(name: string, count: number, command: string, args: string[]): string {
  return `name: ${name}
repo: ${makeRepo()}
count: ${count}
agent: { preset: shell, command: ${JSON.stringify(command)}, args: ${JSON.stringify(args)} }
provider: { preset: custom, baseUrl: "http://127.0.0.1:9" }
`;
}

describe('pty host', () => {
  it('runs the ptys on a worker thread: a client that never acks pauses the flood with bounded memory, Ctrl-C still ends it', async () => {
    const e = await engine();
    const flood = floodCommand(200_000_000);
    const { sessions } = await e.call('launch', { templateText: template('flood', 1, flood.command, flood.args) });
    const id = sessions[0]!.id;
    let received = 0;
    const { subscription } = e.scheduler.subscribe(id, { send: (d) => void (received += d.byteLength) });
    expect(e.ptyHost.threadId).not.toBeNull();
    // It never acks: the host pauses the pty once this client is a high watermark behind.
    await waitFor(() => received > FlowControl.HighWatermark, 'the client to fall a high watermark behind');
    let last = -1;
    await waitFor(async () => {
      // The engine still answers while the flood is paused; received stops growing.
      await e.call('listSessions', {});
      const still = received === last;
      last = received;
      return still && received > 0;
    }, 'the flood to pause');
    expect(received).toBeLessThan(FlowControl.HighWatermark + 4 * 1024 * 1024);
    e.scheduler.input(id, '\x03');
    await waitFor(
      () => e.registry.sessionInfo(id).status === 'failed' || e.registry.sessionInfo(id).status === 'done',
      'Ctrl-C to end the flood',
    );
    subscription.close();
  });

  it('killed mid-flood: the engine keeps answering, the sessions show interrupted and their agents are gone, a restart works', async () => {
    const e = await engine();
    const flood = floodCommand(2_000_000_000);
    const { sessions } = await e.call('launch', { templateText: template('crash', 3, flood.command, flood.args) });
    let received = 0;
    const subs = sessions.map((s) => e.scheduler.subscribe(s.id, { send: (d) => void (received += d.byteLength) }).subscription);
    // Ack everything, so the floods run at full speed when the host goes.
    const acker = setInterval(() => subs.forEach((s) => s.ack(1 << 30)), 5);
    try {
      await waitFor(() => received > 5_000_000, 'the floods to run');
      const pids = sessions.map((s) => e.registry.sessionInfo(s.id).pid!);
      expect(pids.every((p) => p > 0 && alive(p))).toBe(true);
      await e.ptyHost.crashForTest();
      for (const s of sessions)
        await waitFor(() => e.registry.sessionInfo(s.id).status === 'interrupted', `slot ${s.slot} to show interrupted`);
      const info = e.registry.sessionInfo(sessions[0]!.id);
      expect(info.statusDetail).toMatch(/pty host stopped/);
      expect(info.endedAt).not.toBeNull();
      await waitFor(() => pids.every((p) => !alive(p)), 'the interrupted agents to be gone');
      // The engine answered all along and still does.
      expect((await e.call('listSessions', {})).map((s) => s.status)).toEqual(['interrupted', 'interrupted', 'interrupted']);
    } finally {
      clearInterval(acker);
      for (const sub of subs) sub.close();
    }
    // What a client attaching now sees of a session whose screen went with the host: a line saying so.
    expect((await e.call('snapshot', { sessionId: sessions[1]!.id })).data).toMatch(/interrupted/);

    // Restart one: a new pty host thread, the session runs and its output arrives to a new subscriber.
    const id = sessions[0]!.id;
    await e.call('restart', { sessionId: id });
    let fresh = 0;
    const sub = e.scheduler.subscribe(id, { send: (d) => void (fresh += d.byteLength) }).subscription;
    const ack = setInterval(() => sub.ack(1 << 30), 5);
    try {
      await waitFor(() => fresh > 1_000_000, 'the restarted session to flood again');
      expect(e.registry.sessionInfo(id).status).toMatch(/working|starting/);
      expect(e.ptyHost.threadId).not.toBeNull();
      expect((await e.call('snapshot', { sessionId: id })).data).toContain('flotilla flood');
    } finally {
      clearInterval(ack);
    }
    await e.call('stop', { sessionId: id });
    expect(e.registry.sessionInfo(id).status).toBe('stopped');
  });
});
