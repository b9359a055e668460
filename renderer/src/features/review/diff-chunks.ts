// Cutting a large unified diff into small valid diffs (the viewer mounts them one by one as they scroll into view).
// Pure, tested in Node.

/** Diff lines above which the view is chunked and lazy. */
export const LARGE = 200;
/** Lines per lazily mounted chunk of a large diff (each costs ~2 ms per line to draw in headless Chromium here). */
export const CHUNK = 20;

/** The file header (diff --git … +++ …) and its hunks, each hunk as its header and lines. */
export function splitHunks(diff: string): { header: string; hunks: { head: string; lines: string[] }[] } {
  const lines = diff.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const first = lines.findIndex((l) => l.startsWith('@@'));
  const header = (first === -1 ? lines : lines.slice(0, first)).join('\n');
  const hunks: { head: string; lines: string[] }[] = [];
  if (first !== -1)
    for (const l of lines.slice(first)) {
      if (l.startsWith('@@')) hunks.push({ head: l, lines: [] });
      else hunks.at(-1)!.lines.push(l);
    }
  return { header, hunks };
}

/**
 * A large diff as several small valid diffs of at most `size` lines each: long hunks are cut, each piece with its own
 * @@ header (start lines and counts recomputed), so each chunk can be drawn on its own.
 */
export function chunkDiff(diff: string, size = CHUNK): string[] {
  const { header, hunks } = splitHunks(diff);
  const out: string[] = [];
  for (const h of hunks) {
    const m = /^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@(.*)$/.exec(h.head);
    if (!m) continue;
    let oldAt = Number(m[1]);
    let newAt = Number(m[2]);
    for (let i = 0; i < h.lines.length; i += size) {
      const part = h.lines.slice(i, i + size);
      const oldN = part.filter((l) => l.startsWith('-') || l.startsWith(' ')).length;
      const newN = part.filter((l) => l.startsWith('+') || l.startsWith(' ')).length;
      // An empty side starts at the line before (git's convention for a count of 0).
      const os = oldN === 0 ? Math.max(0, oldAt - 1) : oldAt;
      const ns = newN === 0 ? Math.max(0, newAt - 1) : newAt;
      out.push(`${header}\n@@ -${os},${oldN} +${ns},${newN} @@${i === 0 ? m[3] : ''}\n${part.join('\n')}\n`);
      oldAt += oldN;
      newAt += newN;
    }
  }
  return out;
}
