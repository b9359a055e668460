// The engine end to end through its API: real ptys, real git worktrees, the WebSocket contract.
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { Engine } from '../../electron/engine/engine.ts';
import { EngineClient, type WebSocketCtor } from '../../electron/shared/client.ts';
import type { EngineEvent, LaunchResult, SessionInfo } from '../../electron/shared/contract.ts';
import { git, makeRepo, tempDir } from '../fixtures/repo.ts';
import { waitFor } from '../fixtures/wait.ts';

const engines: Engine[] = [];
const clients: EngineClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const e of engines.splice(0)) await e.close();
});

async function startEngine(dataDir = tempDir('flotilla-data-')): Promise<Engine> {
  const engine = await Engine.create({ dataDir });
  engines.push(engine);
  return engine;
}

async function connect(engine: Engine): Promise<EngineClient> {
  const client = await EngineClient.connect(engine.wsUrl, WebSocket as unknown as WebSocketCtor);
  clients.push(client);
  return client;
}

const shellTemplate = (repo: string, extra = '') => `
name: Echo Test
repo: ${repo}
count: 3
concurrency: 2
agent:
  preset: shell
  command: node
  args: ["-e", "console.log('slot {{index}} says {{task}} on {{branch}}'); setTimeout(() => {}, 400)"]
provider: { preset: custom, baseUrl: "http://127.0.0.1:9/anthropic" }
tasks: [alpha, beta, gamma]
${extra}`;

