// The background engine through the real CLI: `flotilla open` starts one detached engine per data dir (a second open,
// and two racing, find it), `serve` is refused there, `status` counts live sessions, `stop` leaves no engine and no
// agent behind; an engine killed with SIGKILL is replaced by the next `open`, which marks its sessions interrupted,
// and a real Claude Code session resumed on it carries its earlier conversation upstream. Bad input gets clear answers.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join, resolve } from 'node:path';
import { HttpEngineClient } from '../../electron/shared/client.ts';
import { readEngineFile, pidAlive } from '../../electron/engine/daemon.ts';
import { startAnthropicUpstream, type AnthropicUpstream } from '../upstream/index.ts';
import { makeRepo, tempDir } from '../fixtures/repo.ts';
import { waitFor } from '../fixtures/wait.ts';

const BIN = resolve(import.meta.dirname, '../../bin/flotilla.js');
const BIN_DIR = resolve(import.meta.dirname, '../../node_modules/.bin');
const KEY = 'sk-daemon-test-key-never-shown';

let upstream: AnthropicUpstream;
const dataDirs: string[] = [];
beforeAll(async () => {
  upstream = await startAnthropicUpstream({ apiKey: KEY });
});
afterAll(async () => upstream?.close());
// Never leave a detached engine behind, whatever a test did.
afterEach(() => {
  for (const d of dataDirs.splice(0)) spawnSync(process.execPath, [BIN, 'stop', '--data-dir', d], { timeout: 60_000 });
});

const ENV = (): NodeJS.ProcessEnv => ({
  ...process.env,
  PATH: `${BIN_DIR}:${process.env.PATH}`,
  HOME: tempDir('flotilla-home-'),
  TEST_PROVIDER_KEY: KEY,
});

function flotilla(args: string[], env: NodeJS.ProcessEnv = ENV()) {
  const r = spawnSync(process.execPath, [BIN, ...args], { env, encoding: 'utf8', timeout: 90_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `flotilla open` as a child, resolving with its exit code and output (for the race). */
function openAsync(dataDir: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const c = spawn(process.execPath, [BIN, 'open', '--no-browser', '--data-dir', dataDir], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d) => (stdout += d));
    c.stderr.on('data', (d) => (stderr += d));
    c.on('exit', (code) => res({ code, stdout, stderr }));
  });
}

function dataDir(): string {
  const d = tempDir('flotilla-daemon-');
  dataDirs.push(d);
  return d;
}

async function client(dir: string): Promise<HttpEngineClient> {
  const info = await readEngineFile(dir);
  if (!info) throw new Error(`no engine.json in ${dir}`);
  return new HttpEngineClient({ origin: info.origin, token: info.token }, fetch);
}

const longAgent = (repo: string, count = 1) => `name: long
repo: ${repo}
count: ${count}
agent: { preset: shell, command: node, args: ["-e", "console.log('working'); setInterval(() => {}, 1000)"] }
provider: { preset: custom, baseUrl: "http://127.0.0.1:9" }
`;

