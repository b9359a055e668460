// The real Claude Code CLI run as Flotilla sessions: launched from a template into worktrees, its model traffic through
// the engine's per-session proxy to the stand-in upstream, its hooks driving the session status.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Engine } from '../../electron/engine/engine.ts';
import type { EngineEvent, SessionStatus } from '../../electron/shared/contract.ts';
import { startAnthropicUpstream, type AnthropicUpstream } from '../upstream/index.ts';
import { makeRepo, tempDir } from '../fixtures/repo.ts';

const BIN_DIR = resolve(import.meta.dirname, '../../node_modules/.bin');
const KEY = 'sk-real-provider-key-never-shown';

let upstream: AnthropicUpstream;
const engines: Engine[] = [];
beforeAll(async () => {
  if (!existsSync(join(BIN_DIR, 'claude'))) throw new Error('node_modules/.bin/claude is missing — run npm install');
  upstream = await startAnthropicUpstream({ apiKey: KEY });
});
afterAll(async () => upstream?.close());
afterEach(async () => {
  for (const e of engines.splice(0)) await e.close();
});

async function engineWithKey(dataDir = tempDir('flotilla-data-')): Promise<Engine> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${BIN_DIR}:${process.env.PATH}`,
    HOME: tempDir('flotilla-home-'),
    TEST_PROVIDER_KEY: KEY,
    // As if Flotilla itself ran inside Claude Code: this must not leak into sessions (a nested claude refuses to start).
    CLAUDECODE: '1',
  };
  const engine = await Engine.create({ dataDir, env });
  engines.push(engine);
  return engine;
}

function template(repo: string, preset: string, tasks: string[]): string {
  return `
