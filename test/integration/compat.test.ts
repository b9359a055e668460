// The compatibility layer with the real Claude Code against a *strict Moonshot* stand-in (every reported rejection,
// in Moonshot's words): directly, Claude Code fails on kimi-k2.7-code; through Flotilla's moonshot profile it finishes,
// metered exactly at the model's prices, each rewrite counted. A provider's refusal shows as *provider rejected* with
// the rule that fixes it, and the request is kept (no secrets) with a curl line to resend it.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PriceTable } from '../../electron/engine/meter/index.ts';
import type { EngineEvent } from '../../electron/shared/contract.ts';
import { claudeDirect } from '../fixtures/claude-direct.ts';
import { useEngines } from '../fixtures/engine.ts';
import { git, makeRepo } from '../fixtures/repo.ts';
import { startUpstream, type RecordedRequest, type Upstream } from '../upstream/index.ts';

const KEY = 'sk-strict-moonshot';
const K27 = PriceTable.shipped().get('kimi-k2.7-code')!;
const env = useEngines({ key: KEY, keyEnv: 'STRICT_KEY', upstream: false });
let strict: Upstream;
beforeAll(async () => {
  strict = await startUpstream({ apiKey: KEY, strict: 'moonshot' });
});
afterAll(() => strict?.close());

function servedUsd(r: RecordedRequest): number {
  const u = r.servedUsage as {
    input_tokens: number;
    cache_read_input_tokens: number;
    cache_creation_input_tokens: number;
    output_tokens: number;
  };
  return (
    (u.input_tokens * K27.inputUsd +
      u.cache_read_input_tokens * K27.cacheReadUsd +
      u.cache_creation_input_tokens * K27.cacheWriteUsd +
      u.output_tokens * K27.outputUsd) /
    1e6
  );
}

const template = (repo: string, tasks: string[], compat: string) => `
name: strict-k27
repo: ${repo}
agent: { preset: claude-code-batch }
provider: { preset: custom, baseUrl: "${strict.url}", style: anthropic, apiKeyEnv: STRICT_KEY, compat: ${compat} }
model: kimi-k2.7-code
tasks: ${JSON.stringify(tasks)}
`;

describe('compatibility with a strict Moonshot', () => {
  it('real Claude Code on kimi-k2.7-code fails directly, and finishes through the moonshot profile, metered exactly', async () => {
    const before = strict.requests.length;
    const direct = await claudeDirect({
      baseUrl: strict.url,
      key: KEY,
      model: 'kimi-k2.7-code',
      cwd: makeRepo(),
      prompt: 'WRITE direct.txt should not happen',
    });
    expect(direct.code).not.toBe(0);
    expect(direct.output).toMatch(/only type=enabled/);
    expect(strict.requests.slice(before).some((r) => r.kind === 'strict_rejected')).toBe(true);

    const e = await env.engine();
    const { run, sessions } = await e.call('launch', { templateText: template(makeRepo(), ['WRITE k27.txt fits now'], 'moonshot') });
    await e.waitForRun(run.id);
    const s = e.registry.listSessions(run.id)[0]!;
    expect(s.status).toBe('done');
    expect(readFileSync(join(s.worktree, 'k27.txt'), 'utf8')).toBe('fits now');

    const mine = strict.requests.filter(
      (r) => r.headers['x-claude-code-session-id'] === sessions[0]!.agentSessionId && r.path.startsWith('/v1/messages'),
    );
    expect(mine.length).toBeGreaterThanOrEqual(2);
    expect(mine.every((r) => r.kind !== 'strict_rejected' && r.body?.thinking?.type === 'enabled')).toBe(true);
    const rows = e.ledger.rows(run.id);
    expect(rows.map((r) => r.state)).toEqual(mine.map(() => 'exact'));
    const expected = mine.reduce((a, r) => a + servedUsd(r), 0);
    expect(Math.abs(rows.reduce((a, r) => a + r.usd, 0) - expected)).toBeLessThan(1e-6);
    const report = await e.call('report', { runId: run.id });
    expect(report.sessions[0]!.model).toBe('kimi-k2.7-code');
    expect(report.sessions[0]!.compat).toEqual([{ rule: 'thinking-enabled', count: mine.length }]);
    expect(report.totals.usd).toBeCloseTo(expected, 6);
  });

  it('without the profile the provider refuses: provider rejected, the fixing rule named, the request kept with a curl line', async () => {
    const e = await env.engine();
    const statuses: string[] = [];
    e.on('event', (ev: EngineEvent) => {
      if (ev.event === 'session') statuses.push(ev.session.status);
    });
    const { run, sessions } = await e.call('launch', { templateText: template(makeRepo(), ['WRITE nope.txt refused'], 'none') });
    await e.waitForRun(run.id);
    expect(statuses).toContain('rejected');
    const spend = await e.call('spend', { runId: run.id });
    const err = spend.sessions[0]!.lastError!;
    expect(err).toMatchObject({
      kind: 'other',
      status: 400,
      fixRule: 'thinking-enabled',
      message: expect.stringMatching(/only type=enabled/),
    });
    const saved = await e.call('rejectedRequest', { sessionId: sessions[0]!.id });
    expect(saved).toMatchObject({ status: 400, fixRule: 'thinking-enabled' });
    expect(saved!.savedAs).toBe(err.savedAs);
    const file = readFileSync(saved!.savedAs, 'utf8');
    expect(file).not.toContain(KEY);
    expect(JSON.parse(file).request.body.model).toBe('kimi-k2.7-code');
    expect(saved!.curl).toContain('$STRICT_KEY');
    expect(saved!.curl).not.toContain(KEY);
    // The curl line really resends it (with the key from the environment): the same refusal.
    const out = await new Promise<string>((res) => {
      const child = spawn('bash', ['-c', saved!.curl], { env: { ...process.env, STRICT_KEY: KEY } });
      let o = '';
      child.stdout.on('data', (d) => (o += d));
      child.on('close', () => res(o));
    });
    expect(out).toMatch(/only type=enabled/);
    expect(git(e.registry.listSessions(run.id)[0]!.worktree, 'status', '--porcelain')).not.toContain('nope.txt');
  });
});