describe('engine', () => {
  it('launches a run in worktrees, queues beyond concurrency, and ends with every session done', async () => {
    const repo = makeRepo();
    const engine = await startEngine();
    const client = await connect(engine);
    const events: EngineEvent[] = [];
    client.onEvent((e) => events.push(e));

    const result: LaunchResult = await client.call('launch', { templateText: shellTemplate(repo) });
    expect(result.sessions.map((s) => s.slot)).toEqual([1, 2, 3]);
    // concurrency 2: the third waits in the queue at first.
    expect(result.sessions.filter((s) => s.status === 'queued').length).toBeGreaterThanOrEqual(1);

    await engine.waitForRun(result.run.id);
    const sessions: SessionInfo[] = await client.call('listSessions', { runId: result.run.id });
    expect(sessions.map((s) => [s.status, s.statusDetail])).toEqual([
      ['done', null],
      ['done', null],
      ['done', null],
    ]);
    for (const s of sessions) {
      expect(s.exitCode).toBe(0);
      expect(s.branch).toBe(`flotilla/${result.run.slug}/${s.slot}`);
      expect(s.worktree.startsWith(engine.dataDir)).toBe(true);
      expect(git(s.worktree, 'rev-parse', '--abbrev-ref', 'HEAD')).toBe(s.branch);
    }
    // Never more than two ran at once: the queued one only left the queue after another ended.
    const statusEvents = events.filter((e): e is Extract<EngineEvent, { event: 'session' }> => e.event === 'session');
    let running = 0;
    let peak = 0;
    const state = new Map<string, string>();
    for (const e of statusEvents) {
      const before = state.get(e.session.id);
      const live = (st?: string) => st === 'starting' || st === 'working' || st === 'idle' || st === 'needs_you';
      if (!live(before) && live(e.session.status)) running++;
      if (live(before) && !live(e.session.status)) running--;
      state.set(e.session.id, e.session.status);
      peak = Math.max(peak, running);
    }
    expect(peak).toBe(2);
    expect(events.some((e) => e.event === 'launchProgress' && e.progress.phase === 'worktrees')).toBe(true);
    // The user's own checkout is untouched.
    expect(git(repo, 'status', '--porcelain')).toBe('');
    expect(git(repo, 'rev-parse', '--abbrev-ref', 'HEAD')).toBe('main');

    const report = await engine.call('report', { runId: result.run.id });
    expect(report.run.name).toBe('Echo Test');
    expect(report.sessions).toHaveLength(3);
    expect(report.sessions[0]).toMatchObject({ slot: 1, task: 'alpha', status: 'done', exitCode: 0, changedFiles: [] });
    expect(report.sessions[0]!.spend).toEqual({ usd: 0, inputTokens: 0, cacheReadTokens: 0, outputTokens: 0, requests: 0 });
    expect(report.conflicts).toEqual([]);
    expect(report.totals).toEqual({ usd: 0, requests: 0 });

    const snap = await client.call('snapshot', { sessionId: sessions[1]!.id });
    expect(snap.data).toContain(`slot 2 says beta on flotilla/${result.run.slug}/2`);

    const cleaned = await client.call('cleanRun', { runId: result.run.id });
    expect(cleaned).toMatchObject({ removedWorktrees: 3, removedBranches: 3 });
    expect(git(repo, 'branch', '--list', 'flotilla/*')).toBe('');
    for (const s of sessions) expect(existsSync(s.worktree)).toBe(false);
  });

  it('streams output to a subscriber, takes input and resizes, stops and restarts', async () => {
    const repo = makeRepo();
    const engine = await startEngine();
    const client = await connect(engine);
    const script = [
      "process.stdin.setEncoding('utf8');",
      "process.stdout.on('resize', () => console.log('size ' + process.stdout.columns + 'x' + process.stdout.rows));",
      "console.log('ready');",
      "process.stdin.on('data', (d) => { for (const line of d.split(/\\r|\\n/)) if (line) console.log('got: ' + line); });",
    ].join(' ');
    const text = `
name: interactive
repo: ${repo}
agent: { preset: shell, command: node, args: ["-e", ${JSON.stringify(script)}] }
provider: { preset: custom, baseUrl: "http://127.0.0.1:9" }
`;
    const { sessions } = (await client.call('launch', { templateText: text })) as LaunchResult;
    const id = sessions[0]!.id;
    let received = '';
    const decoder = new TextDecoder();
    await client.subscribe(id, {
      onSnapshot: (snap) => (received += snap.data),
      onData: (data, consumed) => {
        received += decoder.decode(data, { stream: true });
        consumed(data.length);
      },
    });
    await waitFor(async () => (await client.call('snapshot', { sessionId: id })).data.includes('ready'), 'ready', 10_000);
    await client.call('input', { sessionId: id, data: 'hello engine\r' });
    await waitFor(() => received.includes('got: hello engine'), 'echo of the input', 10_000);
    await client.call('resize', { sessionId: id, cols: 100, rows: 40 });
    await waitFor(() => received.includes('size 100x40'), 'resize reaching the child', 10_000);

    await client.call('stop', { sessionId: id });
    let info = (await client.call('listSessions', {})).find((s: SessionInfo) => s.id === id);
    expect(info!.status).toBe('stopped');

    await client.call('restart', { sessionId: id });
    await waitFor(
      () => {
        const s = engine.registry.listSessions().find((x) => x.id === id);
        return s && (s.status === 'working' || s.status === 'idle');
      },
      'restarted session to run',
      10_000,
    );
    await client.call('stop', { sessionId: id });
    info = engine.registry.listSessions().find((s) => s.id === id);
    expect(info!.status).toBe('stopped');
  });

  it('streams a queued session to a client that subscribed before it started', async () => {
    const repo = makeRepo();
    const engine = await startEngine();
    const client = await connect(engine);
    const text = `
name: queued
repo: ${repo}
count: 2
concurrency: 1
agent: { preset: shell, command: node, args: ["-e", "setTimeout(() => console.log('hello from {{index}}'), 300)"] }
provider: { preset: custom, baseUrl: "http://127.0.0.1:9" }
`;
    const { sessions } = (await client.call('launch', { templateText: text })) as LaunchResult;
    expect(sessions[1]!.status).toBe('queued');
    let received = '';
    const snap = await new Promise<string>((resolve, reject) => {
      client
        .subscribe(sessions[1]!.id, {
          onSnapshot: (s) => resolve(s.data),
          onData: (data, consumed) => {
            received += new TextDecoder().decode(data);
            consumed(data.length);
          },
        })
        .catch(reject);
    });
    expect(snap).toBe('');
    await waitFor(() => received.includes('hello from 2'), 'output of the session that was queued', 15_000);
  });

  it('refuses requests without the token and from a foreign Origin', async () => {
    const engine = await startEngine();
    const noToken = await fetch(`${engine.origin}/api/listRuns`, { method: 'POST', body: '{}' });
    expect(noToken.status).toBe(401);
    const wrong = await fetch(`${engine.origin}/api/listRuns?token=nope`, { method: 'POST', body: '{}' });
    expect(wrong.status).toBe(401);
    const ok = await fetch(`${engine.origin}/api/listRuns?token=${engine.token}`, { method: 'POST', body: '{}' });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ ok: true, data: [] });

    const foreign = await fetch(`${engine.origin}/api/listRuns?token=${engine.token}`, {
      method: 'POST',
      body: '{}',
      headers: { origin: 'https://evil.example' },
    });
    expect(foreign.status).toBe(403);

    const wsNoToken = new WebSocket(engine.wsUrl.replace(/token=[^&]+/, 'token=bad'));
    const code = await new Promise<number>((resolve) => wsNoToken.on('unexpected-response', (_req, res) => resolve(res.statusCode!)));
    expect(code).toBe(401);
    const wsForeign = new WebSocket(engine.wsUrl, { origin: 'https://evil.example' });
    const code2 = await new Promise<number>((resolve) => wsForeign.on('unexpected-response', (_req, res) => resolve(res.statusCode!)));
    expect(code2).toBe(403);
    // DNS rebinding: a page of another site names its own host; a loopback name on another port is an SSH tunnel's.
    const rebound = new WebSocket(engine.wsUrl, { headers: { host: 'evil.example:80' } });
    const code3 = await new Promise<number>((resolve) => rebound.on('unexpected-response', (_req, res) => resolve(res.statusCode!)));
    expect(code3).toBe(403);
    const tunnelled = new WebSocket(engine.wsUrl, { headers: { host: '127.0.0.1:1' } });
    await new Promise<void>((resolve, reject) => {
      tunnelled.once('open', () => resolve());
      tunnelled.once('unexpected-response', (_req, res) => reject(new Error(`refused: ${res.statusCode}`)));
    });
    tunnelled.close();

    // Bad arguments name the field.
    const bad = await fetch(`${engine.origin}/api/resize?token=${engine.token}`, {
      method: 'POST',
      body: '{"sessionId":"x","cols":"wide","rows":10}',
    });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.message).toMatch(/cols/);
  });

  it('a launch that fails half-way names the slot and leaves no worktrees or branches behind', async () => {
    const repo = makeRepo();
    const engine = await startEngine();
    const text = shellTemplate(repo).replace('count: 3', 'count: 10').replace('concurrency: 2', 'concurrency: 10');
    // Plant a file where slot 7's worktree directory must go, the moment the run exists (events are synchronous,
    // so this happens before any worktree is created).
    let runId = '';
    let slug = '';
    engine.on('event', (e: EngineEvent) => {
      if (e.event === 'run' && !runId) {
        runId = e.run.id;
        slug = e.run.slug;
        const runRoot = join(engine.dataDir, 'worktrees', runId);
        mkdirSync(runRoot, { recursive: true });
        writeFileSync(join(runRoot, '7'), 'in the way');
      }
    });
    const err = await engine.call('launch', { templateText: text }).catch((e) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toMatch(/slot 7/);
    expect(git(repo, 'branch', '--list', `flotilla/${slug}/*`)).toBe('');
    expect(git(repo, 'worktree', 'list', '--porcelain')).not.toContain(runId);
    const failed = engine.registry.listRuns().find((r) => r.id === runId)!;
    expect(failed.state).toBe('failed');
    expect(failed.error).toMatch(/slot 7/);
    expect(engine.registry.listSessions(runId)).toEqual([]);
  });

  it('rejects bad input with messages that say what to do', async () => {
    const engine = await startEngine();
    const notRepo = tempDir();
    await expect(engine.call('launch', { templateText: shellTemplate(notRepo) })).rejects.toThrow(/not a git repository/);
    const repo = makeRepo();
    await expect(engine.call('launch', { templateText: shellTemplate(repo, 'base: no-such-ref') })).rejects.toThrow(/no-such-ref/);
    await expect(
      engine.call('launch', { templateText: shellTemplate(repo).replace('command: node', 'command: no-such-agent-xyz') }),
    ).rejects.toThrow(/no-such-agent-xyz.*not found on PATH/);
    await expect(engine.call('launch', { templatePath: join(notRepo, 'missing.yaml') })).rejects.toThrow(/not found/i);
    await expect(engine.call('launch', { templateText: shellTemplate(repo), count: 65 })).rejects.toThrow(/count/);
    // Nothing was half-made.
    expect(engine.registry.listRuns()).toEqual([]);
    expect(git(repo, 'worktree', 'list').split('\n')).toHaveLength(1);
  });

  it('refuses a port in use with a clear message', async () => {
    const engine = await startEngine();
    const port = Number(new URL(engine.origin).port);
    await expect(Engine.create({ dataDir: tempDir(), port })).rejects.toThrow(new RegExp(`port ${port}.*in use`));
  });
});
