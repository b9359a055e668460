// Micro-benchmark (printed, not asserted): parsing a 10 MB Anthropic SSE stream of text deltas.
import { describe, expect, it } from 'vitest';
import { createResponseParser } from '../../electron/engine/meter/usage/index.ts';

function bigStream(targetBytes: number): Buffer {
  const parts: string[] = [];
  parts.push(
    `event: message_start\ndata: ${JSON.stringify({ type: 'message_start', message: { id: 'msg', type: 'message', role: 'assistant', model: 'kimi-k2.6', content: [], usage: { input_tokens: 1000, cache_read_input_tokens: 5000, cache_creation_input_tokens: 0, output_tokens: 1 } } })}\n\n`,
  );
  parts.push('event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\n');
  const words = ['the ', 'quick ', 'brown ', 'fox — ', 'café ', 'jumps ', '"over" ', 'lazy ', 'dogs\\n', '🚀 '];
  let size = 0;
  let i = 0;
  while (size < targetBytes) {
    const text = words[i % 10]! + words[(i * 7) % 10]! + words[(i * 3) % 10]!;
    const ev = `event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":${JSON.stringify(text)}}}\n\n`;
    parts.push(ev);
    size += ev.length;
    if (++i % 50 === 0) parts.push('event: ping\ndata: {"type":"ping"}\n\n');
  }
  parts.push('event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n');
  parts.push(
    `event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":${i * 4}}}\n\n`,
  );
  parts.push('event: message_stop\ndata: {"type":"message_stop"}\n\n');
  return Buffer.from(parts.join(''));
}

function parseIn(bytes: Buffer, chunkSize: number) {
  let progress = 0;
  const p = createResponseParser('anthropic', { status: 200, contentType: 'text/event-stream', events: { onProgress: () => progress++ } });
  for (let i = 0; i < bytes.length; i += chunkSize) p.push(bytes.subarray(i, i + chunkSize));
  return { r: p.end(), progress };
}

describe('usage parser throughput', () => {
  it('parses a 10 MB Anthropic text stream (MB/s printed)', () => {
    const bytes = bigStream(10 * 1024 * 1024);
    const mb = bytes.length / (1024 * 1024);
    const lines: string[] = [];
    for (const chunkSize of [64 * 1024, 16 * 1024, 1460]) {
      parseIn(bytes, chunkSize); // warm-up
      const times: number[] = [];
      let out;
      for (let k = 0; k < 5; k++) {
        const t0 = performance.now();
        out = parseIn(bytes, chunkSize);
        times.push(performance.now() - t0);
      }
      times.sort((a, b) => a - b);
      const median = times[2]!;
      lines.push(
        `  ${String(chunkSize).padStart(6)} B chunks: ${(mb / (median / 1000)).toFixed(0)} MB/s median (best ${(mb / (times[0]! / 1000)).toFixed(0)} MB/s), ${median.toFixed(1)} ms`,
      );
      expect(out!.r.complete).toBe(true);
      expect(out!.r.estimatedOutputTokens).toBeGreaterThan(100_000);
    }
    // eslint-disable-next-line no-console
    console.log(`usage parser: ${mb.toFixed(1)} MB Anthropic SSE of text deltas\n${lines.join('\n')}`);
  });
});
