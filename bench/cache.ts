// bench/cache: what one prompt-cache prefix per run saves. Ten real Claude Code sessions (-p, one short task each) on a
// stand-in that counts cache reads as a host with automatic prefix caching does (the longest prefix of system, tools
// and messages it has served before), twice in the same process: with the stable-cache-prefix rule off (the baseline:
// each session's system prompt starts with its own billing header and names its own memory path) and on. Prints the
// cache-read tokens over the ten sessions' first requests, the prefill tokens saved, and the dollars at K2.6's prices.
//
//   npx tsx bench/cache.ts [--sessions 10]
import { parseArgs } from 'node:util';
import { Engine } from '../electron/engine/engine.ts';
import { PriceTable } from '../electron/engine/meter/index.ts';
import { BIN_DIR } from '../test/fixtures/engine.ts';
import { makeRepo, tempDir } from '../test/fixtures/repo.ts';
import { type RecordedRequest, startUpstream } from '../test/upstream/index.ts';

const { values } = parseArgs({ options: { sessions: { type: 'string', default: '10' } } });
const n = Number(values.sessions);
const KEY = 'sk-bench-cache';
const K26 = PriceTable.shipped().get('kimi-k2.6')!;

async function run(ruleOn: boolean): Promise<{ first: RecordedRequest[]; seconds: number }> {
  const host = await startUpstream({ apiKey: KEY, prefixCache: true });
  const engine = await Engine.create({
    dataDir: tempDir('bench-cache-'),
    env: { ...process.env, PATH: `${BIN_DIR}:${process.env.PATH}`, HOME: tempDir('bench-cache-home-'), CACHE_KEY: KEY },
  });
  try {
    const tasks = Array.from({ length: n }, (_, i) => `Task number ${i + 1}: answer briefly.\nSAY done-${i + 1}`);
    const templateText = `
name: cache-${ruleOn ? 'on' : 'off'}
repo: ${makeRepo()}
agent: { preset: claude-code-batch }
provider: { preset: custom, baseUrl: "${host.anthropicBaseUrl}", apiKeyEnv: CACHE_KEY, compat: moonshot${ruleOn ? '' : ', compatRules: { off: [stable-cache-prefix] }'} }
model: kimi-k2.6
tasks: ${JSON.stringify(tasks)}
`;
    const t0 = performance.now();
    const { run } = await engine.call('launch', { templateText });
    await engine.waitForRun(run.id);
    const seconds = (performance.now() - t0) / 1000;
    const first = new Map<string, RecordedRequest>();
    for (const r of host.modelRequests()) {
      const m = JSON.stringify(r.body?.messages ?? '').match(/Task number (\d+):/);
      if (m && Array.isArray(r.body?.tools) && r.body.tools.length && !first.has(m[1]!)) first.set(m[1]!, r);
    }
    return { first: [...first.values()], seconds };
  } finally {
    await engine.close();
    await host.close();
  }
}

const sum = (rs: RecordedRequest[], k: string) => rs.reduce((a, r) => a + Number(r.servedUsage?.[k] ?? 0), 0);
const off = await run(false);
const on = await run(true);
console.log(`bench/cache: ${n} Claude Code sessions' first requests on a prefix-caching stand-in (Node ${process.version})`);
for (const [label, r] of [
  ['rule off (baseline)', off],
  ['stable-cache-prefix on', on],
] as const) {
  const read = sum(r.first, 'cache_read_input_tokens');
  const prompt = read + sum(r.first, 'input_tokens');
  console.log(
    `  ${label.padEnd(22)} ${r.first.length} first requests: prompt ${prompt} tokens, cache reads ${read} (${((read / prompt) * 100).toFixed(1)} %); run ${r.seconds.toFixed(1)} s`,
  );
}
const saved = sum(on.first, 'cache_read_input_tokens') - sum(off.first, 'cache_read_input_tokens');
const usd = (saved * (K26.inputUsd - K26.cacheReadUsd)) / 1e6;
const ratio = sum(on.first, 'cache_read_input_tokens') / Math.max(1, sum(off.first, 'cache_read_input_tokens'));
console.log(
  `  prefill tokens no longer computed: ${saved} over ${n} sessions (${Math.round(saved / n)} per session); ` +
    `cache reads ×${ratio.toFixed(1)}; saved $${usd.toFixed(4)} per run start at kimi-k2.6 (input $${K26.inputUsd}, cache hit $${K26.cacheReadUsd} per M)`,
);
