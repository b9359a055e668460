// The end of the review loop for a run: the merge plan (which sessions, in which order, which would conflict), merging
// every clean step at once, and pushing a session's branch. Merges go through Review.merge (refused, never half done).
import { existsSync } from 'node:fs';
import type { MergeAllResult, MergePlan, PushResult, RebaseResult, SessionInfo } from '../../shared/contract.ts';
import { spawn } from 'node:child_process';
import { EngineError } from '../errors.ts';
import { findOnPath } from '../templates/index.ts';
import type { RunRegistry } from '../runs/index.ts';
import { MergeRefused, baseBranchOf, commitSession, mergeTree, pushBranch, runGit, snapshotCommit } from '../workspace/index.ts';
import { planFacts, planOrder } from './merge-plan.ts';
import type { Review } from './review.ts';

/** A commit message from the session's task: its first line as the subject (≤ 72 characters), the rest as the body. */
export function draftMessage(s: Pick<SessionInfo, 'slot' | 'task'>, runName: string): string {
  const task = (s.task ?? '').trim();
  if (!task) return `${runName}: session ${s.slot}`;
  const [first, ...rest] = task.split('\n');
  const subject = first!.length > 72 ? `${first!.slice(0, 71).trimEnd()}…` : first!;
  const body = [first!.length > 72 ? first : null, ...rest]
    .filter((l) => l !== null)
    .join('\n')
    .trim();
  return `${subject}\n\n${body ? `${body}\n\n` : ''}Flotilla run ${runName}, session ${s.slot}.`;
}

export class Landing {
  constructor(
    private readonly d: {
      registry: RunRegistry;
      review: Review;
      sendFeedback(sessionId: string, text: string): Promise<void>;
      isAgent(sessionId: string): boolean;
    },
  ) {}

  async rebase(sessionId: string): Promise<RebaseResult> {
    const info = this.d.registry.sessionInfo(sessionId);
    const run = this.d.registry.runInfo(info.runId);
    const base = await this.target(info.runId);
    const snap = await snapshotCommit(info.worktree);
    const m = await mergeTree(run.repo, base.commit, snap);
    if (m.clean)
      return { mode: 'none', conflicts: [], message: `session ${info.slot} merges cleanly into ${base.branch}: nothing to rebase` };
    const paths = m.conflicts.join(', ');
    if (this.d.isAgent(sessionId)) {
      const prompt =
        `The base branch ${base.branch} has moved and your changes now conflict with it in ${paths}. ` +
        `Rebase your work onto it: commit what you have, run git rebase ${base.branch} in this directory, resolve the conflicts keeping both intents, and finish the rebase.`;
      await this.d.sendFeedback(sessionId, prompt);
      return {
        mode: 'agent',
        conflicts: m.conflicts,
        message: `asked session ${info.slot}'s agent to rebase onto ${base.branch} (conflicts in ${paths})`,
      };
    }
    // No agent to ask: commit the work, rebase, and leave a stopped rebase for the user to finish.
    await commitSession(info.worktree, draftMessage(info, run.name));
    const r = await runGit(info.worktree, ['-c', 'core.editor=true', 'rebase', base.branch], { okExits: [0, 1] });
    if (r.code === 0) return { mode: 'git', conflicts: [], message: `rebased session ${info.slot} onto ${base.branch}` };
    const left = (await runGit(info.worktree, ['diff', '--name-only', '--diff-filter=U'])).stdout.split('\n').filter(Boolean);
    return {
      mode: 'git',
      conflicts: left,
      message: `the rebase of session ${info.slot} onto ${base.branch} stopped on conflicts in ${left.join(', ')} — resolve them in ${info.worktree}, then git rebase --continue (or --abort)`,
    };
  }

