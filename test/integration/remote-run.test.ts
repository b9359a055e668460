// An engine on another host over SSH (issue 24): a throwaway sshd on loopback and a throwaway user with its own HOME
// (test/fixtures/sshd.ts) stand for the host. `flotilla run --host` ships the build there, starts its engine with the
// user's login shell, hands the provider key over the tunnel, and a real Claude Code session runs as that user: its file
// lands in the host's worktree, spend is exact against the stand-in, the review's diff and a merge work through the
// same link, and afterwards no file under the host user's HOME holds the key.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findHost } from '../../electron/engine/hosts/index.ts';
import { HostLink } from '../../electron/engine/hosts/link.ts';
import { PriceTable } from '../../electron/engine/meter/index.ts';
import type { RunReport } from '../../electron/shared/contract.ts';
import { tempDir } from '../fixtures/repo.ts';
import { waitFor } from '../fixtures/wait.ts';
import { type RemoteUser, type TestSshd, cannotRunSshd, filesHolding, remoteRepo, startSshd } from '../fixtures/sshd.ts';
import { type AnthropicUpstream, type RecordedRequest, startAnthropicUpstream } from '../upstream/index.ts';
import { anthropicServedUsd } from '../upstream/served.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/flotilla.js');
const CLAUDE_BIN = join(ROOT, 'node_modules/.bin');
const KEY = 'sk-remote-provider-key-never-on-the-host';
const K26 = PriceTable.shipped().get('kimi-k2.6')!;

let sshd: TestSshd;
let upstream: AnthropicUpstream;
beforeAll(async () => {
  if (cannotRunSshd) return;
  sshd = await startSshd();
  upstream = await startAnthropicUpstream({ apiKey: KEY });
}, 30_000);
afterAll(async () => {
  await sshd?.stop(); // ends the users' processes too: their engines and agents
  await upstream?.close();
});

