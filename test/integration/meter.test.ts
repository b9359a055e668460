// The meter end to end: real agents (the real Claude Code CLI, and small fetch-based agents for the OpenAI surfaces)
// launched as Flotilla sessions, their traffic through the engine's proxy to the stand-in upstream, the ledger checked
// against the usage the upstream really served.
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Engine } from '../../electron/engine/engine.ts';
import { PriceTable } from '../../electron/engine/meter/index.ts';
import type { EngineEvent, LedgerRow, SessionStatus } from '../../electron/shared/contract.ts';
import type { RecordedRequest } from '../upstream/index.ts';
import { useEngines, type Upstream } from '../fixtures/engine.ts';
import { makeRepo } from '../fixtures/repo.ts';
import { waitFor } from '../fixtures/wait.ts';

const KEY = 'sk-real-provider-key-for-the-meter';
const K26 = PriceTable.shipped().get('kimi-k2.6')!;
const env = useEngines({ key: KEY, keyEnv: 'TEST_PROVIDER_KEY' });
const engine = () => env.engine();
let upstream: Upstream;
beforeAll(() => {
  upstream = env.upstream();
});

function events(e: Engine) {
  const all: EngineEvent[] = [];
  e.on('event', (ev: EngineEvent) => all.push(ev));
  return all;
}

function claudeTemplate(repo: string, tasks: string[], extra = ''): string {
  return `
name: meter-claude
repo: ${repo}
agent: { preset: claude-code-batch }
provider: { preset: custom, baseUrl: "${upstream.url}", style: anthropic, apiKeyEnv: TEST_PROVIDER_KEY }
model: kimi-k2.6
tasks: ${JSON.stringify(tasks)}
${extra}`;
}

/** Dollars of the usage an Anthropic-surface request was really served, at kimi-k2.6's shipped prices. */
function servedUsd(r: RecordedRequest): number {
  const u = r.servedUsage as {
    input_tokens: number;
    cache_read_input_tokens: number;
    cache_creation_input_tokens: number;
    output_tokens: number;
  };
  return (
    (u.input_tokens * K26.inputUsd +
      u.cache_read_input_tokens * K26.cacheReadUsd +
      u.cache_creation_input_tokens * K26.cacheWriteUsd +
      u.output_tokens * K26.outputUsd) /
    1e6
  );
}

function requestsOf(agentSessionId: string): RecordedRequest[] {
  return upstream.requests.filter(
    (r) =>
      r.path.startsWith('/v1/messages') && !r.path.includes('count_tokens') && r.headers['x-claude-code-session-id'] === agentSessionId,
  );
}