  private async target(runId: string): Promise<{ branch: string; commit: string; tree: string }> {
    const run = this.d.registry.runInfo(runId);
    if (run.workspace !== 'worktree')
      throw new EngineError('shared', `run ${run.name} works in your checkout directly: there is nothing to merge`);
    const branch = this.d.registry.liveRun(runId)?.baseBranch ?? (await baseBranchOf(run.repo, run.base));
    if (!branch)
      throw new EngineError('no_target', `the run's base (${run.base}) is not a branch — merge sessions one by one with a target branch`);
    const out = (await runGit(run.repo, ['rev-parse', `refs/heads/${branch}`, `refs/heads/${branch}^{tree}`])).stdout.trim().split('\n');
    return { branch, commit: out[0]!, tree: out[1]! };
  }

  async plan(runId: string, sessionIds?: string[]): Promise<MergePlan> {
    const run = this.d.registry.runInfo(runId);
    const all = this.d.registry.listSessions(runId);
    const unknown = (sessionIds ?? []).filter((id) => !all.some((s) => s.id === id));
    if (unknown.length)
      throw new EngineError('not_found', `no session ${unknown.join(', ')} in run ${run.name} — list its sessions (flotilla runs)`, {
        field: 'sessionIds',
      });
    // A cleaned session (its worktree removed) has nothing left to merge.
    const chosen = (sessionIds ? all.filter((s) => sessionIds.includes(s.id)) : all.filter((s) => s.status === 'done')).filter(
      (s) => sessionIds !== undefined || existsSync(s.worktree),
    );
    if (chosen.length === 0)
      throw new EngineError(
        'nothing_to_plan',
        `run ${run.name} has no done session to merge yet — wait for one to finish, or name the sessions to plan`,
      );
    const base = await this.target(runId);
    const facts = await planFacts(
      run.repo,
      base,
      chosen.map((s) => ({ sessionId: s.id, slot: s.slot, worktree: s.worktree })),
    );
    return planOrder(facts);
  }

  /** Every clean, unblocked step in plan order; a refusal (a dirty checkout) stops there, nothing half done. */
  async mergeAllClean(runId: string): Promise<MergeAllResult> {
    const plan = await this.plan(runId);
    const merged: MergeAllResult['merged'] = [];
    const skipped: MergeAllResult['skipped'] = [];
    const slotOf = (id: string) => plan.steps.find((s) => s.sessionId === id)?.slot ?? '?';
    let stop: string | null = null;
    for (const step of plan.steps) {
      if (stop) {
        skipped.push({ sessionId: step.sessionId, reason: stop });
        continue;
      }
      if (!step.clean) {
        skipped.push({ sessionId: step.sessionId, reason: 'does not merge cleanly into the base — rebase it first' });
        continue;
      }
      if (step.blockedBy.length) {
        skipped.push({
          sessionId: step.sessionId,
          reason: `conflicts with session ${step.blockedBy.map(slotOf).join(', ')}, merged before it`,
        });
        continue;
      }
      try {
        const r = await this.d.review.merge({ sessionId: step.sessionId });
        merged.push({ sessionId: step.sessionId, commit: r.commit });
      } catch (err) {
        const why = (err as Error).message;
        skipped.push({ sessionId: step.sessionId, reason: why });
        // A dirty checkout refuses every merge alike: stop rather than repeat it.
        if (err instanceof MergeRefused && err.reason === 'dirty') stop = why;
      }
    }
    const rest = plan.steps.map((s) => s.sessionId).filter((id) => !merged.some((m) => m.sessionId === id));
    const after = rest.length ? await this.plan(runId, rest) : { steps: [], merged: [] };
    const inBase = [...new Set([...plan.merged, ...merged.map((m) => m.sessionId), ...after.merged])];
    return { merged, skipped, plan: { steps: after.steps, merged: inBase } };
  }

