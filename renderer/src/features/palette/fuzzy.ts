// Fuzzy matching for the command palette: every query character in order (a subsequence), scored for characters at
// word starts and in runs, so "stp" finds "Stop session" before "Set up…". Pure, tested in Node.

export interface FuzzyMatch {
  score: number;
  /** Indices of the matched characters in the text (for highlighting). */
  positions: number[];
}

export function fuzzyMatch(query: string, text: string): FuzzyMatch | null {
  const q = query.trim().toLowerCase();
  if (!q) return { score: 0, positions: [] };
  const t = text.toLowerCase();
  // Words of the query match in any order when separated by spaces ("session stop" finds "Stop session").
  const words = q.split(/\s+/);
  if (words.length > 1) {
    let score = 0;
    const positions: number[] = [];
    for (const w of words) {
      const m = fuzzyMatch(w, text);
      if (!m) return null;
      score += m.score;
      positions.push(...m.positions);
    }
    return { score, positions: [...new Set(positions)].sort((a, b) => a - b) };
  }
  let best: FuzzyMatch | null = null;
  // Try each place the first character occurs (a later start can score better: "sess" in "Reset session").
  for (let start = t.indexOf(q[0]!); start !== -1; start = t.indexOf(q[0]!, start + 1)) {
    const positions: number[] = [];
    let score = 0;
    let at = start;
    let prev = -2;
    for (const ch of q) {
      const i = t.indexOf(ch, at);
      if (i === -1) {
        score = -1;
        break;
      }
      const wordStart = i === 0 || /[\s\-_/:.(]/.test(t[i - 1]!);
      score += 1 + (wordStart ? 3 : 0) + (i === prev + 1 ? 2 : 0);
      positions.push(i);
      prev = i;
      at = i + 1;
    }
    if (score < 0) break;
    // Shorter spans and earlier starts win ties.
    score -= (positions[positions.length - 1]! - positions[0]!) * 0.05 + start * 0.01;
    if (!best || score > best.score) best = { score, positions };
  }
  return best;
}

/** Items ranked by their match of `query` (unmatched dropped; stable for equal scores). */
export function rank<T>(items: readonly T[], query: string, text: (t: T) => string): { item: T; match: FuzzyMatch }[] {
  const out: { item: T; match: FuzzyMatch; i: number }[] = [];
  items.forEach((item, i) => {
    const match = fuzzyMatch(query, text(item));
    if (match) out.push({ item, match, i });
  });
  return out.sort((a, b) => b.match.score - a.match.score || a.i - b.i).map(({ item, match }) => ({ item, match }));
}