name: claude-${preset}
repo: ${repo}
agent: { preset: ${preset} }
provider: { preset: custom, baseUrl: "${upstream.url}", style: anthropic, apiKeyEnv: TEST_PROVIDER_KEY }
model: kimi-k2.6
tasks: ${JSON.stringify(tasks)}
`;
}

/** Serialized terminal data as plain text: cursor-forward becomes spaces, other escape sequences go. */
function screenText(data: string): string {
  return data
    .replace(/\x1b\[(\d*)C/g, (_m, n: string) => ' '.repeat(Number(n || 1)))
    .replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '')
    .replace(/\x1b\][^\x07]*\x07/g, '');
}

function statusWatcher(engine: Engine) {
  const seen = new Map<string, SessionStatus[]>();
  engine.on('event', (e: EngineEvent) => {
    if (e.event !== 'session') return;
    const list = seen.get(e.session.id) ?? [];
    if (list.at(-1) !== e.session.status) list.push(e.session.status);
    seen.set(e.session.id, list);
  });
  return {
    of: (id: string) => seen.get(id) ?? [],
    until: (id: string, status: SessionStatus, timeoutMs = 60_000) =>
      new Promise<void>((res, rej) => {
        const t0 = Date.now();
        const tick = () => {
          if ((seen.get(id) ?? []).includes(status)) return res();
          if (Date.now() - t0 > timeoutMs) return rej(new Error(`session never reached ${status}; saw ${seen.get(id)?.join(' → ')}`));
          setTimeout(tick, 50);
        };
        tick();
      }),
  };
}

describe('Claude Code as a Flotilla session', () => {
  it('claude -p sessions write files in their own worktrees through the proxy, and end done', async () => {
    const repo = makeRepo();
    const engine = await engineWithKey();
    const hooks: string[] = [];
    engine.on('hook', (_id: string, body: { hook_event_name: string }) => hooks.push(body.hook_event_name));
    const before = upstream.requests.length;
    const { run, sessions } = await engine.call('launch', {
      templateText: template(repo, 'claude-code-batch', ['WRITE hello.txt hi from slot one', 'WRITE other.txt slot two was here']),
    });
    expect(sessions).toHaveLength(2);
    await engine.waitForRun(run.id);
    const ended = engine.registry.listSessions(run.id);
    expect(ended.map((s) => [s.status, s.exitCode])).toEqual([
      ['done', 0],
      ['done', 0],
    ]);
    expect(readFileSync(join(ended[0]!.worktree, 'hello.txt'), 'utf8')).toBe('hi from slot one');
    expect(readFileSync(join(ended[1]!.worktree, 'other.txt'), 'utf8')).toBe('slot two was here');
    // The user's checkout got nothing.
    expect(existsSync(join(repo, 'hello.txt'))).toBe(false);

    const mine = upstream.requests.slice(before).filter((r) => r.path.startsWith('/v1/messages'));
    expect(mine.length).toBeGreaterThanOrEqual(4);
    for (const r of mine) {
      // The upstream saw the real key; the agent only ever had its session token.
      expect(r.headers.authorization).toBe(`Bearer ${KEY}`);
      expect(r.body.model).toBe('kimi-k2.6');
    }
    const sessionIds = new Set(mine.map((r) => r.headers['x-claude-code-session-id']));
    expect(sessionIds).toEqual(new Set(ended.map((s) => s.agentSessionId)));
    expect(hooks).toEqual(expect.arrayContaining(['UserPromptSubmit', 'PostToolUse', 'Stop']));

    const report = await engine.call('report', { runId: run.id });
    expect(report.sessions.map((s) => s.changedFiles)).toEqual([['hello.txt'], ['other.txt']]);
  });

  it('an interactive session that asks for permission shows needs you, and carries on when answered', async () => {
    const repo = makeRepo();
    const engine = await engineWithKey();
    const watch = statusWatcher(engine);
    // A Write outside the worktree makes Claude Code ask, even under acceptEdits.
    const { sessions } = await engine.call('launch', { templateText: template(repo, 'claude-code', ['WRITE ../outside.txt escaped']) });
    const id = sessions[0]!.id;
    await watch.until(id, 'needs_you');
    // The hook can arrive a moment before the prompt is drawn.
    const t0 = Date.now();
    let screen = '';
    while (!/Do you want to create/.test(screen) && Date.now() - t0 < 20_000) {
      screen = screenText((await engine.call('snapshot', { sessionId: id })).data);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(screen).toMatch(/Do you want to create/);
    engine.scheduler.input(id, '\r');
    await watch.until(id, 'idle');
    const statuses = watch.of(id);
    expect(statuses.indexOf('needs_you')).toBeGreaterThan(statuses.indexOf('working'));
    expect(statuses.lastIndexOf('working')).toBeGreaterThan(statuses.indexOf('needs_you'));
    expect(readFileSync(join(sessions[0]!.worktree, '..', 'outside.txt'), 'utf8')).toBe('escaped');
    await engine.call('stop', { sessionId: id });
    expect(engine.registry.listSessions().find((s) => s.id === id)!.status).toBe('stopped');
  });

  it('sendFeedback to an idle Claude Code session: its next request carries the text and it writes the file asked for', async () => {
    const repo = makeRepo();
    const engine = await engineWithKey();
    const watch = statusWatcher(engine);
    const { sessions } = await engine.call('launch', { templateText: template(repo, 'claude-code', ['SAY ready for review']) });
    const id = sessions[0]!.id;
    await watch.until(id, 'idle');
    // Wait for the prompt to be drawn before typing into it.
    const t0 = Date.now();
    while (!/accept edits on/.test(screenText((await engine.call('snapshot', { sessionId: id })).data)) && Date.now() - t0 < 30_000)
      await new Promise((r) => setTimeout(r, 100));
    const before = upstream.requests.length;
    await engine.call('sendFeedback', { sessionId: id, text: 'WRITE feedback.txt src/api.ts:42: handle the empty list' });
    await watch.until(id, 'working');
    const t1 = Date.now();
    while (!existsSync(join(sessions[0]!.worktree, 'feedback.txt')) && Date.now() - t1 < 60_000)
      await new Promise((r) => setTimeout(r, 100));
    expect(readFileSync(join(sessions[0]!.worktree, 'feedback.txt'), 'utf8')).toBe('src/api.ts:42: handle the empty list');
    const turn = upstream.requests.slice(before).find((r) => JSON.stringify(r.body?.messages ?? []).includes('handle the empty list'));
    expect(turn, 'the feedback reached the model as the next prompt').toBeDefined();
    expect(JSON.stringify(turn!.body.messages)).toContain('SAY ready for review');
    await engine.call('stop', { sessionId: id });
  });

  it('a session of an earlier engine resumes its Claude Code conversation (--resume) in its worktree', async () => {
    const repo = makeRepo();
    const dataDir = tempDir('flotilla-data-');
    const first = await engineWithKey(dataDir);
    const { run, sessions } = await first.call('launch', {
      templateText: template(repo, 'claude-code-batch', ['WRITE notes.txt first turn']),
    });
    await first.waitForRun(run.id);
    await first.close();
    engines.splice(engines.indexOf(first), 1);

    const second = await engineWithKey(dataDir);
    statusWatcher(second);
    const id = sessions[0]!.id;
    expect(second.registry.listSessions(run.id)[0]).toMatchObject({ status: 'done' });
    const before = upstream.requests.length;
    await second.call('resume', { sessionId: id });
    const resumed = second.registry.listSessions(run.id)[0]!;
    expect(resumed.args).toEqual(expect.arrayContaining(['--resume', sessions[0]!.agentSessionId!]));
    expect(resumed.worktree).toBe(sessions[0]!.worktree);
    // Type only once the resumed conversation is on screen and the prompt waits for input.
    const t0 = Date.now();
    let screen = '';
    while (!(screen.includes('first turn') && /accept edits on/.test(screen)) && Date.now() - t0 < 30_000) {
      screen = screenText((await second.call('snapshot', { sessionId: id })).data);
      await new Promise((r) => setTimeout(r, 200));
    }
    second.scheduler.input(id, 'SAY resumed fine');
    await new Promise((r) => setTimeout(r, 300));
    second.scheduler.input(id, '\r');
    const t1 = Date.now();
    while (
      !upstream.requests.slice(before).some((r) => JSON.stringify(r.body?.messages ?? []).includes('resumed fine')) &&
      Date.now() - t1 < 30_000
    )
      await new Promise((r) => setTimeout(r, 100));
    if (Date.now() - t1 >= 30_000) console.log(screenText((await second.call('snapshot', { sessionId: id })).data));
    // The new turn carries the earlier conversation: Claude Code really resumed it.
    const turn = upstream.requests.slice(before).find((r) => JSON.stringify(r.body?.messages ?? []).includes('resumed fine'));
    expect(turn).toBeDefined();
    expect(JSON.stringify(turn!.body.messages)).toContain('WRITE notes.txt first turn');
    await second.call('stop', { sessionId: id });
  });
});
