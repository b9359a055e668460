// From many finished sessions to one branch: which to merge, in which order, and which will not go in cleanly. The
// facts come from git (merge-tree of each session against the base tip, and of each pair); the order is a plain
// function: sessions that conflict with nobody first, then the others so that each one is checked against the base
// after the ones before it — a session conflicting with an earlier step is flagged (blocked) and goes last.
import type { MergePlan, MergePlanStep } from '../../shared/contract.ts';
import { mergeTree, snapshotCommit } from '../workspace/index.ts';

export interface PlanFacts {
  sessions: { sessionId: string; slot: number }[];
  /** Session → merges cleanly into the base as it is now. */
  cleanOnBase: Map<string, boolean>;
  /** Pairs (either order) whose changes conflict with each other. */
  conflicts: Set<string>;
  /** Sessions the base already holds (merging changes nothing). */
  merged: Set<string>;
}

export const pairKey = (a: string, b: string) => (a < b ? `${a}|${b}` : `${b}|${a}`);

export function planOrder(f: PlanFacts): MergePlan {
  const bySlot = [...f.sessions].filter((s) => !f.merged.has(s.sessionId)).sort((a, b) => a.slot - b.slot);
  const conflictsWith = (id: string) =>
    bySlot.filter((o) => o.sessionId !== id && f.conflicts.has(pairKey(id, o.sessionId))).map((o) => o.sessionId);
  const clean = (id: string) => f.cleanOnBase.get(id) === true;
  const lonely = bySlot.filter((s) => clean(s.sessionId) && conflictsWith(s.sessionId).length === 0);
  const taken = new Set(lonely.map((s) => s.sessionId));
  const order = [...lonely];
  // Then the clean ones that conflict only with sessions not taken yet (greedy, slot order).
  for (const s of bySlot) {
    if (taken.has(s.sessionId) || !clean(s.sessionId)) continue;
    if (conflictsWith(s.sessionId).some((o) => taken.has(o))) continue;
    taken.add(s.sessionId);
    order.push(s);
  }
  // The rest: blocked by an earlier step, or not clean on the base already.
  for (const s of bySlot) if (!taken.has(s.sessionId)) order.push(s);
  const before = new Set<string>();
  const steps: MergePlanStep[] = order.map((s) => {
    const withIds = conflictsWith(s.sessionId);
    const blockedBy = withIds.filter((o) => before.has(o));
    before.add(s.sessionId);
    return { sessionId: s.sessionId, slot: s.slot, clean: clean(s.sessionId), conflictsWith: withIds, blockedBy };
  });
  return { steps, merged: f.sessions.filter((s) => f.merged.has(s.sessionId)).map((s) => s.sessionId) };
}

/** Gathers the facts with git: one snapshot per session, merge-tree against the base tip and for every pair. */
export async function planFacts(
  repo: string,
  baseTip: { commit: string; tree: string },
  sessions: { sessionId: string; slot: number; worktree: string }[],
): Promise<PlanFacts> {
  const snaps = new Map<string, string>();
  for (const s of sessions) snaps.set(s.sessionId, await snapshotCommit(s.worktree));
  const cleanOnBase = new Map<string, boolean>();
  const merged = new Set<string>();
  for (const s of sessions) {
    const m = await mergeTree(repo, baseTip.commit, snaps.get(s.sessionId)!);
    cleanOnBase.set(s.sessionId, m.clean);
    if (m.clean && m.tree === baseTip.tree) merged.add(s.sessionId);
  }
  const open = sessions.filter((s) => !merged.has(s.sessionId));
  const conflicts = new Set<string>();
  for (let i = 0; i < open.length; i++)
    for (let j = i + 1; j < open.length; j++) {
      const a = open[i]!.sessionId;
      const b = open[j]!.sessionId;
      if (!(await mergeTree(repo, snaps.get(a)!, snaps.get(b)!)).clean) conflicts.add(pairKey(a, b));
    }
  return { sessions, cleanOnBase, conflicts, merged };
}
