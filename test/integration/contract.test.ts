// Every command of the contract, sent over the real WebSocket (and a few over HTTP) to a real engine running real
// agents in real worktrees: each answer must parse against the command's result schema — the typed client checks
// it, and so does this test — and no command is left out.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { EngineClient, HttpEngineClient, type WebSocketCtor } from '../../electron/shared/client.ts';
import {
  COMMAND_NAMES,
  Commands,
  type CommandArgs,
  type CommandName,
  type CommandResult,
  type SessionInfo,
} from '../../electron/shared/contract.ts';
import { useEngines } from '../fixtures/engine.ts';
import { git, makeRepo, tempDir } from '../fixtures/repo.ts';
import { waitFor } from '../fixtures/wait.ts';

const KEY = 'sk-contract';
const env = useEngines({ key: KEY, keyEnv: 'CONTRACT_KEY' });

describe('the contract, end to end', () => {
  it('answers every command with a result its schema accepts', async () => {
    const upstream = env.upstream();
    const engine = await env.engine();
    const ws = await EngineClient.connect(engine.wsUrl, WebSocket as unknown as WebSocketCtor);
    const http = new HttpEngineClient({ origin: engine.origin, token: engine.token }, fetch);
    const called = new Set<CommandName>();
    const call = async <C extends CommandName>(cmd: C, args: CommandArgs<C>, via: 'ws' | 'http' = 'ws'): Promise<CommandResult<C>> => {
      const result = await (via === 'ws' ? ws.call(cmd, args) : http.call(cmd, args));
      expect(Commands[cmd].result.safeParse(result).success, `${cmd}'s result matches its schema`).toBe(true);
      called.add(cmd);
      return result;
    };
    try {
      // Settings, keys, prices, templates.
      await call('settings', {}, 'http');
      // "Open in editor" runs this command line with the worktree appended: a real process that leaves a mark there.
      const editor = `${JSON.stringify(process.execPath)} -e "require('fs').writeFileSync(process.argv[1] + '/opened-by-editor', 'x')"`;
      await call('saveSettings', { settings: { defaultBudget: { runUsd: 50 }, ui: { editor } } });
      expect((await call('paths', {})).logs).toMatch(/logs$/);
      expect((await call('health', {})).disk).toMatchObject({ full: false, message: null, pendingWrites: 0 });
      // Hosts: nothing listens on port 1, so the host is added but not reached; removing it closes its link.
      expect(await call('listHosts', {})).toEqual([]);
      expect(await call('addHost', { name: 'nowhere', destination: 'ssh://nobody@127.0.0.1:1' })).toMatchObject({ name: 'nowhere' });
      expect((await call('listHosts', {})).map((h) => h.name)).toEqual(['nowhere']);
      await call('removeHost', { name: 'nowhere' });
      await call('setProviderKey', { name: 'UNUSED_KEY', value: 'sk-unused', persist: false });
      expect((await call('prices', {})).length).toBeGreaterThan(5);
      const repo = makeRepo({ 'README.md': '# demo\n', 'src/app.ts': 'one\ntwo\n' });
      // An agent that writes a file, says it is ready, then echoes one line of input and waits to be stopped.
      const agent =
        "require('fs').writeFileSync('src/app.ts', 'one\\\\ntwo from {{index}}\\\\n'); console.log('ready {{index}}'); process.stdin.once('data', (d) => console.log('got ' + d)); setInterval(() => {}, 1000)";
      const text = `name: contract
repo: ${repo}
count: 2
concurrency: 2
agent: { preset: shell, command: node, args: ["-e", "${agent}"] }
provider: { preset: custom, baseUrl: "${upstream.url}", apiKeyEnv: CONTRACT_KEY }
model: kimi-k2.6
`;
      const saved = await call('saveTemplate', { name: 'contract', text, where: 'data' });
      expect((await call('listTemplates', { repo })).map((t) => t.path)).toContain(saved.path);
      // Saved with the editor's schema line first.
      expect((await call('readTemplate', { path: saved.path })).text).toBe(
        `# yaml-language-server: $schema=../template.schema.json\n${text}`,
      );

      // A run: its sessions, terminals, spend, balance.
      const { run, sessions } = await call('launch', { templatePath: saved.path });
      const [s1, s2] = sessions as [SessionInfo, SessionInfo];
      expect((await call('listRuns', {}, 'http')).map((r) => r.id)).toContain(run.id);
      expect((await call('listSessions', { runId: run.id })).map((s) => s.id)).toEqual([s1.id, s2.id]);
      let seen = '';
      const unsubscribe = await ws.subscribe(s1.id, {
        onSnapshot: (snap) => {
          called.add('subscribe');
          expect(Commands.subscribe.result.safeParse(snap).success).toBe(true);
          seen += snap.data;
        },
        onData: (d, consumed) => {
          seen += Buffer.from(d).toString();
          consumed(d.length);
        },
      });
      await waitFor(() => seen.includes('ready 1'), 'the first agent to be ready');
      // Quiet (a background tile): small outputs come batched, but they come; then live again.
      expect(await ws.call('pace', { sessionId: s1.id, quiet: true })).toBeNull();
      called.add('pace');
      await call('resize', { sessionId: s1.id, cols: 100, rows: 30 });
      await call('input', { sessionId: s1.id, data: 'hello\r' });
      await waitFor(() => seen.includes('got hello'), 'the echo');
      await ws.call('pace', { sessionId: s1.id, quiet: false });
      await call('sendFeedback', { sessionId: s2.id, text: 'feedback' });
      await waitFor(
        async () => (await call('snapshot', { sessionId: s2.id })).data.includes('got feedback'),
        'the feedback typed into slot 2',
      );
      await unsubscribe();
      called.add('unsubscribe');
      expect((await call('snapshot', { sessionId: s1.id })).data).toContain('got hello');
      await call('raiseBudget', { sessionId: s2.id, usd: 3 });
      expect((await call('spend', { runId: run.id })).sessions.find((s) => s.sessionId === s2.id)?.budgetUsd).toBe(3);
      await call('ledger', { runId: run.id });
      expect((await call('balance', { runId: run.id })).availableUsd).toBeGreaterThan(0);
      expect(await call('rejectedRequest', { sessionId: s1.id })).toBeNull();
      expect((await call('listModels', { provider: 'moonshot' })).source).toBe('shipped');
      // Nothing is held: declining answers nothing; the governor knows the run's provider key.
      await call('declineBudget', { sessionId: s2.id });
      expect((await call('governor', {})).map((k) => k.key)).toContain('CONTRACT_KEY');

      // Review: both agents changed line 2 of src/app.ts differently — a conflict.
      await waitFor(async () => (await call('conflicts', { runId: run.id })).some((w) => w.kind === 'conflict'), 'the conflict');
      expect((await call('changes', { sessionId: s1.id })).map((f) => f.path)).toEqual(['src/app.ts']);
      expect((await call('diff', { sessionId: s1.id, path: 'src/app.ts' })).diff).toContain('+two from 1');
      expect((await call('pathAcross', { runId: run.id, path: 'src/app.ts' })).map((p) => p.slot)).toEqual([1, 2]);
      expect((await call('exportPatch', { sessionId: s1.id })).patch).toContain('two from 1');
      expect((await call('worktreePath', { sessionId: s1.id })).exists).toBe(true);
      expect(await call('watchFailures', { runId: run.id })).toEqual([]);
      expect((await call('runTotals', {})).find((t) => t.runId === run.id)).toMatchObject({
        usd: expect.any(Number),
        requests: expect.any(Number),
      });
      expect((await call('openIn', { sessionId: s2.id, app: 'editor' })).path).toBe(s2.worktree);
      await waitFor(() => existsSync(join(s2.worktree, 'opened-by-editor')), 'the editor to open the worktree');
      expect((await call('commit', { sessionId: s1.id, message: 'slot 1' })).commit).toMatch(/^[0-9a-f]{40}$/);
      expect((await call('mergePlan', { runId: run.id, sessionIds: [s1.id] })).steps.map((s) => s.slot)).toEqual([1]);
      const bare = tempDir('flotilla-origin-');
      git(bare, 'init', '-q', '--bare');
      git(repo, 'remote', 'add', 'origin', bare);
      expect((await call('push', { sessionId: s1.id })).branch).toBe(s1.branch);
      // No github.com here: without gh the error says to install it; with gh, that it cannot log in or reach GitHub.
      await expect(ws.call('openPullRequest', { sessionId: s1.id })).rejects.toMatchObject({
        code: expect.stringMatching(/^gh_(missing|auth|failed)$/),
        message: expect.stringMatching(/gh/),
      });
      called.add('openPullRequest');
      await call('stop', { sessionId: s1.id });
      await call('restart', { sessionId: s1.id });
      await call('stopRun', { runId: run.id });
      await call('resume', { sessionId: s1.id });
      await call('stop', { sessionId: s1.id });
      expect((await call('merge', { sessionId: s1.id })).target).toBe('main');
      expect(git(repo, 'show', 'HEAD:src/app.ts')).toBe('one\ntwo from 1');
      expect((await call('rebase', { sessionId: s1.id })).mode).toBe('none');
      await call('discard', { sessionId: s2.id, confirm: true });
      await engine.waitForRun(run.id);
      expect((await call('report', { runId: run.id })).sessions).toHaveLength(2);
      expect(await call('cleanRun', { runId: run.id }, 'http')).toMatchObject({ removedWorktrees: expect.any(Number) });

      // Merge all clean: a one-session run that writes a file and ends done.
      const one = await call('launch', {
        templateText: `name: one\nrepo: ${repo}\nagent: { preset: shell, command: node, args: ["-e", "require('fs').writeFileSync('one.txt', '1')"] }\nprovider: { preset: custom, baseUrl: "${upstream.url}", apiKeyEnv: CONTRACT_KEY }\n`,
      });
      await engine.waitForRun(one.run.id);
      expect((await call('mergeAllClean', { runId: one.run.id })).merged.map((m) => m.sessionId)).toEqual([one.sessions[0]!.id]);

      // The demo (a simulated provider, one agent).
      const demo = await call('demo', { count: 1 });
      expect(demo.run.name).toBe('demo');
      await call('stopRun', { runId: demo.run.id });

      expect([...called].sort()).toEqual([...COMMAND_NAMES].sort());
    } finally {
      ws.close();
    }
  });
});
