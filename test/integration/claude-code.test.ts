// The real Claude Code CLI (node_modules/.bin/claude) against the stand-in upstream, in a temp git repo: no engine.
// Once directly, once through MeterProxy (the pass-through the engine gives every session).
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MeterProxy, proxyUrl } from '../../electron/engine/meter/index.ts';
import { git } from '../fixtures/repo.ts';
import { startAnthropicUpstream, type AnthropicUpstream, type RecordedRequest } from '../upstream/index.ts';

const CLAUDE = path.resolve(import.meta.dirname, '../../node_modules/.bin/claude');
const KEY = 'sk-flotilla-integration';

/** The inherited environment minus anything that would make Claude Code think it runs nested or use another account. */
function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined) continue;
    if (k === 'CLAUDECODE' || k.startsWith('CLAUDE_CODE_') || k.startsWith('ANTHROPIC_') || k === 'CLAUDE_CONFIG_DIR') continue;
    env[k] = v;
  }
  return env;
}

interface Sandbox {
  root: string;
  home: string;
  config: string;
  repo: string;
}

function makeSandbox(): Sandbox {
  const root = realpathSync(mkdtempSync(path.join(tmpdir(), 'flotilla-cc-')));
  const s = { root, home: path.join(root, 'home'), config: path.join(root, 'claude'), repo: path.join(root, 'repo') };
  for (const d of [s.home, s.config, s.repo]) mkdirSync(d, { recursive: true });
  git(s.repo, 'init', '-q');
  git(s.repo, 'commit', '-q', '--allow-empty', '-m', 'init');
  return s;
}

function runClaude(
  s: Sandbox,
  baseUrl: string,
  token: string,
  args: string[],
  timeoutMs = 90_000,
): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string; ms: number }> {
  const env = {
    ...cleanEnv(),
    HOME: s.home,
    ANTHROPIC_BASE_URL: baseUrl,
    ANTHROPIC_AUTH_TOKEN: token,
    ANTHROPIC_MODEL: 'kimi-k2.6',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    CLAUDE_CODE_MAX_CONTEXT_TOKENS: '262144',
    CLAUDE_CONFIG_DIR: s.config,
    DISABLE_AUTOUPDATER: '1',
  };
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(CLAUDE, args, { cwd: s.repo, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

const hasToolResult = (r: RecordedRequest) =>
  Array.isArray(r.body?.messages) &&
  r.body.messages.some((m: any) => m.role === 'user' && Array.isArray(m.content) && m.content.some((b: any) => b?.type === 'tool_result'));

describe('real Claude Code CLI against the stand-in upstream', () => {
  let up: AnthropicUpstream;
  const sandboxes: Sandbox[] = [];

  beforeAll(async () => {
    if (!existsSync(CLAUDE)) {
      throw new Error(`Claude Code CLI not found at ${CLAUDE}: run \`npm ci\` (devDependency @anthropic-ai/claude-code) before this test.`);
    }
    up = await startAnthropicUpstream({ apiKey: KEY });
  });
  afterAll(async () => {
    await up?.close();
    for (const s of sandboxes) rmSync(s.root, { recursive: true, force: true });
  });

  it('claude -p writes the file through a Write tool_use and exits 0', async () => {
    const s = makeSandbox();
    sandboxes.push(s);
    const sessionId = randomUUID();
    const before = up.requests.length;
    const r = await runClaude(s, up.url, KEY, [
      '-p',
      'WRITE hello.txt hi there',
      '--permission-mode',
      'acceptEdits',
      '--session-id',
      sessionId,
      '--model',
      'kimi-k2.6',
    ]);
    const diag = `exit ${r.code}/${r.signal} after ${r.ms} ms\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
    expect(r.code, diag).toBe(0);
    expect(readFileSync(path.join(s.repo, 'hello.txt'), 'utf8'), diag).toBe('hi there');
    expect(r.stdout.trim()).toBe('Done.');

    const mine = up.requests.slice(before).filter((q) => q.method === 'POST' && q.path === '/v1/messages');
    expect(mine.length).toBeGreaterThanOrEqual(2);
    for (const q of mine) {
      expect(q.url).toBe('/v1/messages?beta=true');
      expect(q.headers['authorization']).toBe(`Bearer ${KEY}`);
      expect(q.headers['x-claude-code-session-id']).toBe(sessionId);
      expect(q.body.model).toBe('kimi-k2.6');
      expect(q.body.stream).toBe(true);
    }
    expect(mine.some((q) => q.kind === 'tool_use:Write')).toBe(true);
    const withResult = mine.find(hasToolResult);
    expect(withResult, 'no /v1/messages request carried a tool_result').toBeDefined();
    const result = withResult!.body.messages
      .flatMap((m: any) => (Array.isArray(m.content) ? m.content : []))
      .find((b: any) => b.type === 'tool_result');
    expect(result.is_error ?? false).toBe(false);
    // The transcript lands under CLAUDE_CONFIG_DIR, named by the pre-assigned session id.
    const slug = s.repo.replace(/[^a-zA-Z0-9]/g, '-');
    expect(existsSync(path.join(s.config, 'projects', slug, `${sessionId}.jsonl`))).toBe(true);
  });

  it('works the same through MeterProxy with only the session token', async () => {
    const s = makeSandbox();
    sandboxes.push(s);
    const proxy = new MeterProxy();
    const events: Array<{ path: string; status: number | null }> = [];
    proxy.on('request', (e) => events.push(e));
    const token = `tok-${randomUUID()}`;
    proxy.register(token, { sessionId: 'flotilla-s1', upstreamBaseUrl: up.url, apiKey: KEY, style: 'anthropic' });
    const server = http.createServer((req, res) => {
      if (!proxy.handle(req, res)) res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const before = up.requests.length;
    try {
      const r = await runClaude(s, proxyUrl(origin, token), token, [
        '-p',
        'WRITE src/out.txt via the proxy',
        '--permission-mode',
        'acceptEdits',
        '--model',
        'kimi-k2.6',
      ]);
      const diag = `exit ${r.code}/${r.signal} after ${r.ms} ms\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
      expect(r.code, diag).toBe(0);
      expect(readFileSync(path.join(s.repo, 'src/out.txt'), 'utf8'), diag).toBe('via the proxy');
      const mine = up.requests.slice(before);
      expect(mine.some(hasToolResult)).toBe(true);
      for (const q of mine) {
        expect(q.headers['authorization']).toBe(`Bearer ${KEY}`);
        expect(JSON.stringify(q.headers)).not.toContain(token);
      }
      expect(events.filter((e) => e.path === '/v1/messages?beta=true' && e.status === 200).length).toBeGreaterThanOrEqual(2);
    } finally {
      proxy.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
