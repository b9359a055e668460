// The model's window in the meter, in plain functions: when a request is answered here (a sure overflow; compaction
// asked once at 88 %), the estimate corrected by what the provider reported, compactions recorded, and a compaction too
// large for the window made to fit by leaving out its oldest tool results.
import { describe, expect, it } from 'vitest';
import {
  COMPACT_AT,
  fitCompaction,
  isCompactionRequest,
  newWindowState,
  noteSettled,
  overflowRefusal,
  windowVerdict,
} from '../../electron/engine/meter/window.ts';

const W = 262_144;

describe('the window verdict', () => {
  it('sends what fits or is unsure; answers a sure overflow; asks Claude Code to compact once past 88 %', () => {
    const w = newWindowState();
    expect(windowVerdict(w, null, 900_000, false, true)).toEqual({ kind: 'send' });
    expect(windowVerdict(w, W, 200_000, false, true)).toEqual({ kind: 'send' });
    expect(windowVerdict(w, W, 265_000, false, false)).toEqual({ kind: 'send' }); // within 2 %: the provider decides
    expect(windowVerdict(w, W, 270_000, false, true)).toEqual({ kind: 'overflow', tokens: 270_000 });
    expect(windowVerdict(w, W, 240_000, false, true)).toEqual({ kind: 'compact', tokens: 240_000 });
    // Other agents do not compact on it: only a sure overflow is answered.
    expect(windowVerdict(w, W, 240_000, false, false)).toEqual({ kind: 'send' });
    // A compaction request is never asked to compact; one that cannot fit at all is answered.
    expect(windowVerdict(w, W, 240_000, true, true)).toEqual({ kind: 'send' });
    expect(windowVerdict(w, W, 300_000, true, true)).toEqual({ kind: 'overflow', tokens: 300_000 });
  });

  it("corrects the estimate by the provider's last count, asks once until the session is below the threshold again", () => {
    const w = newWindowState();
    noteSettled(w, 1_048_576, 20_000, 950_000, false, 't1');
    expect(w.scale).toBe(47.5);
    expect(windowVerdict(w, 1_048_576, 21_000, false, true)).toEqual({ kind: 'compact', tokens: 997_500 });
    w.asked = true;
    expect(windowVerdict(w, 1_048_576, 21_000, false, true)).toEqual({ kind: 'send' });
    noteSettled(w, 1_048_576, 22_000, 960_000, true, 't2'); // the compaction
    noteSettled(w, 1_048_576, 4_000, 30_000, false, 't3'); // the first request after it
    expect(w.compactions).toEqual([{ at: 't2', beforeTokens: 950_000, afterTokens: 30_000 }]);
    expect(w.asked).toBe(false);
    expect(COMPACT_AT).toBe(0.88);
  });

  it('answers in the agent’s API: Anthropic’s "prompt is too long", OpenAI’s context_length_exceeded', () => {
    expect(overflowRefusal('anthropic', 270_000, W)).toEqual({
      status: 400,
      type: 'invalid_request_error',
      message: 'prompt is too long: 270000 tokens > 262144 maximum',
    });
    expect(overflowRefusal('openai', 270_000, W)).toMatchObject({ status: 400, type: 'context_length_exceeded' });
  });
});

describe('compaction requests', () => {
  const marker = 'CRITICAL: Respond with TEXT ONLY. Do NOT call any tools.';
  it('are recognised by their last message', () => {
    expect(isCompactionRequest({ messages: [{ role: 'user', content: [{ type: 'text', text: marker }] }] })).toBe(true);
    expect(
      isCompactionRequest({
        messages: [
          { role: 'user', content: marker },
          { role: 'user', content: 'go on' },
        ],
      }),
    ).toBe(false);
    expect(isCompactionRequest({})).toBe(false);
  });

  it('one too large for the window has its oldest tool results left out until it fits; the last message stays', () => {
    const big = 'x'.repeat(40_000);
    const body = {
      messages: [
        { role: 'user', content: 'task' },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'a', content: big }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'b', content: [{ type: 'text', text: big }] }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'c', content: big }] },
        { role: 'user', content: marker },
      ],
    };
    const raw = Buffer.from(JSON.stringify(body));
    const estimate = Math.round(raw.length / 4); // ~30 000 tokens
    expect(fitCompaction(raw, 'anthropic', 100_000, 1, estimate)).toBeNull(); // fits
    const r = fitCompaction(raw, 'anthropic', 25_000, 1, estimate)!;
    expect(r.elided).toBe(1);
    const out = JSON.parse(r.body.toString());
    expect(out.messages[1].content[0].content).toMatch(/^\[40000 characters of this tool result left out by Flotilla/);
    expect(out.messages[2].content[0].content[0].text).toBe(big);
    expect(out.messages.at(-1).content).toBe(marker);
    expect(r.tokens).toBeLessThanOrEqual(25_000 * 0.92);
    // Chat (a translated request): the tool messages.
    const chat = Buffer.from(
      JSON.stringify({
        messages: [
          { role: 'tool', tool_call_id: 'a', content: big },
          { role: 'user', content: marker },
        ],
      }),
    );
    expect(JSON.parse(fitCompaction(chat, 'openai', 5_000, 1, 10_000)!.body.toString()).messages[0].content).toMatch(/left out/);
  });
});
