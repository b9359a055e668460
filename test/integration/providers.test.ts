// A run of several providers with real Claude Code: failover before the first byte (503, 429 with retry-after, refused
// connections) with ten sessions that never see an error nor retry on their own; a provider that fails mid-stream is
// not retried elsewhere; `route: cheapest` and `route: fastest` pick the right stand-in; prices by provider; a
// providers list that cannot launch says which line and what to do.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providerTable } from '../../electron/shared/provider-table.ts';
import { useEngines } from '../fixtures/engine.ts';
import { makeRepo } from '../fixtures/repo.ts';
import { type Upstream, startUpstream } from '../upstream/index.ts';

const KEY = 'sk-providers';
const env = useEngines({ key: KEY, keyEnv: 'FO_KEY', upstream: false });

/** A host that answers every request the same failing way, and counts them. */
interface Failing {
  url: string;
  hits: number;
  close(): Promise<void>;
}
async function startFailing(answer: (res: http.ServerResponse) => void): Promise<Failing> {
  const f = { url: '', hits: 0, close: async () => {} };
  const srv = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      f.hits++;
      answer(res);
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  f.url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
  f.close = () => new Promise<void>((r) => srv.close(() => r()));
  return f;
}
const overloaded = (res: http.ServerResponse) => {
  res.writeHead(503, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }));
};
const rateLimited = (res: http.ServerResponse) => {
  res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '30' });
  res.end(JSON.stringify({ type: 'error', error: { type: 'rate_limit_error', message: 'Too many requests' } }));
};
/** A loopback port nothing listens on. */
async function refusedUrl(): Promise<string> {
  const srv = http.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return `http://127.0.0.1:${port}`;
}

let second: Upstream;
beforeAll(async () => {
  second = await startUpstream({ apiKey: KEY });
});
afterAll(() => second?.close());

const template = (name: string, repo: string, first: string, count: number, extra = '') => `
name: ${name}
repo: ${repo}
agent: { preset: claude-code-batch }
providers:
  - { preset: custom, name: first, baseUrl: "${first}", apiKeyEnv: FO_KEY }
  - { preset: custom, name: second, baseUrl: "${second.anthropicBaseUrl}", apiKeyEnv: FO_KEY }
${extra}
tasks: ${JSON.stringify(Array.from({ length: count }, (_, i) => `WRITE out.txt ${name}-${i + 1}\nSAY fine-${i + 1}`))}
`;

/** Model requests of one run's sessions that reached this stand-in (tasks carry the run's name). */
const servedFor = (host: Upstream, name: string) =>
  host.modelRequests().filter((r) => JSON.stringify(r.body?.messages ?? '').includes(`WRITE out.txt ${name}-`));

describe('providers: failover before the first byte', () => {
  let perSession = 0;

  it('baseline: one session on the second provider alone (how many requests a task takes)', async () => {
    const e = await env.engine();
    const templateText = `
name: base
repo: ${makeRepo()}
agent: { preset: claude-code-batch }
provider: { preset: custom, baseUrl: "${second.anthropicBaseUrl}", apiKeyEnv: FO_KEY }
tasks: ["WRITE out.txt base-1\\nSAY fine-1"]
`;
    const { run } = await e.call('launch', { templateText });
    await e.waitForRun(run.id);
    expect(e.registry.listSessions(run.id)[0]!.status).toBe('done');
    perSession = servedFor(second, 'base').length;
    expect(perSession).toBeGreaterThanOrEqual(2);
  });

  const cases: [string, () => Promise<{ url: string; hits: () => number; close: () => Promise<void> }>][] = [
    [
      '503 overloaded',
      async () => {
        const f = await startFailing(overloaded);
        return { url: f.url, hits: () => f.hits, close: f.close };
      },
    ],
    [
      '429 with retry-after',
      async () => {
        const f = await startFailing(rateLimited);
        return { url: f.url, hits: () => f.hits, close: f.close };
      },
    ],
    ['refused connections', async () => ({ url: await refusedUrl(), hits: () => 0, close: async () => {} })],
  ];

  for (const [label, start] of cases) {
    it(`${label}: ten sessions finish on the second provider, none sees an error or retries, the ledger says who served what`, async () => {
      const first = await start();
      try {
        const e = await env.engine();
        const name = `fo-${label.split(' ')[0]}`;
        const { run } = await e.call('launch', { templateText: template(name, makeRepo(), first.url, 10) });
        await e.waitForRun(run.id);
        const sessions = e.registry.listSessions(run.id);
        expect(sessions.map((s) => s.status)).toEqual(sessions.map(() => 'done'));
        for (const s of sessions) expect(e.meter.sessionSpend(s.id)?.lastError ?? null).toBeNull();

        const rows = e.ledger.rows(run.id);
        const passed = rows.filter((r) => r.failedOver);
        const answered = rows.filter((r) => !r.failedOver);
        // Every attempt on the first provider gave way; every answer came from the second.
        expect(passed.length).toBeGreaterThanOrEqual(1);
        expect(passed.every((r) => r.provider === 'first' && r.state === 'error')).toBe(true);
        expect(answered.every((r) => r.provider === 'second' && r.state === 'exact')).toBe(true);
        if (label !== 'refused connections') expect(first.hits()).toBe(passed.length);
        // No session retried: each made the baseline's number of requests, all answered by the second provider.
        expect(servedFor(second, name).length).toBe(10 * perSession);
        for (const s of sessions) expect(answered.filter((r) => r.sessionId === s.id).length).toBe(perSession);
        expect(providerTable(rows)).toEqual([
          expect.objectContaining({ provider: 'first', requests: 0, failovers: passed.length, errors: 0 }),
          expect.objectContaining({ provider: 'second', requests: answered.length, failovers: 0, errors: 0 }),
        ]);
        for (const s of sessions) expect(e.meter.sessionSpend(s.id)).toMatchObject({ provider: 'second', requests: perSession });
        // Every attempt gave its governor slot back, the passed-on ones too.
        expect(e.meter.governorView().map((k) => k.inFlight)).toEqual([0, 0]);
      } finally {
        await first.close();
      }
    }, 240_000);
  }

  it('a provider that fails mid-stream is not retried on another: the agent gets the cut stream, the row keeps what it had', async () => {
    const cutting = await startUpstream({ apiKey: KEY });
    try {
      const e = await env.engine();
      const templateText = `
name: mid
repo: ${makeRepo()}
agent: { preset: claude-code-batch }
providers:
  - { preset: custom, name: first, baseUrl: "${cutting.anthropicBaseUrl}", apiKeyEnv: FO_KEY }
  - { preset: custom, name: second, baseUrl: "${second.anthropicBaseUrl}", apiKeyEnv: FO_KEY }
tasks: ["CUT x1 3\\nWRITE out.txt mid-1\\nSAY fine-1"]
`;
      const { run } = await e.call('launch', { templateText });
      await e.waitForRun(run.id);
      const rows = e.ledger.rows(run.id);
      // The cut request stays on the first provider (the agent saw the cut); the second never got this task.
      expect(servedFor(second, 'mid')).toEqual([]);
      const cut = rows.find((r) => r.state === 'partial');
      expect(cut).toMatchObject({ provider: 'first', failedOver: false });
      expect(rows.every((r) => r.provider === 'first' && !r.failedOver)).toBe(true);
    } finally {
      await cutting.close();
    }
  }, 240_000);
});

