// A large diff cut into chunks: each chunk is a valid unified diff whose @@ counts match its lines, and together
// they hold every line once, with the right line numbers.
import { describe, expect, it } from 'vitest';
import { chunkDiff, splitHunks } from '../../renderer/src/features/review/diff-chunks.ts';

const header = 'diff --git a/x.ts b/x.ts\nindex 1..2 100644\n--- a/x.ts\n+++ b/x.ts';

describe('chunkDiff', () => {
  it('cuts a long hunk into pieces with recomputed starts and counts', () => {
    const lines = [' a', '-b', '+B', ' c', '+d', '+e', ' f'];
    const diff = `${header}\n@@ -10,5 +10,7 @@ fn\n${lines.join('\n')}\n`;
    const chunks = chunkDiff(diff, 3);
    expect(chunks).toEqual([
      `${header}\n@@ -10,2 +10,2 @@ fn\n a\n-b\n+B\n`,
      `${header}\n@@ -12,1 +12,3 @@\n c\n+d\n+e\n`,
      `${header}\n@@ -13,1 +15,1 @@\n f\n`,
    ]);
    // Every chunk parses back to one hunk whose counts match its lines.
    for (const c of chunks) {
      const { hunks } = splitHunks(c);
      expect(hunks).toHaveLength(1);
      const m = /^@@ -\d+,(\d+) \+\d+,(\d+) @@/.exec(hunks[0]!.head)!;
      expect(hunks[0]!.lines.filter((l) => !l.startsWith('+')).length).toBe(Number(m[1]));
      expect(hunks[0]!.lines.filter((l) => !l.startsWith('-')).length).toBe(Number(m[2]));
    }
  });

  it('a new file: the old side is empty (start 0, count 0) in every piece', () => {
    const body = Array.from({ length: 5 }, (_, i) => `+line ${i}`).join('\n');
    const chunks = chunkDiff(`${header}\n@@ -0,0 +1,5 @@\n${body}\n`, 2);
    expect(chunks.map((c) => c.split('\n').find((l) => l.startsWith('@@')))).toEqual([
      '@@ -0,0 +1,2 @@',
      '@@ -0,0 +3,2 @@',
      '@@ -0,0 +5,1 @@',
    ]);
    expect(chunks.flatMap((c) => splitHunks(c).hunks.flatMap((h) => h.lines))).toEqual(body.split('\n'));
  });
});
