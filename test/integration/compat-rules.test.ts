// Each compatibility rule against the strict Moonshot stand-in with the real Claude Code: driven into the shape the
// provider refuses (a real MCP server for many tools and $ref schemas, tool search, a PDF read), it fails directly,
// and through Flotilla's moonshot profile the same task finishes, the rule counted, every request metered exactly.
// (thinking-enabled has its own test in compat.test.ts; fold-system-messages is not here because Moonshot is not
// reported to refuse system turns, so the strict stand-in takes them.)
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claudeDirect } from '../fixtures/claude-direct.ts';
import { useEngines } from '../fixtures/engine.ts';
import { makeRepo } from '../fixtures/repo.ts';
import { startUpstream, type Upstream } from '../upstream/index.ts';

const KEY = 'sk-strict-rules';
const MCP_SERVER = resolve(import.meta.dirname, '../fixtures/mcp-server.mjs');
const env = useEngines({ key: KEY, keyEnv: 'STRICT_KEY', upstream: false });
let strict: Upstream;
beforeAll(async () => {
  strict = await startUpstream({ apiKey: KEY, strict: 'moonshot' });
});
afterAll(() => strict?.close());

/** A one-page PDF, ASCII only. */
const PDF = Buffer.from(
  'JVBERi0xLjQKMSAwIG9iago8PC9UeXBlL0NhdGFsb2cvUGFnZXMgMiAwIFI+PgplbmRvYmoKMiAwIG9iago8PC9UeXBlL1BhZ2VzL0tpZHNbMyAwIFJdL0NvdW50IDE+PgplbmRvYmoKMyAwIG9iago8PC9UeXBlL1BhZ2UvUGFyZW50IDIgMCBSL01lZGlhQm94WzAgMCAyMDAgMjAwXT4+CmVuZG9iagp0cmFpbGVyCjw8L1Jvb3QgMSAwIFI+PgolJUVPRgo=',
  'base64',
).toString('latin1');

const mcpArgs = (...serverArgs: string[]) => [
  '--strict-mcp-config',
  '--mcp-config',
  JSON.stringify({ mcpServers: { tools: { command: process.execPath, args: [MCP_SERVER, ...serverArgs] } } }),
];

interface RuleCase {
  rule: string;
  model: string;
  task: string;
  files?: Record<string, string>;
  args?: string[];
  /** Environment for Claude Code, directly and (as agent.env) through Flotilla. */
  agentEnv?: Record<string, string>;
  /** What strict Moonshot says to the direct run. */
  refusal: RegExp;
  /** The template's compat settings (default: the moonshot profile). */
  compat?: string;
}

const CASES: RuleCase[] = [
  {
    // Tool search on (Claude Code's default): ToolSearch answers with tool_reference blocks. Claude Code retries
    // without betas, then falls back to sending every MCP tool — 151, past the limit too.
    rule: 'tool-reference-as-text',
    model: 'kimi-k2.6',
    task: 'CALL ToolSearch {"query":"select:mcp__tools__tool_001","max_results":1}',
    args: mcpArgs('--tools', '130'),
    agentEnv: { ENABLE_TOOL_SEARCH: 'true' },
    refusal: /unsupported content type: tool_reference|max of 128 tools/,
  },
  {
    rule: 'document-as-text',
    model: 'kimi-k2.6',
    task: 'CALL Read {"file_path":"$CWD/doc.pdf"}',
    files: { 'doc.pdf': PDF },
    refusal: /Input tag 'document'/,
  },
  {
    rule: 'tools-max',
    model: 'kimi-k2.6',
    task: 'WRITE many.txt fits now',
    args: mcpArgs('--tools', '130'),
    agentEnv: { ENABLE_TOOL_SEARCH: 'false' },
    refusal: /a max of 128 tools can be supported, got 151/,
    // The one rule alone, on top of no profile: a template's compatRules reach the meter.
    compat: 'compat: none, compatRules: { on: [tools-max] }',
  },
  {
    rule: 'inline-schema-refs',
    model: 'kimi-k3',
    task: 'WRITE refs.txt fits now',
    args: mcpArgs('--tools', '3', '--refs'),
    agentEnv: { ENABLE_TOOL_SEARCH: 'false' },
    refusal: /\$ref is not supported/,
  },
];

describe('each compatibility rule, real Claude Code, strict Moonshot', () => {
  for (const c of CASES) {
    it(`${c.rule}: fails directly, finishes through ${c.compat ?? 'the moonshot profile'}`, async () => {
      const files = { 'README.md': '# rules\n', ...c.files };
      const before = strict.requests.length;
      const direct = await claudeDirect({
        baseUrl: strict.url,
        key: KEY,
        model: c.model,
        cwd: makeRepo(files),
        prompt: c.task,
        args: c.args,
        env: c.agentEnv,
      });
      expect(direct.code, direct.output).not.toBe(0);
      expect(direct.output).toMatch(c.refusal);
      expect(strict.requests.slice(before).some((r) => r.kind === 'strict_rejected')).toBe(true);

      const e = await env.engine();
      const args = ['-p', '{{task}}', '--permission-mode', 'acceptEdits', ...(c.args ?? [])];
      const templateText = `
name: ${c.rule}
repo: ${makeRepo(files)}
agent: { preset: claude-code-batch, args: ${JSON.stringify(args)}, env: ${JSON.stringify(c.agentEnv ?? {})} }
provider: { preset: custom, baseUrl: "${strict.url}", style: anthropic, apiKeyEnv: STRICT_KEY, ${c.compat ?? 'compat: moonshot'} }
model: ${c.model}
tasks: [${JSON.stringify(c.task)}]
`;
      const { run, sessions } = await e.call('launch', { templateText });
      await e.waitForRun(run.id);
      const s = e.registry.listSessions(run.id)[0]!;
      const mine = strict.requests.filter(
        (r) => r.headers['x-claude-code-session-id'] === sessions[0]!.agentSessionId && r.path.startsWith('/v1/messages'),
      );
      expect(s.status, mine.map((r) => `${r.status} ${r.kind}`).join(', ')).toBe('done');
      expect(mine.every((r) => r.status === 200)).toBe(true);
      // The turn after the tool call carried what the provider refuses, rewritten: the rule fired on it.
      expect(mine.some((r) => r.kind === 'text')).toBe(true);
      const report = await e.call('report', { runId: run.id });
      const fired = report.sessions[0]!.compat.map((x) => x.rule);
      expect(fired).toContain(c.rule);
      if (c.compat) expect(fired).toEqual([c.rule]);
      const rows = e.ledger.rows(run.id);
      expect(rows.map((r) => r.state)).toEqual(mine.map(() => 'exact'));
    });
  }
});