  /** Per session: merged into the base, pushed (a remote-tracking ref at its branch's commit), its plan position. */
  async states(runId: string): Promise<Map<string, { merged: boolean; pushed: boolean; planPosition: number | null }>> {
    const out = new Map<string, { merged: boolean; pushed: boolean; planPosition: number | null }>();
    const run = this.d.registry.runInfo(runId);
    if (run.workspace !== 'worktree') return out;
    let plan: MergePlan = { steps: [], merged: [] };
    try {
      plan = await this.plan(runId);
    } catch (err) {
      // No done session, or a base that is not a branch: nothing is planned.
      if (!(err instanceof EngineError)) throw err;
    }
    const refs = (await runGit(run.repo, ['for-each-ref', '--format=%(refname) %(objectname)', 'refs/heads/flotilla/', 'refs/remotes/']))
      .stdout;
    const at = new Map(
      refs
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(' ') as [string, string]),
    );
    for (const s of this.d.registry.listSessions(runId)) {
      const head = s.branch ? at.get(`refs/heads/${s.branch}`) : undefined;
      const pushed =
        !!head && [...at].some(([ref, sha]) => ref.startsWith('refs/remotes/') && ref.endsWith(`/${s.branch}`) && sha === head);
      const i = plan.steps.findIndex((x) => x.sessionId === s.id);
      out.set(s.id, { merged: plan.merged.includes(s.id), pushed, planPosition: i >= 0 ? i + 1 : null });
    }
    return out;
  }

  /** gh pr create after a push; without gh (or its login) the error says what is missing. */
  async openPullRequest(sessionId: string, remote = 'origin', env: NodeJS.ProcessEnv = process.env): Promise<{ url: string }> {
    const gh = findOnPath('gh', env.PATH);
    if (!gh)
      throw new EngineError(
        'gh_missing',
        'the GitHub CLI (gh) is not installed — install it (https://cli.github.com), run gh auth login, and try again; or push the branch and open the pull request on your forge',
      );
    const info = this.d.registry.sessionInfo(sessionId);
    const run = this.d.registry.runInfo(info.runId);
    const pushed = await this.push(sessionId, remote);
    const base = await this.target(info.runId);
    const files = await this.d.review.changedPaths(info.runId, sessionId);
    const title = pushed.message.split('\n')[0]!;
    const body = `${info.task ?? ''}\n\nChanged files:\n${files.map((f) => `- \`${f}\``).join('\n') || '- (none)'}\n\nFrom Flotilla run ${run.name}, session ${info.slot}.`;
    const r = await new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
      const child = spawn(gh, ['pr', 'create', '--head', pushed.branch, '--base', base.branch, '--title', title, '--body', body], {
        cwd: run.repo,
        env: { ...env, GH_PROMPT_DISABLED: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (err += d));
      child.on('error', (e) => resolve({ code: -1, out, err: e.message }));
      child.on('close', (code) => resolve({ code, out, err }));
    });
    if (r.code !== 0) {
      const why = r.err.trim() || r.out.trim();
      if (/auth login|not logged|authentication/i.test(why))
        throw new EngineError('gh_auth', `gh is not logged in: ${why.split('\n')[0]} — run gh auth login, then try again`);
      throw new EngineError('gh_failed', `gh pr create failed: ${why}`);
    }
    const url = /https?:\/\/\S+/.exec(r.out)?.[0];
    if (!url) throw new EngineError('gh_failed', `gh pr create printed no URL: ${r.out.trim()}`);
    return { url };
  }

  async push(sessionId: string, remote = 'origin'): Promise<PushResult> {
    const info = this.d.registry.sessionInfo(sessionId);
    const run = this.d.registry.runInfo(info.runId);
    if (run.workspace !== 'worktree' || !info.branch)
      throw new EngineError('shared', `session ${info.slot} works in your checkout: push from there`);
    const message = draftMessage(info, run.name);
    const { commit } = await commitSession(info.worktree, message);
    const pushed = await pushBranch(run.repo, info.branch, remote);
    return { remote, branch: info.branch, commit: commit ?? pushed, message };
  }
}
