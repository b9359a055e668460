// The `flotilla` command as a user runs it: a real process, real ptys, real git.
import { describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { makeRepo, tempDir } from '../fixtures/repo.ts';
import * as pty from 'node-pty';

const BIN = resolve(__dirname, '../../bin/flotilla.js');

function flotilla(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `flotilla serve` as a child process, and a caller of its HTTP API with the printed token. */
async function startServe(dataDir: string, env: NodeJS.ProcessEnv = {}) {
  const serve = spawn(process.execPath, [BIN, 'serve', '--data-dir', dataDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  const url = await new Promise<string>((res, rej) => {
    let out = '';
    serve.stdout.on('data', (d) => {
      out += d;
      const m = /(http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)/.exec(out);
      if (m) res(m[1]!);
    });
    serve.on('exit', (code) => rej(new Error(`serve exited ${code}`)));
  });
  const u = new URL(url);
  const api = (cmd: string, body: unknown) =>
    fetch(`${u.origin}/api/${cmd}?token=${u.searchParams.get('token')}`, { method: 'POST', body: JSON.stringify(body) }).then((r) =>
      r.json(),
    );
  const kill = async () => {
    serve.kill('SIGKILL');
    await new Promise((r) => serve.once('exit', r));
  };
  return { api, kill };
}

function template(dir: string, body: string): string {
  const file = join(dir, 'run.yaml');
  writeFileSync(file, body);
  return file;
}

describe('flotilla CLI', () => {
  it('run --json prints exactly one JSON report and exits 0 when every session is done', () => {
    const repo = makeRepo();
    const file = template(
      repo,
      `name: cli-run
count: 2
agent: { preset: shell, command: node, args: ["-e", "console.log('hi from {{index}}')"] }
provider: { preset: custom, baseUrl: "http://127.0.0.1:9" }
`,
    );
    const dataDir = tempDir();
    const r = flotilla(['run', file, '--json', '--data-dir', dataDir], { cwd: repo });
    expect(r.stderr).toContain('[slot 1]');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(Object.keys(report).sort()).toEqual(['conflicts', 'run', 'sessions', 'totals']);
    expect(report.run.name).toBe('cli-run');
    expect(report.run.endedAt).toEqual(expect.any(String));
    expect(report.sessions.map((s: { status: string }) => s.status)).toEqual(['done', 'done']);
    for (const s of report.sessions) {
      expect(Object.keys(s).sort()).toEqual(
        [
          'branch',
          'changedFiles',
          'compat',
          'exitCode',
          'id',
          'merged',
          'model',
          'planPosition',
          'pushed',
          'slot',
          'spend',
          'status',
          'task',
          'worktree',
        ].sort(),
      );
      expect(s.spend).toEqual({ usd: 0, inputTokens: 0, cacheReadTokens: 0, outputTokens: 0, requests: 0 });
    }

    const runs = flotilla(['runs', '--json', '--data-dir', dataDir]);
    expect(runs.code).toBe(0);
    const listed = JSON.parse(runs.stdout);
    expect(listed[0]).toMatchObject({ name: 'cli-run', state: 'ended' });
    expect(listed[0].sessions).toHaveLength(2);

    const clean = flotilla(['clean', report.run.id, '--data-dir', dataDir]);
    expect(clean.stdout).toContain('removed 2 worktree(s) and 2 branch(es)');
  });

  it('clean lists with --dry-run, refuses uncommitted work without --yes, removes with it', () => {
    const repo = makeRepo();
    const file = template(
      repo,
      `name: cli-clean
count: 2
agent: { preset: shell, command: node, args: ["-e", "if ('{{index}}' === '1') require('fs').writeFileSync('wip.txt', 'unsaved')"] }
provider: { preset: custom, baseUrl: "http://127.0.0.1:9" }
`,
    );
    const dataDir = tempDir();
    const r = flotilla(['run', file, '--json', '--data-dir', dataDir], { cwd: repo });
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    const [wt1, wt2] = report.sessions.map((s: { worktree: string }) => s.worktree);
    const dry = flotilla(['clean', report.run.id, '--dry-run', '--data-dir', dataDir]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('would remove 2 worktree(s)');
    expect(dry.stdout).toMatch(new RegExp(`slot 1  ${wt1.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}  \\(uncommitted work\\)`));
    expect(dry.stdout).not.toMatch(/slot 2 .*uncommitted/);
    expect(existsSync(wt1) && existsSync(wt2)).toBe(true);
    const refused = flotilla(['clean', report.run.id, '--data-dir', dataDir]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/1 worktree\(s\) hold uncommitted work \(slot 1\) — pass --yes/);
    expect(existsSync(wt1)).toBe(true);
    const yes = flotilla(['clean', report.run.id, '--yes', '--data-dir', dataDir]);
    expect(yes.code).toBe(0);
    expect(yes.stdout).toContain('removed 2 worktree(s) and 2 branch(es)');
    expect(existsSync(wt1) || existsSync(wt2)).toBe(false);
  });

  it('doctor --json: one document, keys counted from the environment and from the data dir', () => {
    const dataDir = tempDir();
    writeFileSync(join(dataDir, 'keys.json'), JSON.stringify({ MOONSHOT_API_KEY: 'sk-saved-never-shown', MY_GATEWAY_KEY: 'sk-2' }), {
      mode: 0o600,
    });
    const r = flotilla(['doctor', '--json', '--data-dir', dataDir], { env: { MOONSHOT_API_KEY: '' } });
    const doc = JSON.parse(r.stdout);
    expect(doc.ok).toBe(r.code === 0);
    const moonshot = doc.checks.find((c: { name: string }) => c.name === 'provider key MOONSHOT_API_KEY');
    expect(moonshot).toMatchObject({ ok: true, detail: expect.stringMatching(/saved in the data dir/) });
    expect(doc.checks.find((c: { name: string }) => c.name === 'other saved keys').detail).toMatch(
      /1 more saved in the data dir: MY_GATEWAY_KEY/,
    );
    expect(r.stdout).not.toContain('sk-saved-never-shown');
  });

  it('exits 1 when a session fails, and reports its exit code', () => {
    const repo = makeRepo();
    const file = template(
      repo,
      `name: failing
agent: { preset: shell, command: node, args: ["-e", "process.exit(3)"] }
provider: { preset: custom, baseUrl: "http://127.0.0.1:9" }
`,
    );
    const r = flotilla(['run', file, '--json', '--data-dir', tempDir()], { cwd: repo });
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report.sessions[0]).toMatchObject({ status: 'failed', exitCode: 3 });
  });

  it('checks a bad template before anything starts: no URL, the file, line and field; with --json one JSON error', () => {
    const repo = makeRepo();
    const file = template(repo, 'name: broken\ncount: 0\nagent: { preset: shell }\n');
    const r = flotilla(['run', file, '--json', '--data-dir', tempDir()], { cwd: repo });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/run\.yaml:2.*count/);
    expect(r.stderr).not.toMatch(/http:\/\/127\.0\.0\.1|watch it live/);
    const doc = JSON.parse(r.stdout);
    expect(doc.error).toMatchObject({ code: 'template_invalid', file: expect.stringContaining('run.yaml'), line: 2 });
    expect(doc.error.message).toMatch(/count/);
    const plain = flotilla(['run', file, '--data-dir', tempDir()], { cwd: repo });
    expect(plain.code).toBe(1);
    expect(plain.stdout).toBe('');
    const missing = flotilla(['run', join(repo, 'nope.yaml'), '--data-dir', tempDir()]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/not found/i);
    const unknown = flotilla(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'frobnicate'");
  });

  it('on a terminal run shows a live line per session in colour; NO_COLOR drops the colour; a pipe gets plain lines', async () => {
    const repo = makeRepo();
    const file = template(
      repo,
      `name: cli-tty
count: 2
agent: { preset: shell, command: node, args: ["-e", "console.log('slot {{index}} ran')"] }
provider: { preset: custom, baseUrl: "http://127.0.0.1:9" }
`,
    );
    // A real terminal: the CLI in a pty, as a user runs it.
    const inPty = (env: NodeJS.ProcessEnv) =>
      new Promise<{ code: number; out: string }>((res) => {
        const p = pty.spawn(process.execPath, [BIN, 'run', file, '--data-dir', tempDir()], {
          cwd: repo,
          cols: 120,
          rows: 30,
          env: { ...process.env, TERM: 'xterm-256color', NO_COLOR: '', FORCE_COLOR: '', ...env } as Record<string, string>,
        });
        let out = '';
        p.onData((d) => (out += d));
        p.onExit(({ exitCode }) => res({ code: exitCode, out }));
      });
    const colour = await inPty({});
    expect(colour.code).toBe(0);
    expect(colour.out).toMatch(/slot {2}1 {2}\x1b\[32mdone\x1b\[0m/);
    expect(colour.out).toMatch(/\x1b\[\d+F\x1b\[J/);
    expect(colour.out).toMatch(/spent \x1b\[1m\$0\.0000\x1b\[0m in 0 request/);
    expect(colour.out).not.toMatch(/\[slot 1\] done/);
    const plainColour = await inPty({ NO_COLOR: '1' });
    expect(plainColour.code).toBe(0);
    expect(plainColour.out).toMatch(/slot {2}2 {2}done/);
    expect(plainColour.out).not.toMatch(/\x1b\[(?:3\d|1)m/);
    const piped = flotilla(['run', file, '--data-dir', tempDir()], { cwd: repo });
    expect(piped.stderr).toContain('[slot 2] done');
    expect(piped.stderr + piped.stdout).not.toContain('\x1b[');
    expect(piped.stdout).toMatch(/spent \$0\.0000 in 0 request\(s\)\n {2}slot 1 {2}done/);
  });

  it('follows CLI conventions: --version, <command> --help with options and an example, usage errors exit 2 with did you mean', () => {
    const v = flotilla(['--version']);
    expect(v.code).toBe(0);
    expect(v.stdout.trim()).toBe(JSON.parse(readFileSync(join(import.meta.dirname, '../../package.json'), 'utf8')).version);
    const top = flotilla(['--help']);
    expect(top.code).toBe(0);
    const commands = ['open', 'status', 'stop', 'serve', 'demo', 'run', 'runs', 'clean', 'doctor', 'budget', 'logs', 'probe'];
    for (const c of commands) {
      expect(top.stdout).toContain(`flotilla ${c}`);
      const h = flotilla([c, '--help']);
      expect(h.code, c).toBe(0);
      expect(h.stdout, c).toMatch(new RegExp(`^flotilla ${c}`));
      expect(h.stdout, c).toMatch(/\nOptions:\n[\s\S]*--help[\s\S]*\nExample:\n  flotilla /);
    }
    const typo = flotilla(['stauts']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/unknown command 'stauts' — did you mean 'status'\?/);
    const opt = flotilla(['runs', '--jsno']);
    expect(opt.code).toBe(2);
    expect(opt.stderr).toMatch(/Unknown option '--jsno' — did you mean --json\?/);
    const missingValue = flotilla(['serve', '--port']);
    expect(missingValue.code).toBe(2);
  });

  it("--help and a command's --help load no native module, no SQLite, no pty", () => {
    const trace = join(import.meta.dirname, '../fixtures/trace-loads.cjs');
    for (const args of [['--help'], ['run', '--help'], ['--version']]) {
      const r = spawnSync(process.execPath, ['--require', trace, BIN, ...args], { encoding: 'utf8', timeout: 60_000 });
      expect(r.status).toBe(0);
      const line = r.stderr.split('\n').find((l) => l.startsWith('@@loaded '));
      expect(JSON.parse(line!.slice('@@loaded '.length)), args.join(' ')).toEqual([]);
    }
    // The trace does see them when a command that opens the store runs (doctor no longer loads them: each command loads
    // only what its handler needs).
    const runs = spawnSync(process.execPath, ['--require', trace, BIN, 'runs', '--data-dir', tempDir()], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    const seen = JSON.parse(
      runs.stderr
        .split('\n')
        .find((l) => l.startsWith('@@loaded '))!
        .slice(9),
    );
    expect(seen.join(' ')).toMatch(/node-sqlite3-wasm|native:/);
  });

  it('refuses a data dir that is not writable and a non-loopback host', () => {
    const file = join(tempDir(), 'a-file');
    writeFileSync(file, 'x');
    const r = flotilla(['doctor', '--data-dir', join(file, 'sub')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/data dir.*not writable/);
    expect(r.stdout).toMatch(/git 2\.\d+/);
    const host = flotilla(['serve', '--host', '0.0.0.0']);
    expect(host.code).toBe(2);
    expect(host.stderr).toMatch(/not a loopback address/);
  });

  it('keeps every session record when the engine is killed mid-run', async () => {
    const repo = makeRepo();
    const dataDir = tempDir();
    const { api, kill } = await startServe(dataDir);
    const launched = await api('launch', {
      templateText: `name: long
count: 2
repo: ${repo}
agent: { preset: shell, command: node, args: ["-e", "console.log('working'); setInterval(() => {}, 1000)"] }
provider: { preset: custom, baseUrl: "http://127.0.0.1:9" }
`,
    });
    expect(launched.ok).toBe(true);
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const s = await api('listSessions', {});
      if (s.data.every((x: { status: string }) => x.status === 'working' || x.status === 'idle')) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    await kill();

    const after = flotilla(['runs', '--json', '--data-dir', dataDir]);
    expect(after.code).toBe(0);
    const [run] = JSON.parse(after.stdout);
    expect(run).toMatchObject({ name: 'long', state: 'ended' });
    expect(run.sessions).toHaveLength(2);
    for (const s of run.sessions) {
      expect(s.status).toBe('interrupted');
      expect(s.statusDetail).toMatch(/engine exited/);
      expect(s.worktree).toContain(dataDir);
    }
  });

  it('closes a model request left open by a killed engine as interrupted, keeping the usage seen so far', async () => {
    const { startUpstream } = await import('../upstream/index.ts');
    const { Engine } = await import('../../electron/engine/engine.ts');
    const upstream = await startUpstream({ apiKey: 'sk-crash' });
    try {
      const repo = makeRepo();
      const dataDir = tempDir();
      const { api, kill } = await startServe(dataDir, { CRASH_KEY: 'sk-crash' });
      // The agent's one request streams slowly: the engine dies in the middle of it. (A request without tools is a
      // side request to the stand-in, which ignores directives there.)
      const agent =
        "fetch(process.env.ANTHROPIC_BASE_URL + '/v1/messages', { method: 'POST', headers: { authorization: 'Bearer ' + process.env.ANTHROPIC_AUTH_TOKEN, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'kimi-k2.6', max_tokens: 100, stream: true, tools: [{ name: 'Write', input_schema: { type: 'object' } }], messages: [{ role: 'user', content: 'SLOW 500\\nLONG 200' }] }) }).then((r) => r.text())";
      const launched = await api('launch', {
        templateText: `name: crash
repo: ${repo}
agent: { preset: shell, command: node, args: ["-e", ${JSON.stringify(agent)}] }
provider: { preset: custom, baseUrl: "${upstream.url}", apiKeyEnv: CRASH_KEY }
model: kimi-k2.6
`,
      });
      expect(launched.ok).toBe(true);
      const runId = launched.data.run.id as string;
      // Wait until the meter has seen some of the stream (the open row gets progress once a second).
      const deadline = Date.now() + 15_000;
      let rows: { state: string; inputTokens: number }[] = [];
      while (Date.now() < deadline) {
        rows = (await api('ledger', { runId })).data;
        if (rows[0]?.inputTokens) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(rows[0]).toMatchObject({ state: 'open' });
      await kill();

      const engine = await Engine.create({ dataDir });
      try {
        const [row] = engine.ledger.rows(runId);
        expect(row).toMatchObject({ state: 'interrupted' });
        expect(row!.inputTokens).toBeGreaterThan(0);
        expect(row!.endedAt).not.toBeNull();
      } finally {
        await engine.close();
      }
    } finally {
      await upstream.close();
    }
  });
});