/** The CLI as a user runs it (with the host's ssh config and the provider key in its environment). */
function flotillaChild(dataDir: string, args: string[]) {
  const child = spawn(process.execPath, [BIN, ...args, '--data-dir', dataDir], {
    env: { ...process.env, FLOTILLA_SSH_CONFIG: sshd.config, TEST_PROVIDER_KEY: KEY },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const r = { child, out: '', err: '', closed: Promise.resolve<number | null>(null) };
  child.stdout.on('data', (d) => (r.out += d));
  child.stderr.on('data', (d) => (r.err += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 240_000);
  r.closed = new Promise((res) => child.on('close', (code) => (clearTimeout(timer), res(code))));
  return r;
}

async function flotilla(dataDir: string, args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const r = flotillaChild(dataDir, args);
  const code = await r.closed;
  return { code, out: r.out, err: r.err };
}

const servedUsd = (r: RecordedRequest) => anthropicServedUsd(r, K26);

describe.skipIf(cannotRunSshd !== null)(`engines on a host over SSH${cannotRunSshd ? ` (skipped: ${cannotRunSshd})` : ''}`, () => {
  let u: RemoteUser;
  let repo: string;
  let data: string;
  /** A template for the host (host: box), one session with `task`. */
  function template(task: string): string {
    const tpl = join(tempDir('flotilla-tpl-'), 'remote.yaml');
    writeFileSync(
      tpl,
      [
        'name: on-the-host',
        'host: box',
        'agent: { preset: claude-code-batch }',
        `provider: { preset: custom, baseUrl: "${upstream.url}", style: anthropic, apiKeyEnv: TEST_PROVIDER_KEY }`,
        'model: kimi-k2.6',
        `tasks: [${JSON.stringify(task)}]`,
      ].join('\n'),
    );
    return tpl;
  }

  it('flotilla run --host: a real Claude Code session on the host, exact spend, diff and merge there, no key on its disk', async () => {
    u = sshd.addUser({ profile: `export PATH=${CLAUDE_BIN}:$PATH` });
    repo = remoteRepo(u);
    data = tempDir('flotilla-local-');
    expect((await flotilla(data, ['hosts', 'add', 'box', u.alias])).out).toMatch(/^added box/);
    const tpl = template('WRITE hello.txt written on the host');
    const before = upstream.requests.length;
    const r = await flotilla(data, ['run', tpl, '--repo', repo, '--json']);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/installing Flotilla 0\.1\.0-[0-9a-f]{12} on box/);
    const report = JSON.parse(r.out) as RunReport;
    const s = report.sessions[0]!;
    expect(s.status).toBe('done');
    // The worktree is the host's, the file the agent wrote is there, and it belongs to the host's user.
    expect(s.worktree.startsWith(`${u.home}/`)).toBe(true);
    expect(readFileSync(join(s.worktree, 'hello.txt'), 'utf8')).toBe('written on the host');
    expect(statSync(join(s.worktree, 'hello.txt')).uid).toBe(Number(execFileSync('id', ['-u', u.name], { encoding: 'utf8' })));

    // Spend is exact: what the stand-in served, priced at kimi-k2.6.
    const mine = upstream.requests.slice(before).filter((q) => q.path === '/v1/messages' && q.servedUsage);
    expect(mine.length).toBeGreaterThanOrEqual(2);
    for (const q of mine) expect(q.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(report.totals.requests).toBe(mine.length);
    expect(report.totals.usd).toBeCloseTo(
      mine.reduce((a, q) => a + servedUsd(q), 0),
      9,
    );

    // A second run reuses the install and the running engine.
    const again = await flotilla(data, ['status', '--host', 'box', '--json']);
    expect(JSON.parse(again.out)).toMatchObject({ running: true, host: 'box', liveSessions: 0 });

    // Review and merge through the same link a desktop uses.
    const link = new HostLink(data, findHost(data, 'box'), { root: ROOT, env: { ...process.env, FLOTILLA_SSH_CONFIG: sshd.config } });
    try {
      const client = await link.connect();
      const rows = await client.call('ledger', { runId: report.run.id });
      expect(rows.length).toBe(mine.length);
      expect(rows.every((row) => row.state === 'exact')).toBe(true);
      expect((await client.call('changes', { sessionId: s.id })).map((c) => c.path)).toEqual(['hello.txt']);
      const diff = await client.call('diff', { sessionId: s.id, path: 'hello.txt' });
      expect(JSON.stringify(diff)).toContain('written on the host');
      await client.call('merge', { sessionId: s.id });
    } finally {
      await link.close();
    }
    expect(execFileSync('git', ['-c', 'safe.directory=*', '-C', repo, 'show', 'main:hello.txt'], { encoding: 'utf8' })).toBe(
      'written on the host',
    );

    // The key crossed the tunnel into the engine's memory only.
    expect(filesHolding(u.home, KEY)).toEqual([]);
  }, 300_000);

  it('the tunnel killed and sshd down mid-run: the session finishes on the host, the run reconnects and reports it', async () => {
    expect(data, 'runs after the first test').toBeDefined();
    const before = upstream.requests.length;
    const tpl = template('WAIT 3000\nWRITE late.txt finished while the tunnel was down');
    const run = flotillaChild(data, ['run', tpl, '--repo', repo, '--json']);
    const { child } = run;
    try {
      // The agent is at work on the host (its first model request arrived) …
      await waitFor(() => upstream.requests.slice(before).some((q) => q.path === '/v1/messages'), 'a model request from the host', 120_000);
      // … when the tunnel dies and the host stops answering SSH.
      const tunnel = execFileSync('pgrep', ['-P', String(child.pid), '-f', 'ControlPath=none'], { encoding: 'utf8' }).trim();
      expect(tunnel).toMatch(/^\d+$/);
      await sshd.down();
      process.kill(Number(tunnel), 'SIGKILL');
      await waitFor(() => /box unreachable — reconnecting \(2\)/.test(run.err), 'a second reconnection attempt while sshd is down', 60_000);
      await sshd.up();
      expect(await run.closed, run.err).toBe(0);
    } finally {
      child.kill('SIGKILL');
      await sshd.up(); // (no-op when up)
    }
    expect(run.err).toMatch(/box: connected again/);
    const report = JSON.parse(run.out) as RunReport;
    expect(report.sessions.map((s) => s.status)).toEqual(['done']);
    expect(readFileSync(join(report.sessions[0]!.worktree, 'late.txt'), 'utf8')).toBe('finished while the tunnel was down');
  }, 300_000);

  it('bad input: an unknown host, a refused key, an install dir it cannot write, a second desktop — each says what to do', async () => {
    const mine = tempDir('flotilla-local-');
    const tpl = template('SAY hello');
    const unknown = await flotilla(mine, ['run', tpl, '--host', 'nobody']);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/no host named nobody — add it first: flotilla hosts add nobody <user@host>/);

    const locked = sshd.addUser({ authorized: false });
    await flotilla(mine, ['hosts', 'add', 'locked', locked.alias]);
    const refused = await flotilla(mine, ['run', tpl, '--host', 'locked']);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/refused the key \(.*Permission denied.*\) — add yours there \(ssh-copy-id /);

    // ~/.flotilla belongs to root there: nothing can be installed under it.
    const stuck = sshd.addUser();
    execFileSync('mkdir', ['-p', join(stuck.home, '.flotilla')]);
    const ro = await flotilla(mine, ['hosts', 'add', 'stuck', stuck.alias]);
    expect(ro.out).toMatch(/^added stuck/);
    const denied = await flotilla(mine, ['run', tpl, '--host', 'stuck']);
    expect(denied.code).toBe(1);
    expect(denied.err).toMatch(
      new RegExp(
        `cannot install Flotilla on stuck: ${stuck.home}/\\.flotilla/server is not writable for .* — fix its owner or permissions there`,
      ),
    );

    // A second desktop (another data dir) adding the host the first one uses is told they share its engine.
    const second = tempDir('flotilla-other-desktop-');
    const shared = await flotilla(second, ['hosts', 'add', 'box', u.alias]);
    expect(shared.out).toMatch(/^added box/);
    expect(shared.err).toMatch(
      new RegExp(`note: box is also used by another desktop: .*\\(data dir ${data}, last connected .*\\) — you share its engine there`),
    );
  }, 120_000);
});