describe('providers: routes and prices', () => {
  it('route: cheapest sends sessions to the cheaper provider, billed at that provider’s price', async () => {
    const other = await startUpstream({ apiKey: KEY });
    try {
      const e = await env.engine();
      const templateText = `
name: cheap
repo: ${makeRepo()}
agent: { preset: claude-code-batch }
model: kimi-k2.6
route: cheapest
providers:
  - { preset: custom, name: dear, baseUrl: "${other.anthropicBaseUrl}", apiKeyEnv: FO_KEY }
  - { preset: custom, name: thrifty, baseUrl: "${second.anthropicBaseUrl}", apiKeyEnv: FO_KEY }
prices:
  "dear:kimi-k2.6": { inputUsd: 9, cacheReadUsd: 9, outputUsd: 30 }
  "thrifty:kimi-k2.6": { inputUsd: 0.5, cacheReadUsd: 0.05, outputUsd: 2 }
tasks: ["WRITE out.txt cheap-1\\nSAY fine-1", "WRITE out.txt cheap-2\\nSAY fine-2"]
`;
      const { run } = await e.call('launch', { templateText });
      await e.waitForRun(run.id);
      const rows = e.ledger.rows(run.id);
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.every((r) => r.provider === 'thrifty' && r.state === 'exact')).toBe(true);
      expect(servedFor(other, 'cheap')).toEqual([]);
      // Each row at thrifty's own price.
      for (const r of rows) {
        const want = (r.inputTokens * 0.5 + r.cacheReadTokens * 0.05 + r.cacheWriteTokens * 0.5 + r.outputTokens * 2) / 1e6;
        expect(Math.abs(r.usd - want)).toBeLessThan(1e-9);
      }
    } finally {
      await other.close();
    }
  }, 240_000);

  it('route: fastest measures both (one short request each) and sends new sessions to the faster', async () => {
    const slow = await startUpstream({ apiKey: KEY, chunkDelayMs: 40 });
    try {
      const e = await env.engine();
      const templateText = `
name: fast
repo: ${makeRepo()}
agent: { preset: claude-code-batch }
route: fastest
providers:
  - { preset: custom, name: slow, baseUrl: "${slow.anthropicBaseUrl}", apiKeyEnv: FO_KEY }
  - { preset: custom, name: quick, baseUrl: "${second.anthropicBaseUrl}", apiKeyEnv: FO_KEY }
tasks: ["WRITE out.txt fast-1\\nSAY fine-1", "WRITE out.txt fast-2\\nSAY fine-2"]
`;
      const { run } = await e.call('launch', { templateText });
      await e.waitForRun(run.id);
      const slowSpeed = e.meter.router.speed('slow|kimi-k2.6');
      const quickSpeed = e.meter.router.speed('quick|kimi-k2.6');
      expect(slowSpeed && quickSpeed && quickSpeed.tokensPerSec > slowSpeed.tokensPerSec).toBe(true);
      const rows = e.ledger.rows(run.id);
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.every((r) => r.provider === 'quick')).toBe(true);
      expect(servedFor(slow, 'fast')).toEqual([]);
    } finally {
      await slow.close();
    }
  }, 240_000);

  it('bad providers lists: a key that is not set, a host without the model, two models, an unknown preset — each names its line', async () => {
    const e = await env.engine();
    const repo = makeRepo();
    const launchError = async (body: string) => {
      try {
        await e.call('launch', { templateText: `name: bad\nrepo: ${repo}\nagent: { preset: claude-code-batch }\ntasks: [x]\n${body}` });
      } catch (err) {
        return (err as Error).message;
      }
      throw new Error('launched');
    };
    expect(await launchError('providers:\n  - { preset: moonshot }\n  - { preset: openrouter, apiKeyEnv: FO_KEY }\n')).toMatch(
      /<template>:6: providers\[0\]: MOONSHOT_API_KEY is not set \(provider moonshot\) — export MOONSHOT_API_KEY=…/,
    );
    expect(await launchError('providers:\n  - { preset: cerebras, apiKeyEnv: FO_KEY }\n')).toContain(
      '<template>:6: providers[0].preset: cerebras has no known id for kimi-k2.6 — add model: <the id cerebras lists for it> to this entry',
    );
    expect(
      await launchError('model: kimi-k2.6\nproviders:\n  - { preset: moonshot }\n  - { preset: openrouter, model: moonshotai/kimi-k3 }\n'),
    ).toContain("<template>:8: providers[1].model: serves kimi-k3 but the template's model is kimi-k2.6");
    expect(await launchError('providers:\n  - { preset: grok }\n')).toContain(
      "<template>:6: providers[0].preset: unknown provider preset 'grok' — did you mean 'groq'?",
    );
    expect(await launchError('provider: { preset: moonshot }\nproviders:\n  - { preset: groq }\n')).toContain(
      'give either provider: (one) or providers: (a list), not both',
    );
    const [a, b] = [await refusedUrl(), await refusedUrl()];
    expect(
      await launchError(
        `route: fastest\nproviders:\n  - { preset: custom, name: a, baseUrl: "${a}", apiKeyEnv: FO_KEY }\n  - { preset: custom, name: b, baseUrl: "${b}", apiKeyEnv: FO_KEY }\n`,
      ),
    ).toMatch(
      /<template>: route: fastest needs a speed for at least one provider, and none could be measured \(a: cannot reach .*ECONNREFUSED.*\) — use route: ordered/,
    );
    expect(e.registry.listRuns()).toEqual([]);
  });

  it('an Anthropic host failing over to an OpenAI-only one: Claude Code carries on through the translation', async () => {
    const first = await startFailing(overloaded);
    try {
      const e = await env.engine();
      const templateText = `
name: mixed
repo: ${makeRepo()}
agent: { preset: claude-code-batch }
providers:
  - { preset: custom, name: anthropic-host, baseUrl: "${first.url}", apiKeyEnv: FO_KEY }
  - { preset: custom, name: chat-host, baseUrl: "${second.openaiBaseUrl}", style: openai, apiKeyEnv: FO_KEY }
tasks: ["WRITE out.txt mixed-1\\nSAY fine-1"]
`;
      const { run } = await e.call('launch', { templateText });
      await e.waitForRun(run.id);
      const s = e.registry.listSessions(run.id)[0]!;
      expect(s.status).toBe('done');
      const rows = e.ledger.rows(run.id);
      const answered = rows.filter((r) => !r.failedOver);
      expect(answered.every((r) => r.provider === 'chat-host' && r.state === 'exact')).toBe(true);
      const chat = servedFor(second, 'mixed');
      expect(chat.length).toBe(answered.length);
      expect(chat.every((r) => r.path === '/v1/chat/completions')).toBe(true);
      expect(rows.filter((r) => r.failedOver).length).toBe(first.hits);
    } finally {
      await first.close();
    }
  }, 240_000);

  it("each host gets its own id for the model and its routing preferences; the row is priced by the model's row", async () => {
    const e = await env.engine();
    const templateText = `
name: ids
repo: ${makeRepo()}
agent: { preset: claude-code-batch }
model: kimi-k2.6
providers:
  - { preset: openrouter, baseUrl: "${second.anthropicBaseUrl}", apiKeyEnv: FO_KEY, preferences: { sort: throughput } }
tasks: ["WRITE out.txt ids-1\\nSAY fine-1"]
`;
    const { run } = await e.call('launch', { templateText });
    await e.waitForRun(run.id);
    const got = servedFor(second, 'ids');
    expect(got.length).toBeGreaterThan(0);
    expect(got.every((r) => r.body.model === 'moonshotai/kimi-k2.6' && r.body.provider?.sort === 'throughput')).toBe(true);
    const rows = e.ledger.rows(run.id);
    expect(rows.every((r) => r.provider === 'openrouter' && r.priced && r.usd > 0)).toBe(true);
  }, 240_000);
});
