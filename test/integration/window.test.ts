// K2's window with real Claude Code 2.1.332 through Flotilla: one prompt-cache prefix for every session of a run (the
// billing header Claude Code puts first, different per session, is left out), measured on a stand-in that counts cache
// reads as a prefix-caching host does; a request over the window answered before the upload (the stand-in, which
// refuses past its window, never sees one); and compaction asked for on a 1M window where Claude Code does not compact
// by itself. Each beside the same run straight at the stand-in.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claudeDirect } from '../fixtures/claude-direct.ts';
import { useEngines } from '../fixtures/engine.ts';
import { makeRepo } from '../fixtures/repo.ts';
import { type RecordedRequest, type Upstream, startUpstream } from '../upstream/index.ts';

const KEY = 'sk-window';
const env = useEngines({ key: KEY, keyEnv: 'WIN_KEY', upstream: false });
let host: Upstream;
beforeAll(async () => {
  host = await startUpstream({ apiKey: KEY, prefixCache: true });
});
afterAll(() => host?.close());

const firstSystemBlock = (r: RecordedRequest) => {
  const sys = r.body?.system;
  return Array.isArray(sys) ? String(sys[0]?.text ?? '') : String(sys ?? '');
};
/** Each session's first main request (the one that carries its task), by the run's marker. */
const firstRequests = (marker: string) => {
  const out = new Map<string, RecordedRequest>();
  for (const r of host.modelRequests()) {
    const m = JSON.stringify(r.body?.messages ?? '').match(new RegExp(`marker-${marker}#(\\d)`));
    if (m && !out.has(m[1]!) && Array.isArray(r.body?.tools) && r.body.tools.length) out.set(m[1]!, r);
  }
  return [...out.values()];
};

