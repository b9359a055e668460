// bench/meter-upstream: the stand-in provider (test/upstream) in its own process, for bench/meter.ts.
//   node --import tsx bench/meter-upstream.ts <apiKey>
// Ready line: {url, anthropicBaseUrl, port}. Commands: mark (CPU / loop delay since the last mark).
import { startUpstream } from '../test/upstream/index.ts';
import { serveChild } from './meter-ipc.ts';

const apiKey = process.argv[2] ?? 'sk-bench-upstream';
const up = await startUpstream({ apiKey });
serveChild({ url: up.url, anthropicBaseUrl: up.anthropicBaseUrl, port: up.port }, {}, () => up.close());
