// Which collisions between sessions deserve a warning, as plain functions over data: the changed paths of each session,
// what `merge-tree` said about each overlapping pair and about each session against the moved base, and the edit
// intents seen on the wire. No git, no timers: the detector (conflicts.ts) gathers the facts and asks these.
import type { ConflictKind, ConflictWarning } from '../../shared/contract.ts';

/** A warning before it has a start time. */
export type Draft = Omit<ConflictWarning, 'since'>;

export function pairKey(a: string, b: string): string {
  return a < b ? `${a}\0${b}` : `${b}\0${a}`;
}

export function draft(kind: ConflictKind, path: string, sessions: string[], detail: string | null): Draft {
  const s = [...sessions].sort();
  return { key: `${kind}:${s.join('+')}:${path}`, path, sessions: s, kind, detail };
}

export interface OverlapPair<S> {
  a: S;
  b: S;
  /** Paths both changed. */
  paths: string[];
}

/** Every pair of sessions that changed a path in common, with those paths (sessions in the order given). */
export function overlappingPairs<S extends { id: string; paths: ReadonlySet<string> }>(
  sessions: readonly S[],
): Map<string, OverlapPair<S>> {
  const holders = new Map<string, S[]>();
  for (const s of sessions) {
    for (const p of s.paths) {
      const h = holders.get(p);
      if (h) h.push(s);
      else holders.set(p, [s]);
    }
  }
  const pairs = new Map<string, OverlapPair<S>>();
  for (const [p, hs] of holders) {
    for (let i = 0; i < hs.length; i++) {
      for (let j = i + 1; j < hs.length; j++) {
        const k = pairKey(hs[i]!.id, hs[j]!.id);
        const e = pairs.get(k);
        if (e) e.paths.push(p);
        else pairs.set(k, { a: hs[i]!, b: hs[j]!, paths: [p] });
      }
    }
  }
  return pairs;
}

/**
 * Overlap, conflict and drift warnings. `pairConflicts`: the paths merge-tree found conflicted for a pair (absent =
 * unknown, which stays an overlap); `drift`: the paths each session conflicts in against the moved base (`tip`).
 */
export function gitWarnings(
  pairs: ReadonlyMap<string, OverlapPair<{ id: string }>>,
  pairConflicts: ReadonlyMap<string, ReadonlySet<string>>,
  drift: ReadonlyMap<string, ReadonlySet<string>>,
  base: { branch: string | null; tip: string | null },
): Draft[] {
  const out: Draft[] = [];
  const overlapping = new Map<string, Set<string>>();
  for (const [k, { a, b, paths: shared }] of pairs) {
    const conflicts = pairConflicts.get(k);
    for (const p of shared) {
      if (conflicts?.has(p)) {
        out.push(draft('conflict', p, [a.id, b.id], `${a.id} and ${b.id} both changed this file and their changes do not merge`));
      } else {
        let set = overlapping.get(p);
        if (!set) overlapping.set(p, (set = new Set()));
        set.add(a.id).add(b.id);
      }
    }
    // Conflicts on a path only one side names (rename against edit, file against directory).
    for (const p of conflicts ?? []) {
      if (!shared.includes(p)) out.push(draft('conflict', p, [a.id, b.id], `${a.id} and ${b.id} made changes that do not merge here`));
    }
  }
  for (const [p, set] of overlapping) {
    out.push(draft('overlap', p, [...set], `changed in ${set.size} sessions; merges cleanly so far`));
  }
  for (const [id, conflicts] of drift) {
    for (const p of conflicts) {
      out.push(
        draft('drift', p, [id], `${base.branch} moved (now ${base.tip?.slice(0, 10)}) and no longer merges with this session's changes`),
      );
    }
  }
  return out;
}

export interface Intent {
  at: number;
  tool: string;
}

/**
 * Intent warnings: a session about to edit (or editing) a file another session has changed or is editing. An intent is
 * fresh for `ttlMs`; an old one lives on only while the file is in its session's changes (the edit landed). Expired
 * intents are removed from `intents` (it is the detector's own map).
 */
export function intentWarnings(
  intents: Map<string, Map<string, Intent>>,
  changed: ReadonlyMap<string, ReadonlySet<string>>,
  sessions: ReadonlySet<string>,
  now: number,
  ttlMs: number,
): Draft[] {
  const has = (id: string, p: string): boolean => changed.get(id)?.has(p) ?? false;
  const editing = (id: string, p: string): boolean => {
    const it = intents.get(id)?.get(p);
    return !!it && now - it.at < ttlMs;
  };
  const out: Draft[] = [];
  for (const [id, m] of intents) {
    if (!sessions.has(id)) {
      intents.delete(id);
      continue;
    }
    for (const [p, it] of m) {
      const fresh = now - it.at < ttlMs;
      if (!fresh && !has(id, p)) {
        m.delete(p);
        continue;
      }
      for (const other of sessions) {
        if (other === id) continue;
        const otherHas = has(other, p);
        if (!otherHas && !editing(other, p)) continue;
        if (otherHas && has(id, p)) continue; // both changed it: that is an overlap or a conflict now
        const detail = otherHas
          ? `${id} is editing (${it.tool}) a file ${other} has changed`
          : `${id} and ${other} are both editing this file`;
        out.push(draft('intent', p, [id, other], detail));
      }
    }
    if (!m.size) intents.delete(id);
  }
  return out;
}

/** When the next fresh intent expires (its expiry may clear a warning with no other event), or null. */
export function nextIntentExpiry(intents: ReadonlyMap<string, ReadonlyMap<string, Intent>>, now: number, ttlMs: number): number | null {
  let next = Infinity;
  for (const m of intents.values()) for (const it of m.values()) if (now - it.at < ttlMs) next = Math.min(next, it.at + ttlMs);
  return next === Infinity ? null : next;
}

/** The warnings to publish: one per key, sorted, each keeping the start time it had in `prev`. */
export function stampWarnings(drafts: readonly Draft[], prev: readonly ConflictWarning[], now: number): ConflictWarning[] {
  const before = new Map(prev.map((w) => [w.key, w] as const));
  const next = new Map<string, ConflictWarning>();
  const sinceNow = new Date(now).toISOString();
  for (const d of drafts) {
    if (next.has(d.key)) continue;
    next.set(d.key, { ...d, since: before.get(d.key)?.since ?? sinceNow });
  }
  return [...next.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}