describe('the background engine', () => {
  it('open starts one detached engine and finds it again; serve is refused; status counts; stop leaves nothing behind', async () => {
    const dir = dataDir();
    const env = ENV();
    const first = flotilla(['open', '--no-browser', '--data-dir', dir], env);
    expect(first.code, first.stderr).toBe(0);
    const url = first.stdout.trim();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=\S+$/);
    const info = (await readEngineFile(dir))!;
    expect(info.pid).not.toBe(process.pid);
    expect(pidAlive(info.pid)).toBe(true);

    const second = flotilla(['open', '--no-browser', '--data-dir', dir], env);
    expect(second.code).toBe(0);
    expect(second.stdout.trim()).toBe(url);
    expect(second.stderr).toMatch(/already serves/);

    const serve = flotilla(['serve', '--data-dir', dir], env);
    expect(serve.code).toBe(1);
    expect(serve.stderr).toContain(`an engine already serves ${dir}`);
    expect(serve.stderr).toContain(url);
    // `run` brings an engine of its own: refused too, saying what to do instead.
    const tpl = join(tempDir('flotilla-tpl-'), 'run.yaml');
    writeFileSync(tpl, longAgent(makeRepo()));
    const run = flotilla(['run', tpl, '--data-dir', dir], env);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/an engine already serves .* launch the template in its dashboard/);

    const api = await client(dir);
    const { sessions } = await api.call('launch', { templateText: longAgent(makeRepo(), 2) });
    await waitFor(
      async () => (await api.call('listSessions', {})).every((s) => s.pid && (s.status === 'working' || s.status === 'idle')),
      'both agents to run',
    );
    const agentPids = (await api.call('listSessions', {})).map((s) => s.pid!);
    const status = flotilla(['status', '--json', '--data-dir', dir], env);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ running: true, pid: info.pid, liveSessions: 2, url });
    expect(sessions).toHaveLength(2);

    const stop = flotilla(['stop', '--data-dir', dir], env);
    expect(stop.code, stop.stderr).toBe(0);
    expect(stop.stdout).toMatch(/stopped the engine/);
    expect(pidAlive(info.pid)).toBe(false);
    await waitFor(() => agentPids.every((p) => !pidAlive(p)), 'no agent left behind');
    expect(existsSync(join(dir, 'engine.json'))).toBe(false);
    const after = flotilla(['status', '--data-dir', dir], env);
    expect(after.code).toBe(3);
    expect(after.stdout).toMatch(/no engine runs/);
    // Its logs have no token in them.
    for (const f of readdirSync(join(dir, 'logs'))) expect(readFileSync(join(dir, 'logs', f), 'utf8'), f).not.toContain(info.token);
  });

  it('two opens racing get one engine', async () => {
    const dir = dataDir();
    const env = ENV();
    const [a, b] = await Promise.all([openAsync(dir, env), openAsync(dir, env)]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    expect(a.stdout.trim()).toBe(b.stdout.trim());
    const info = (await readEngineFile(dir))!;
    expect(a.stdout).toContain(info.token);
    // Exactly one engine process has this data dir: the other start lost the store's lock and exited.
    const ps = spawnSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' })
      .stdout.split('\n')
      .filter((l) => l.includes(`serve --data-dir ${dir}`));
    expect(ps).toHaveLength(1);
  });

  it('a SIGKILLed engine is replaced by the next open, which marks its sessions interrupted; a real Claude Code session resumes its conversation', async () => {
    const dir = dataDir();
    const env = ENV();
    expect(flotilla(['open', '--no-browser', '--data-dir', dir], env).code).toBe(0);
    const dead = (await readEngineFile(dir))!;
    let api = await client(dir);
    const repo = makeRepo();
    const { sessions } = await api.call('launch', {
      templateText: `name: resume-me
repo: ${repo}
agent: { preset: claude-code }
provider: { preset: custom, baseUrl: "${upstream.url}", style: anthropic, apiKeyEnv: TEST_PROVIDER_KEY }
model: kimi-k2.6
tasks: ["WRITE notes.txt before the crash"]
`,
    });
    const id = sessions[0]!.id;
    // The first turn has gone upstream and the file is written: the conversation exists on disk.
    await waitFor(() => existsSync(join(sessions[0]!.worktree, 'notes.txt')), 'the first turn to write notes.txt', 90_000);
    await waitFor(async () => (await api.call('listSessions', {}))[0]!.status === 'idle', 'the turn to end (idle)', 60_000);
    const agentPid = (await api.call('listSessions', {}))[0]!.pid!;
    process.kill(dead.pid, 'SIGKILL');
    await waitFor(() => !pidAlive(dead.pid), 'the engine to die');
    await waitFor(() => !pidAlive(agentPid), 'its agent to go with it (its terminal is gone)');
    expect(existsSync(join(dir, 'engine.json'))).toBe(true); // stale: the next open must see through it

    const reopened = flotilla(['open', '--no-browser', '--data-dir', dir], env);
    expect(reopened.code, reopened.stderr).toBe(0);
    const fresh = (await readEngineFile(dir))!;
    expect(fresh.pid).not.toBe(dead.pid);
    api = await client(dir);
    const interrupted = (await api.call('listSessions', {})).find((s) => s.id === id)!;
    expect(interrupted.status).toBe('interrupted');
    expect(interrupted.statusDetail).toMatch(/engine exited/);

    const before = upstream.requests.length;
    await api.call('resume', { sessionId: id });
    // The raw screen draws a run of spaces as a cursor move (`accept\x1b[1Cedits`): read it with the spaces back.
    await waitFor(
      async () =>
        /accept edits on/.test(
          (await api.call('snapshot', { sessionId: id })).data.replace(/\x1b\[(\d*)C/g, (_, n: string) => ' '.repeat(Number(n || 1))),
        ),
      "the resumed Claude Code's prompt (accept edits on)",
      60_000,
    );
    await api.call('input', { sessionId: id, data: 'SAY resumed after the crash' });
    await new Promise((r) => setTimeout(r, 300));
    await api.call('input', { sessionId: id, data: '\r' });
    const turn = await waitFor(
      () => upstream.requests.slice(before).find((r) => JSON.stringify(r.body?.messages ?? []).includes('resumed after the crash')),
      'the resumed turn upstream',
      60_000,
    );
    // The new turn carries the conversation from before the crash: Claude Code really resumed it.
    expect(JSON.stringify(turn.body.messages)).toContain('WRITE notes.txt before the crash');

    // `flotilla logs` shows what the new engine said about the dead one; no log file holds the provider key or a token.
    const logs = flotilla(['logs', '-n', '100', '--data-dir', dir], env);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toMatch(/session\(s\) of an earlier engine were marked interrupted/);
    const files = readdirSync(join(dir, 'logs'));
    expect(files).toEqual(expect.arrayContaining(['engine.log', 'engine.stdio.log']));
    for (const f of files) {
      const text = readFileSync(join(dir, 'logs', f), 'utf8');
      for (const secret of [KEY, dead.token, fresh.token]) expect(text.includes(secret), `${f} holds a secret`).toBe(false);
    }
  }, 300_000);

  it('bad input: an unwritable data dir, a port in use, a stale engine.json', async () => {
    const parent = tempDir('flotilla-ro-');
    const ro = join(parent, 'ro');
    mkdirSync(ro);
    chmodSync(ro, 0o500);
    // As root the directory is writable after all and an engine starts: it is stopped after the test like the others.
    dataDirs.push(join(ro, 'data'));
    const r = flotilla(['open', '--no-browser', '--data-dir', join(ro, 'data')]);
    chmodSync(ro, 0o700);
    if (process.getuid?.() !== 0) {
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/is not writable .* pass --data-dir or set FLOTILLA_HOME/);
    }
    const file = join(parent, 'a-file');
    writeFileSync(file, 'x');
    const notDir = flotilla(['open', '--no-browser', '--data-dir', join(file, 'data')]);
    expect(notDir.code).not.toBe(0);
    expect(notDir.stderr).toMatch(/is not writable/);

    const busy: Server = createServer();
    await new Promise<void>((res) => busy.listen(0, '127.0.0.1', res));
    const port = (busy.address() as { port: number }).port;
    const dir = dataDir();
    const inUse = flotilla(['open', '--no-browser', '--port', String(port), '--data-dir', dir]);
    busy.close();
    expect(inUse.code).not.toBe(0);
    expect(inUse.stderr).toMatch(new RegExp(`the engine did not start.*port ${port} on 127\\.0\\.0\\.1 is in use — pass another --port`));

    // engine.json of a process that is gone: open starts a new engine over it.
    const gone = spawnSync(process.execPath, ['-e', '0']).pid!;
    writeFileSync(join(dir, 'engine.json'), JSON.stringify({ pid: gone, origin: 'http://127.0.0.1:9', token: 'stale' }), { mode: 0o600 });
    const ok = flotilla(['open', '--no-browser', '--data-dir', dir]);
    expect(ok.code, ok.stderr).toBe(0);
    expect((await readEngineFile(dir))!.token).not.toBe('stale');
  });
});
