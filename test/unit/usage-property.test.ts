// Property: however the bytes of a response are split into chunks (1-byte pieces, random cuts, cuts inside multi-byte
// UTF-8 characters, between \r and \n), the parser gives the same ParseResult, the same intents, the same progress
// reports and one first-token signal.
import { beforeAll, describe, expect, it } from 'vitest';
import { createResponseParser } from '../../electron/engine/meter/usage/index.ts';
import { prng } from '../fixtures/prng.ts';
import { captureAnthropic, handSamples, type Sample } from './usage-samples.ts';

function outcome(s: Sample, pieces: Uint8Array[]) {
  const intents: string[] = [];
  const progress: string[] = [];
  let firstTokens = 0;
  const p = createResponseParser(s.style, {
    status: s.status,
    contentType: s.contentType,
    events: {
      onIntent: (i) => intents.push(`${i.tool} ${i.path}`),
      onProgress: (x) => progress.push(JSON.stringify(x)),
      onFirstToken: () => firstTokens++,
    },
  });
  for (const piece of pieces) p.push(piece);
  return { result: p.end(), intents, progress, firstTokens };
}

function cutAt(bytes: Buffer, cuts: number[]): Uint8Array[] {
  const sorted = [...new Set(cuts)].filter((c) => c > 0 && c < bytes.length).sort((x, y) => x - y);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const c of sorted) {
    out.push(bytes.subarray(prev, c));
    prev = c;
  }
  out.push(bytes.subarray(prev));
  return out;
}

const SPLITS = 520;

let samples: Sample[] = [];
beforeAll(async () => {
  const cap = await captureAnthropic();
  samples = [...Object.values(cap), ...handSamples()];
});

describe('property: chunk boundaries never change the outcome', () => {
  it('samples carry multi-byte UTF-8 and CRLF', () => {
    expect(samples.length).toBeGreaterThanOrEqual(15);
    const multiByte = samples.filter((s) => s.bytes.some((b) => b >= 0xf0)); // 4-byte sequences (emoji)
    expect(multiByte.length).toBeGreaterThanOrEqual(8);
    expect(samples.some((s) => s.bytes.includes('\r\n'))).toBe(true);
  });

  it(`≥ ${SPLITS} random splits per sample → identical ParseResult, intents, progress`, () => {
    let total = 0;
    samples.forEach((s, si) => {
      const rand = prng(0x5eed + si * 7919);
      const ref = outcome(s, [s.bytes]);
      const n = s.bytes.length;
      // positions inside a multi-byte character (before a continuation byte 10xxxxxx), and between \r and \n
      const inside: number[] = [];
      const crlf: number[] = [];
      for (let i = 1; i < n; i++) {
        if ((s.bytes[i]! & 0xc0) === 0x80) inside.push(i);
        if (s.bytes[i - 1] === 13 && s.bytes[i] === 10) crlf.push(i);
      }
      for (let k = 0; k < SPLITS; k++) {
        let cuts: number[];
        const mode = k % 6;
        if (k === 0)
          cuts = Array.from({ length: n }, (_, i) => i); // 1-byte pieces
        else if (k === 1) cuts = [...inside, ...crlf];
        else if (mode === 1 && inside.length > 0)
          cuts = Array.from({ length: 1 + Math.floor(rand() * 8) }, () => inside[Math.floor(rand() * inside.length)]!);
        else if (mode === 2) {
          // runs of 1-3 byte pieces around a random spot, the rest whole
          const at = Math.floor(rand() * n);
          cuts = Array.from({ length: 40 }, (_, i) => at + i + Math.floor(rand() * 3));
        } else if (mode === 3 && crlf.length > 0) cuts = crlf.filter(() => rand() < 0.5);
        else cuts = Array.from({ length: 1 + Math.floor(rand() * Math.min(64, n)) }, () => Math.floor(rand() * n));
        const got = outcome(s, cutAt(s.bytes, cuts));
        if (JSON.stringify(got) !== JSON.stringify(ref)) {
          // fail with a readable diff
          expect({ sample: s.name, split: k, ...got }).toEqual({ sample: s.name, split: k, ...ref });
        }
        total++;
      }
      expect(ref.firstTokens).toBeLessThanOrEqual(1);
    });
    expect(total).toBe(samples.length * SPLITS);
  });
});
