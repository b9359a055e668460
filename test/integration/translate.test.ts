// Real Claude Code on an OpenAI-only K2 host, through Flotilla's translation: a strict stand-in that speaks Chat
// Completions and enforces K2's rules there (ids in K2's form, reasoning_content back on kimi-k2.7-code's tool-call
// turns, no temperature but 1, no tool_choice "required"). Claude Code writes, edits, reads and runs a command; the
// ledger equals what the host served at the model's prices.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PriceTable } from '../../electron/engine/meter/index.ts';
import { claudeDirect } from '../fixtures/claude-direct.ts';
import { useEngines } from '../fixtures/engine.ts';
import { makeRepo } from '../fixtures/repo.ts';
import { waitFor } from '../fixtures/wait.ts';
import { type RecordedRequest, type Upstream, startUpstream } from '../upstream/index.ts';

const KEY = 'sk-k2-chat-host';
const K27 = PriceTable.shipped().get('kimi-k2.7-code')!;
const env = useEngines({ key: KEY, keyEnv: 'K2_CHAT_KEY', upstream: false });
let host: Upstream;
beforeAll(async () => {
  host = await startUpstream({ apiKey: KEY, strict: 'moonshot' });
});
afterAll(() => host?.close());

/** What the host billed for one chat request, at kimi-k2.7-code's prices (cached tokens are a part of the prompt). */
function servedUsd(r: RecordedRequest): number {
  const u = r.servedUsage as { prompt_tokens: number; completion_tokens: number; prompt_tokens_details?: { cached_tokens?: number } };
  const cached = u.prompt_tokens_details?.cached_tokens ?? 0;
  return ((u.prompt_tokens - cached) * K27.inputUsd + cached * K27.cacheReadUsd + u.completion_tokens * K27.outputUsd) / 1e6;
}

const TASK = [
  'WRITE notes.txt hello\\nworld',
  'EDIT notes.txt hello => howdy',
  'CALL Read {"file_path":"$CWD/notes.txt"}',
  'BASH cat notes.txt > copy.txt',
  // One word: the raw screen draws a space as a cursor move.
  'SAY all-done',
].join('\n');

describe('Claude Code on an OpenAI-style K2 host', () => {
  it('fails directly; through the translation it writes, edits, reads and runs, with K2 ids and reasoning kept, metered exactly', async () => {
    // Directly, Claude Code cannot use a Chat-only base URL at all.
    const direct = await claudeDirect({
      baseUrl: host.openaiBaseUrl,
      key: KEY,
      model: 'kimi-k2.7-code',
      cwd: makeRepo(),
      prompt: 'WRITE d.txt no',
    });
    expect(direct.code).not.toBe(0);

    const e = await env.engine();
    const repo = makeRepo();
    const templateText = `
name: k2-chat
repo: ${repo}
agent: { preset: claude-code-batch }
provider: { preset: custom, baseUrl: "${host.openaiBaseUrl}", style: openai, apiKeyEnv: K2_CHAT_KEY, compat: moonshot }
model: kimi-k2.7-code
tasks: ${JSON.stringify([TASK])}
`;
    const { run, sessions } = await e.call('launch', { templateText });
    await e.waitForRun(run.id);
    const s = e.registry.listSessions(run.id)[0]!;
    if (s.status !== 'done') {
      console.log('DEBUG', s.statusDetail, (await e.call('snapshot', { sessionId: s.id })).data.slice(-3000));
      console.log('DEBUG reqs', JSON.stringify(host.requests.map((r) => [r.method, r.path, r.kind, r.status])));
      console.log('DEBUG ledger', JSON.stringify(e.ledger.rows(run.id)));
    }
    expect(s.status).toBe('done');
    expect(readFileSync(join(s.worktree, 'notes.txt'), 'utf8')).toBe('howdy\nworld');
    expect(readFileSync(join(s.worktree, 'copy.txt'), 'utf8')).toBe('howdy\nworld');

    const mine = host.modelRequests().filter((r) => JSON.stringify(r.body?.messages ?? '').includes('WRITE notes.txt'));
    expect(mine.length).toBe(5);
    expect(mine.every((r) => r.path === '/v1/chat/completions' && r.kind !== 'strict_rejected')).toBe(true);
    // The last request carries the four calls with K2's ids, one counter, each with its reasoning back.
    const calls = (mine.at(-1)!.body.messages as any[]).filter((m) => m.role === 'assistant' && m.tool_calls);
    expect(calls.map((m) => m.tool_calls[0].id)).toEqual(['functions.Write:0', 'functions.Edit:1', 'functions.Read:2', 'functions.Bash:3']);
    expect(calls.every((m) => m.reasoning_content === 'The task says what to do next; doing it.')).toBe(true);
    expect(mine.every((r) => r.body.temperature === undefined || r.body.temperature === 1)).toBe(true);

    const rows = e.ledger.rows(run.id);
    expect(rows.map((r) => r.state)).toEqual(mine.map(() => 'exact'));
    const expected = mine.reduce((a, r) => a + servedUsd(r), 0);
    expect(Math.abs(rows.reduce((a, r) => a + r.usd, 0) - expected)).toBeLessThan(1e-6);
    expect(sessions[0]!.id).toBe(s.id);
  });

  it('interactive Claude Code in its terminal does the same turn and waits for the next prompt', async () => {
    const e = await env.engine();
    const templateText = `
name: k2-chat-interactive
repo: ${makeRepo()}
agent: { preset: claude-code }
provider: { preset: custom, baseUrl: "${host.openaiBaseUrl}", style: openai, apiKeyEnv: K2_CHAT_KEY, compat: moonshot }
model: kimi-k2.7-code
tasks: ${JSON.stringify([TASK.replaceAll('notes.txt', 'live.txt')])}
`;
    const { run } = await e.call('launch', { templateText });
    const s = await waitFor(() => {
      const x = e.registry.listSessions(run.id)[0];
      return x && x.status === 'idle' && existsSync(join(x.worktree, 'copy.txt')) ? x : null;
    }, 'the interactive session to finish its turn and wait');
    expect(readFileSync(join(s.worktree, 'live.txt'), 'utf8')).toBe('howdy\nworld');
    await waitFor(async () => (await e.call('snapshot', { sessionId: s.id })).data.includes('all-done'), 'the final answer on its screen');
    await e.call('stopRun', { runId: run.id });
  });
});