async function run(name: string, rulesOff: boolean) {
  const e = await env.engine();
  const templateText = `
name: ${name}
repo: ${makeRepo()}
agent: { preset: claude-code-batch }
provider: { preset: custom, baseUrl: "${host.anthropicBaseUrl}", apiKeyEnv: WIN_KEY, compat: moonshot${rulesOff ? ', compatRules: { off: [stable-cache-prefix] }' : ''} }
model: kimi-k2.6
tasks: ${JSON.stringify([1, 2, 3].map((i) => `${['Alpha', 'quebec', 'Zebra99'][i - 1]} marker-${name}#${i}\nSAY done`))}
`;
  const { run } = await e.call('launch', { templateText });
  await e.waitForRun(run.id);
  expect(e.registry.listSessions(run.id).map((s) => s.status)).toEqual(['done', 'done', 'done']);
  return firstRequests(name);
}

describe("K2's window: one prompt-cache prefix", () => {
  it('three sessions send one identical first system block through Flotilla, and three different ones without the rule', async () => {
    const without = await run('plain', true);
    expect(without).toHaveLength(3);
    expect(without.every((r) => firstSystemBlock(r).startsWith('x-anthropic-billing-header:'))).toBe(true);
    expect(new Set(without.map(firstSystemBlock)).size).toBe(3);

    const withRule = await run('shared', false);
    expect(withRule).toHaveLength(3);
    expect(withRule.some((r) => firstSystemBlock(r).includes('x-anthropic-billing-header'))).toBe(false);
    expect(new Set(withRule.map(firstSystemBlock)).size).toBe(1);
    // The later sessions' first requests read the shared prefix from the cache: the system prompt and tools at least.
    const reads = withRule.map((r) => Number(r.servedUsage?.cache_read_input_tokens ?? 0));
    const toolsTokens = Math.floor(JSON.stringify(withRule[0]!.body.tools).length / 4);
    expect(reads.slice(1).every((n) => n > toolsTokens)).toBe(true);
    const readsWithout = without.map((r) => Number(r.servedUsage?.cache_read_input_tokens ?? 0));
    expect(Math.min(...reads.slice(1))).toBeGreaterThan(10 * Math.max(...readsWithout.slice(1)));
  }, 240_000);
});

/** Eight files of 100 lines (a Read each adds ~1 780 tokens) and one of 1 060 lines (~19 000). */
const FILES = {
  ...Object.fromEntries(
    [1, 2, 3, 4, 5, 6, 7, 8].map((i) => [
      `part${i}.txt`,
      Array.from({ length: 100 }, (_, l) => `line ${l} of part ${i}: the quick brown fox jumps over the lazy dog`).join('\n'),
    ]),
  ),
  'big.txt': Array.from({ length: 1060 }, (_, l) => `line ${l} of the big file: the quick brown fox jumps over the lazy dog`).join('\n'),
};

describe("K2's window: overflow and compaction", () => {
  it('a turn that jumps past a 262 144 window is answered before the upload; the session compacts and goes on', async () => {
    // Each prompt token counts as five: eight small reads bring the conversation to ~167 000, the big one would take it
    // to ~276 000 — past the window in one turn, below where Claude Code (and Flotilla) would compact first.
    const wall = await startUpstream({ apiKey: KEY, tokenScale: 5, window: 262_144 });
    try {
      const reads = [1, 2, 3, 4, 5, 6, 7, 8].map((i) => `CALL Read {"file_path":"$CWD/part${i}.txt"}`);
      const task = [...reads, 'CALL Read {"file_path":"$CWD/big.txt"}', 'WRITE done.txt yes', 'SAY fin'].join('\n');
      // Straight at the stand-in: the turn is uploaded and refused; Claude Code then compacts and retries.
      const direct = await claudeDirect({
        baseUrl: wall.anthropicBaseUrl,
        key: KEY,
        model: 'kimi-k2.6',
        cwd: makeRepo(FILES),
        prompt: task,
        env: { ENABLE_TOOL_SEARCH: 'false' },
      });
      expect(direct.code).toBe(0);
      expect(wall.modelRequests().filter((r) => r.kind === 'over_window').length).toBeGreaterThanOrEqual(1);

      const before = wall.modelRequests().length;
      const e = await env.engine();
      const templateText = `
name: wall
repo: ${makeRepo(FILES)}
agent: { preset: claude-code-batch }
provider: { preset: custom, baseUrl: "${wall.anthropicBaseUrl}", apiKeyEnv: WIN_KEY, compat: moonshot }
model: kimi-k2.6
tasks: ${JSON.stringify([task])}
`;
      const { run } = await e.call('launch', { templateText });
      await e.waitForRun(run.id);
      const mine = wall.modelRequests().slice(before);
      const s = e.registry.listSessions(run.id)[0]!;
      // Nothing over the window was uploaded: the turn was answered here, Claude Code compacted and carried on.
      expect(mine.filter((r) => r.kind === 'over_window')).toEqual([]);
      expect(mine.filter((r) => r.kind === 'compaction')).toHaveLength(1);
      expect(s.status).toBe('done');
      const w = e.meter.sessionSpend(s.id)!.window!;
      expect(w.localOverflows).toBe(1);
      expect(w.compactions).toHaveLength(1);
      expect(w.compactions[0]!.afterTokens).not.toBeNull();
      expect(e.ledger.rows(run.id).filter((r) => r.errorType === 'context_window').length).toBe(1);
    } finally {
      await wall.close();
    }
  }, 240_000);

  it('kimi-k3 at 950 000 of 1 048 576 tokens: the next turn compacts first (Claude Code alone does not)', async () => {
    const k3 = await startUpstream({ apiKey: KEY, window: 1_048_576 });
    try {
      // The stand-in reports 950 000 input tokens for every turn of this task.
      const task = ['USAGE 950000 0 0 40', 'WRITE a.txt one', 'BASH echo two >> a.txt', 'EDIT a.txt one => uno', 'SAY fin'].join('\n');
      await claudeDirect({
        baseUrl: k3.anthropicBaseUrl,
        key: KEY,
        model: 'kimi-k3',
        cwd: makeRepo(),
        prompt: task,
        env: { CLAUDE_CODE_MAX_CONTEXT_TOKENS: '1048576', ENABLE_TOOL_SEARCH: 'false' },
      });
      const direct = k3.modelRequests();
      expect(direct.length).toBeGreaterThanOrEqual(3);
      expect(direct.some((r) => r.kind === 'compaction')).toBe(false);

      const before = direct.length;
      const e = await env.engine();
      const templateText = `
name: k3
repo: ${makeRepo()}
agent: { preset: claude-code-batch }
provider: { preset: custom, baseUrl: "${k3.anthropicBaseUrl}", apiKeyEnv: WIN_KEY, compat: moonshot }
model: kimi-k3
tasks: ${JSON.stringify([task])}
`;
      const { run } = await e.call('launch', { templateText });
      await e.waitForRun(run.id);
      const s = e.registry.listSessions(run.id)[0]!;
      expect(s.status).toBe('done');
      const mine = k3.modelRequests().slice(before);
      // The first turn, then the compaction: the second turn was answered here at ~95 % of the window.
      expect(mine[0]!.kind).toMatch(/^tool_use/);
      expect(mine[1]!.kind).toBe('compaction');
      expect(mine.filter((r) => r.kind === 'over_window')).toEqual([]);
      const w = e.meter.sessionSpend(s.id)!.window!;
      expect(w.localOverflows).toBe(1);
      expect(w.compactions).toEqual([expect.objectContaining({ beforeTokens: 950_000 })]);
      expect(w.compactions[0]!.afterTokens!).toBeLessThan(100_000);
    } finally {
      await k3.close();
    }
  }, 240_000);
});

describe("K2's window: models whose window Claude Code cannot work with", () => {
  it('a model with no known window launches with a notice saying what is assumed and how to set it; one too small is refused', async () => {
    const e = await env.engine();
    const base = `name: w\nrepo: ${makeRepo()}\nagent: { preset: claude-code-batch }\nprovider: { preset: custom, baseUrl: "${host.anthropicBaseUrl}", apiKeyEnv: WIN_KEY }\ntasks: ["SAY hi"]\n`;
    const unknown = await e.call('launch', {
      templateText: `${base}model: mystery-1\nprices: { mystery-1: { inputUsd: 1, outputUsd: 2 } }\n`,
    });
    expect(unknown.notices).toEqual([
      'model mystery-1 has no known window: Claude Code assumes 200000 tokens and Flotilla answers no overflow for it — set prices: {"mystery-1": {contextWindow: <tokens>}} in the template or settings.json',
    ]);
    await e.call('stopRun', { runId: unknown.run.id });
    await expect(
      e.call('launch', { templateText: `${base}model: tiny-1\nprices: { tiny-1: { inputUsd: 1, outputUsd: 2, contextWindow: 8000 } }\n` }),
    ).rejects.toThrow(/model tiny-1's window of 8000 tokens is too small for Claude Code: .*\(at least 40000\)/);
    expect(e.registry.listRuns().map((r) => r.id)).toEqual([unknown.run.id]);
  });
});
