// What an Anthropic answer of the stand-in costs at a model's prices: the usage it put on the wire (servedUsage),
// so a test can check the engine's spend to the cent — exact, not estimated.
import type { RecordedRequest } from './script.ts';

export interface UsdPerMillion {
  inputUsd: number;
  cacheReadUsd: number;
  cacheWriteUsd: number;
  outputUsd: number;
}

export function anthropicServedUsd(r: RecordedRequest, p: UsdPerMillion): number {
  const u = r.servedUsage as Record<string, number>;
  const cost =
    u.input_tokens! * p.inputUsd +
    (u.cache_read_input_tokens ?? 0) * p.cacheReadUsd +
    (u.cache_creation_input_tokens ?? 0) * p.cacheWriteUsd +
    u.output_tokens! * p.outputUsd;
  return cost / 1e6;
}