describe('the meter', () => {
  it("records a Claude Code session's spend to the micro-dollar of what the upstream served; the agent only had its token", async () => {
    const repo = makeRepo();
    const e = await engine();
    // WAIT keeps the first request open long enough to read the agent's environment from /proc.
    const { run, sessions } = await e.call('launch', { templateText: claudeTemplate(repo, ['WAIT 1500\nWRITE a.txt metered']) });
    const id = sessions[0]!.id;
    // Read once the agent has exec'd: between node-pty's fork and the exec, /proc shows the engine's own environment.
    let environ = '';
    for (let i = 0; i < 100 && !environ.includes('FLOTILLA_SESSION_ID='); i++) {
      const pid = e.registry.listSessions(run.id)[0]!.pid;
      try {
        if (pid) environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
      } catch {
        /* not yet */
      }
      if (!environ.includes('FLOTILLA_SESSION_ID=')) await new Promise((r) => setTimeout(r, 20));
    }
    await e.waitForRun(run.id);
    const s = e.registry.listSessions(run.id)[0]!;
    expect(s.status).toBe('done');
    expect(readFileSync(join(s.worktree, 'a.txt'), 'utf8')).toBe('metered');

    const env = Object.fromEntries(
      environ
        .split('\0')
        .filter(Boolean)
        .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
    );
    expect(environ).not.toContain(KEY);
    expect(env.ANTHROPIC_BASE_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/s\/[\w-]+$/);
    expect(env.ANTHROPIC_AUTH_TOKEN).toBe(env.ANTHROPIC_BASE_URL!.split('/s/')[1]);
    expect(env.TEST_PROVIDER_KEY).toBeUndefined();

    const served = requestsOf(s.agentSessionId!);
    expect(served.length).toBeGreaterThanOrEqual(2);
    for (const r of served) expect(r.headers.authorization).toBe(`Bearer ${KEY}`);
    const expectedUsd = served.reduce((a, r) => a + servedUsd(r), 0);
    const rows: LedgerRow[] = e.ledger.rows(run.id);
    expect(rows).toHaveLength(served.length);
    expect(rows.every((r) => r.state === 'exact' && r.model === 'kimi-k2.6' && r.priced)).toBe(true);
    const spend = await e.call('spend', { runId: run.id });
    const mine = spend.sessions.find((x) => x.sessionId === id)!;
    expect(Math.abs(mine.usd - expectedUsd)).toBeLessThan(1e-6);
    expect(mine.usd).toBeGreaterThan(0);
    const sum = (k: 'input_tokens' | 'cache_read_input_tokens' | 'output_tokens') =>
      served.reduce((a, r) => a + (r.servedUsage as Record<string, number>)[k]!, 0);
    expect(mine.inputTokens).toBe(sum('input_tokens'));
    expect(mine.cacheReadTokens).toBe(sum('cache_read_input_tokens'));
    expect(mine.outputTokens).toBe(sum('output_tokens'));
    expect(mine.requests).toBe(served.length);
    // Savings against Claude Sonnet, speed and context fill from the wire.
    expect(mine.referenceModel).toBe('claude-sonnet-4-5');
    expect(mine.savingsUsd).toBeGreaterThan(0);
    expect(mine.ttftMs).not.toBeNull();
    expect(mine.contextWindow).toBe(262_144);
    expect(mine.contextFill).toBeGreaterThan(0);

    const report = await e.call('report', { runId: run.id });
    expect(Math.abs(report.sessions[0]!.spend.usd - expectedUsd)).toBeLessThan(1e-6);
    expect(report.sessions[0]!.spend.requests).toBe(served.length);
    expect(report.totals.requests).toBe(served.length);
    expect(Math.abs(report.totals.usd - expectedUsd)).toBeLessThan(1e-6);
  });

  it('raises an intent event from the Write tool call before the file exists', async () => {
    const repo = makeRepo();
    const e = await engine();
    const seen: { path: string; tool: string; existed: boolean }[] = [];
    e.on('event', (ev: EngineEvent) => {
      if (ev.event === 'intent') seen.push({ path: ev.intent.path, tool: ev.intent.tool, existed: existsSync(ev.intent.path) });
    });
    const { run } = await e.call('launch', { templateText: claudeTemplate(repo, ['WRITE src/new.ts export const x = 1;']) });
    await e.waitForRun(run.id);
    const s = e.registry.listSessions(run.id)[0]!;
    expect(seen).toEqual([{ path: join(s.worktree, 'src/new.ts'), tool: 'Write', existed: false }]);
    expect(existsSync(join(s.worktree, 'src/new.ts'))).toBe(true);
  });

  it('holds the request a session budget cannot cover, and forwards that very request when the budget is raised', async () => {
    const repo = makeRepo();
    const e = await engine();
    const all = events(e);
    // Each request is served 10 000 uncached input tokens ($0.0095 at kimi-k2.6) and reserves ~$0.027 (Claude Code's
    // ~11 000-token prompt estimate + 4 096 output tokens): $0.03 covers the first reservation, not the second.
    const { run, sessions } = await e.call('launch', {
      templateText: claudeTemplate(repo, ['USAGE 10000 0 0 10\nWRITE a.txt paid for\nWRITE b.txt after the raise']).concat(
        'budget: { perSessionUsd: 0.03 }\n',
      ),
    });
    const id = sessions[0]!.id;
    const statuses = () =>
      all
        .filter((x) => x.event === 'session' && x.session.id === id)
        .map((x) => (x as { session: { status: SessionStatus } }).session.status);
    await waitFor(() => statuses().includes('over_budget'), 'the session to be over budget');
    const budgetEvents = all.filter((x) => x.event === 'budget');
    expect(budgetEvents.map((b) => (b as { level: number }).level)).toEqual([100]);
    const spend = (await e.call('spend', { runId: run.id })).sessions[0]!;
    expect(spend.held).toMatchObject({ scope: 'session', budgetUsd: 0.03, requests: 1 });
    expect(spend.held!.committedUsd + spend.held!.neededUsd).toBeGreaterThan(0.03);
    // The first turn (its Write) was paid for; the second is held: it never reached the provider, and nothing refused it.
    expect(existsSync(join(sessions[0]!.worktree, 'a.txt'))).toBe(true);
    expect(existsSync(join(sessions[0]!.worktree, 'b.txt'))).toBe(false);
    expect(all.some((x) => x.event === 'upstreamError')).toBe(false);
    const servedBefore = requestsOf(sessions[0]!.agentSessionId!).length;

    await e.call('raiseBudget', { sessionId: id, usd: 1 });
    await e.waitForRun(run.id);
    const s = e.registry.listSessions(run.id)[0]!;
    expect(s.status).toBe('done');
    expect(readFileSync(join(s.worktree, 'b.txt'), 'utf8')).toBe('after the raise');
    const rows = e.ledger.rows(run.id);
    expect(rows.some((r) => r.state === 'refused')).toBe(false);
    const served = requestsOf(s.agentSessionId!);
    // The held request itself went on (Claude Code sent nothing twice): Write a, Write b (the one held), done.
    expect(servedBefore).toBe(1);
    expect(served.length).toBe(3);
    expect(rows.filter((r) => r.state === 'exact')).toHaveLength(served.length);
    expect((await e.call('spend', { runId: run.id })).sessions[0]!.usd).toBeCloseTo(
      served.length * 0.0095 + (served.length * 10 * 4) / 1e6,
      9,
    );
  });

  it('shows rate limited while the provider refuses, then back to work; the error is classified', async () => {
    const repo = makeRepo();
    const e = await engine();
    const all = events(e);
    const { run, sessions } = await e.call('launch', { templateText: claudeTemplate(repo, ['FAIL x1 ratelimit\nWRITE c.txt eventually']) });
    await e.waitForRun(run.id);
    const id = sessions[0]!.id;
    const errs = all.filter((x): x is Extract<EngineEvent, { event: 'upstreamError' }> => x.event === 'upstreamError');
    expect(errs[0]!.error).toMatchObject({ kind: 'rate_limited', status: 429, type: 'rate_limit_reached_error' });
    const statuses = all
      .filter((x) => x.event === 'session' && x.session.id === id)
      .map((x) => (x as { session: { status: SessionStatus } }).session.status);
    expect(statuses).toContain('rate_limited');
    expect(statuses.at(-1)).toBe('done');
    const rows = e.ledger.rows(run.id);
    expect(rows[0]).toMatchObject({ state: 'error', httpStatus: 429, errorType: 'rate_limit_reached_error', usd: 0 });
  });

  it('meters OpenAI Chat Completions (asking for usage the client did not) and the Responses API', async () => {
    const repo = makeRepo();
    const e = await engine();
    // A minimal OpenAI-style agent: one streaming chat request without stream_options, one streaming Responses request.
    const agent = [
      'const base = process.env.OPENAI_BASE_URL, key = process.env.OPENAI_API_KEY;',
      "const post = async (path, body) => { const r = await fetch(base + path, { method: 'POST', headers: { authorization: 'Bearer ' + key, 'content-type': 'application/json' }, body: JSON.stringify(body) }); return r.text(); };",
      '(async () => {',
      "  const chat = await post('/chat/completions', { model: 'kimi-k2.6', stream: true, messages: [{ role: 'user', content: 'USAGE 1000 500 0 200\\nSAY hi' }] });",
      "  console.log('chat-done ' + chat.includes('[DONE]') + ' usage-chunks ' + (chat.match(/\"usage\"/g) || []).length);",
      "  const resp = await post('/responses', { model: 'kimi-k2.6', stream: true, input: 'USAGE 2000 1000 0 300\\nSAY hello' });",
      "  console.log('responses-done ' + resp.includes('response.completed'));",
      '})();',
    ].join('\n');
    const { run } = await e.call('launch', {
      templateText: `
name: meter-openai
repo: ${repo}
agent: { preset: shell, command: node, args: ["-e", ${JSON.stringify(agent)}] }
provider: { preset: custom, baseUrl: "${upstream.openaiBaseUrl}", style: openai, apiKeyEnv: TEST_PROVIDER_KEY }
model: kimi-k2.6
`,
    });
    await e.waitForRun(run.id);
    const s = e.registry.listSessions(run.id)[0]!;
    expect(s.status).toBe('done');
    const out = (await e.call('snapshot', { sessionId: s.id })).data;
    expect(out).toContain('chat-done true usage-chunks 1');
    expect(out).toContain('responses-done true');
    const rows = e.ledger.rows(run.id);
    expect(rows.map((r) => r.state)).toEqual(['exact', 'exact']);
    // OpenAI counts cached tokens inside the prompt: the ledger keeps them apart.
    expect(rows[0]).toMatchObject({ inputTokens: 1000, cacheReadTokens: 500, outputTokens: 200 });
    expect(rows[1]).toMatchObject({ inputTokens: 2000, cacheReadTokens: 1000, outputTokens: 300 });
    const usd =
      (1000 * K26.inputUsd +
        500 * K26.cacheReadUsd +
        200 * K26.outputUsd +
        2000 * K26.inputUsd +
        1000 * K26.cacheReadUsd +
        300 * K26.outputUsd) /
      1e6;
    expect(Math.abs((await e.call('spend', { runId: run.id })).run!.usd - usd)).toBeLessThan(1e-9);
    // The chat request reached the upstream with include_usage added by the meter.
    const chat = upstream.requests.filter((r) => r.path.startsWith('/v1/chat/completions')).at(-1)!;
    expect(chat.body.stream_options).toEqual({ include_usage: true });
  });

  it('records a stream cut mid-way as partial, with what was seen; the agent reads an error as the last event', async () => {
    const repo = makeRepo();
    const e = await engine();
    const agent = [
      "fetch(process.env.OPENAI_BASE_URL + '/chat/completions', { method: 'POST', headers: { authorization: 'Bearer ' + process.env.OPENAI_API_KEY, 'content-type': 'application/json' },",
      "  body: JSON.stringify({ model: 'kimi-k2.6', stream: true, messages: [{ role: 'user', content: 'CUT 5\\nLONG 400' }] }) })",
      '  .then((r) => r.text()).then((t) => console.log(/data: \\{"error":\\{"message":"[^"]*closed the connection mid-answer/.test(t) ? \'error-event\' : \'whole\'), (err) => console.log(\'cut:\', err.cause?.code || err.message));',
    ].join('\n');
    const { run } = await e.call('launch', {
      templateText: `
name: meter-cut
repo: ${repo}
agent: { preset: shell, command: node, args: ["-e", ${JSON.stringify(agent)}] }
provider: { preset: custom, baseUrl: "${upstream.openaiBaseUrl}", style: openai, apiKeyEnv: TEST_PROVIDER_KEY }
model: kimi-k2.6
`,
    });
    await e.waitForRun(run.id);
    expect((await e.call('snapshot', { sessionId: e.registry.listSessions(run.id)[0]!.id })).data).toContain('error-event');
    const [row] = e.ledger.rows(run.id);
    expect(row!.state).toBe('partial');
    expect(row!.outputTokens).toBeGreaterThan(0);
    expect(row!.usd).toBeGreaterThan(0);
  });

  it('reads the provider balance and sends throttled spend events while a session streams', async () => {
    const repo = makeRepo();
    const e = await engine();
    const all = events(e);
    const { run } = await e.call('launch', { templateText: claudeTemplate(repo, ['SLOW 20\nLONG 60']) });
    await e.waitForRun(run.id);
    const spendEvents = all.filter((x): x is Extract<EngineEvent, { event: 'spend' }> => x.event === 'spend');
    expect(spendEvents.length).toBeGreaterThan(0);
    // An estimate while streaming, exact at the end.
    expect(spendEvents.some((x) => x.spend.estimateUsd > 0)).toBe(true);
    await new Promise((r) => setTimeout(r, 300));
    const last = all.filter((x): x is Extract<EngineEvent, { event: 'spend' }> => x.event === 'spend').at(-1)!;
    expect(last.spend.estimateUsd).toBe(0);
    expect(last.spend.usd).toBeCloseTo((await e.call('spend', { runId: run.id })).run!.usd, 12);
    expect(all.some((x) => x.event === 'runSpend')).toBe(true);

    expect(await e.call('balance', { runId: run.id })).toEqual({ availableUsd: 49.58, cashUsd: 3, voucherUsd: 46.58 });

    // The ledger as CSV over HTTP: its usd column adds up to the run's total.
    const csv = await (
      await fetch(`${e.origin}/api/ledger.csv?runId=${run.id}`, { headers: { authorization: `Bearer ${e.token}` } })
    ).text();
    const [header, ...lines] = csv.trim().split(/\r?\n/);
    const col = header!.split(',').indexOf('usd');
    expect(col).toBeGreaterThanOrEqual(0);
    const total = lines.reduce((a, l) => a + Number(l.split(',')[col] || 0), 0);
    expect(Math.abs(total - (await e.call('spend', { runId: run.id })).run!.usd)).toBeLessThan(1e-6);
  });

  it('one run compares models: each slot runs and is metered at its own model (slots: [{model}])', async () => {
    const agent =
      "fetch(process.env.ANTHROPIC_BASE_URL + '/v1/messages', { method: 'POST', headers: { authorization: 'Bearer ' + process.env.ANTHROPIC_AUTH_TOKEN, 'content-type': 'application/json' }, body: JSON.stringify({ model: process.env.ANTHROPIC_MODEL, max_tokens: 10, tools: [{ name: 'Write', input_schema: { type: 'object' } }], messages: [{ role: 'user', content: 'USAGE 1000000 0 0 1000000\\nSAY hi' }] }) }).then((r) => process.exit(r.ok ? 0 : 1))";
    const e = await engine();
    const { run } = await e.call('launch', {
      templateText: `
name: compare
repo: ${makeRepo()}
agent: { preset: shell, command: node, args: ["-e", ${JSON.stringify(agent)}] }
provider: { preset: custom, baseUrl: "${upstream.url}", style: anthropic, apiKeyEnv: TEST_PROVIDER_KEY }
model: kimi-k2.6
slots: [{ model: kimi-k3 }, {}, { model: kimi-k2.7-code }]
`,
    });
    await e.waitForRun(run.id);
    const sessions = e.registry.listSessions(run.id);
    expect(sessions.map((x) => x.status)).toEqual(['done', 'done', 'done']);
    const bySession = new Map(e.ledger.rows(run.id).map((r) => [r.sessionId, r]));
    const t = PriceTable.shipped();
    const models = ['kimi-k3', 'kimi-k2.6', 'kimi-k2.7-code'];
    sessions.forEach((x, i) => {
      const row = bySession.get(x.id)!;
      expect(row.model).toBe(models[i]);
      // 1M input + 1M output tokens: the dollars are the model's two list prices.
      expect(row.usd).toBeCloseTo(t.get(models[i]!)!.inputUsd + t.get(models[i]!)!.outputUsd, 9);
    });
    expect((await e.call('report', { runId: run.id })).sessions.map((x) => x.model)).toEqual(models);
  });
});
