// Agents beyond Claude Code, the real CLIs from npm (fixtures/agents.ts installs the pinned versions into a cache dir):
// Codex (Responses API), opencode and Qwen Code (OpenAI chat), each through its batch preset, one real task through
// Flotilla's meter to the stand-in upstream on loopback. The file lands in the session's worktree, the session ends
// *done*, and the ledger matches what the upstream served to the micro-dollar at kimi-k2.6's prices.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { PriceTable } from '../../electron/engine/meter/index.ts';
import { AGENT_PACKAGES, installAgent, type AgentInstall, type AgentPackage } from '../fixtures/agents.ts';
import { useEngines } from '../fixtures/engine.ts';
import { makeRepo } from '../fixtures/repo.ts';
import type { RecordedRequest } from '../upstream/index.ts';

const KEY = 'sk-agents-real';
const K26 = PriceTable.shipped().get('kimi-k2.6')!;
const env = useEngines({ key: KEY, keyEnv: 'AGENTS_KEY' });
const INSTALL_MS = 15 * 60_000;

/** What the upstream's usage object costs at kimi-k2.6: uncached input, cache hits, output (chat or Responses shape). */
function servedUsd(r: RecordedRequest): number {
  const u = r.servedUsage as Record<string, any>;
  const input = u.prompt_tokens ?? u.input_tokens;
  const cached = u.prompt_tokens_details?.cached_tokens ?? u.input_tokens_details?.cached_tokens ?? 0;
  const output = u.completion_tokens ?? u.output_tokens;
  return ((input - cached) * K26.inputUsd + cached * K26.cacheReadUsd + output * K26.outputUsd) / 1e6;
}

interface Case {
  name: string;
  pkg: AgentPackage;
  preset: string;
  style: 'openai' | 'responses';
  /** A directive the stand-in turns into a tool call of this agent's own tools. */
  task: string;
  file: string;
  content: string;
}

const CASES: Case[] = [
  // Codex declares exec_command (no write tool without model metadata): the file comes from a shell command.
  {
    name: 'Codex',
    pkg: AGENT_PACKAGES.codex,
    preset: 'codex-batch',
    style: 'responses',
    task: "BASH printf 'from codex' > codex.txt",
    file: 'codex.txt',
    content: 'from codex',
  },
  {
    name: 'opencode',
    pkg: AGENT_PACKAGES.opencode,
    preset: 'opencode-batch',
    style: 'openai',
    task: 'WRITE opencode.txt from opencode',
    file: 'opencode.txt',
    content: 'from opencode',
  },
  {
    name: 'Qwen Code',
    pkg: AGENT_PACKAGES.qwen,
    preset: 'qwen-code-batch',
    style: 'openai',
    task: 'WRITE qwen.txt from qwen',
    file: 'qwen.txt',
    content: 'from qwen',
  },
];

for (const c of CASES) {
  describe(`${c.name} (${c.pkg.pkg}@${c.pkg.version}) through the meter`, () => {
    let install: AgentInstall;
    beforeAll(async () => {
      install = await installAgent(c.pkg);
      if ('skip' in install) console.warn(`skipping ${c.name}: ${install.skip}`);
    }, INSTALL_MS);

    it(`${c.preset} completes a real task, spend exact`, async (ctx) => {
      // An agent that cannot be installed fails the test; only an explicit opt-out (a machine without the registry)
      // skips it, saying why.
      if ('skip' in install) {
        if (process.env.FLOTILLA_AGENT_CLIS !== 'skip')
          throw new Error(`${install.skip} — set FLOTILLA_AGENT_CLIS=skip to skip these tests on purpose`);
        return ctx.skip(install.skip);
      }
      const up = env.upstream();
      const e = await env.engine();
      const before = up.requests.length;
      const repo = makeRepo();
      const templateText = `
name: ${c.preset}
repo: ${repo}
agent: { preset: ${c.preset}, command: "${install.bin}" }
provider: { preset: custom, baseUrl: "${up.url}/v1", style: ${c.style}, apiKeyEnv: AGENTS_KEY }
model: kimi-k2.6
tasks: [${JSON.stringify(c.task)}]
`;
      const { run } = await e.call('launch', { templateText });
      await e.waitForRun(run.id);
      const s = e.registry.listSessions(run.id)[0]!;
      const mine = up.requests.slice(before).filter((r) => r.method === 'POST');
      if (s.status !== 'done') {
        // What the agent printed says why (a changed flag, a config it refused).
        const screen = (await e.registry.liveSession(s.id)?.terminal.snapshot())?.data ?? '';
        const seen = mine.map((r) => `${r.path} ${r.status} ${r.kind}`).join(', ');
        expect.fail(`session ended ${s.status} (${s.statusDetail}); requests: ${seen}\n${screen.slice(-3000)}`);
      }
      expect(readFileSync(join(s.worktree, c.file), 'utf8')).toBe(c.content);

      // Each request reached the upstream with the real key, which only the proxy holds (the agent has its session token).
      expect(mine.length).toBeGreaterThanOrEqual(2);
      expect(mine.every((r) => r.headers.authorization === `Bearer ${KEY}` && r.status === 200)).toBe(true);
      expect(mine.some((r) => r.kind?.startsWith('tool_call'))).toBe(true);

      const rows = e.ledger.rows(run.id);
      expect(rows.map((r) => r.state)).toEqual(mine.map(() => 'exact'));
      const expected = mine.reduce((a, r) => a + servedUsd(r), 0);
      expect(expected).toBeGreaterThan(0);
      expect(Math.abs(rows.reduce((a, r) => a + r.usd, 0) - expected)).toBeLessThan(1e-6);
      const report = await e.call('report', { runId: run.id });
      expect(report.sessions[0]).toMatchObject({ status: 'done', model: 'kimi-k2.6', spend: { requests: mine.length } });
      expect(report.totals.usd).toBeCloseTo(expected, 6);
    });
  });
}
