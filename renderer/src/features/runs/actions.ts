// What the user can do to a session or a run, in one place: the tile menu, the command palette and the keys all call
// these. Each says what happened (or what went wrong and what to do) in the toast; anything that discards work asks.
import type { SessionInfo } from '../../../../electron/shared/contract.ts';
import { isFinalStatus } from '../../../../electron/shared/contract.ts';
import { review, runs, spend } from '../../api/index.ts';
import { ask, confirmAction } from '../../ui/Dialogs.tsx';
import { platform } from '../../platform/index.ts';
import { useStore } from '../../store/index.ts';
import { usd } from '../../ui/format.ts';

function say(text: string, kind: 'info' | 'error' = 'info'): void {
  useStore.getState().say(text, kind);
}

async function attempt(what: string, f: () => Promise<unknown>, done?: string): Promise<void> {
  try {
    await f();
    if (done) say(done);
  } catch (err) {
    say(`${what}: ${(err as Error).message}`, 'error');
  }
}

export const canResume = (s: SessionInfo) => s.agentSessionId !== null;

export const sessionActions = {
  /** Immediate: Restart or Resume brings it back. */
  stop: (s: SessionInfo) =>
    attempt(`Cannot stop session ${s.slot}`, () => runs.stop(s.id), `Stopped session ${s.slot} — Restart or Resume brings it back`),
  restart: (s: SessionInfo) => attempt(`Cannot restart session ${s.slot}`, () => runs.restart(s.id), `Restarted session ${s.slot}`),
  resume: (s: SessionInfo) =>
    canResume(s)
      ? attempt(
          `Cannot resume session ${s.slot}`,
          () => runs.resume(s.id),
          `Resumed session ${s.slot}: the agent carries on its conversation`,
        )
      : Promise.resolve(
          say(`Session ${s.slot} cannot be resumed: only Claude Code sessions carry their conversation on — Restart it instead`, 'error'),
        ),
  async raiseBudget(s: SessionInfo): Promise<void> {
    const sp = useStore.getState().spend.get(s.id);
    const spent = sp?.usd ?? 0;
    const suggested = Math.ceil(Math.max(spent * 2, spent + 1) * 100) / 100;
    const a = await ask({
      title: `Raise the budget of session ${s.slot}`,
      body: `It has spent ${usd(spent)}. Requests held over budget go on as soon as the new budget covers them.`,
      confirm: 'Raise budget',
      input: { label: 'New budget (USD)', value: suggested.toFixed(2), type: 'number', min: 0.01, step: 0.01 },
    });
    if (typeof a !== 'string') return;
    const n = Number(a);
    if (!Number.isFinite(n) || n <= 0) return say(`'${a}' is not a budget — type a positive number of dollars, e.g. 2.50`, 'error');
    await attempt(`Cannot raise the budget of session ${s.slot}`, () => spend.raiseBudget(s.id, n), `Session ${s.slot}: budget ${usd(n)}`);
  },
  openEditor: (s: SessionInfo) =>
    attempt('Cannot open the editor', async () => say(`Opened ${(await runs.openIn(s.id, 'editor')).command}`)),
  openTerminal: (s: SessionInfo) =>
    attempt('Cannot open a terminal', async () => say(`Opened ${(await runs.openIn(s.id, 'terminal')).command}`)),
  openFolder: (s: SessionInfo) =>
    attempt('Cannot open the folder', async () => {
      const r = await review.openFolder(s.id);
      if (!r.opened) say(`The worktree is ${r.path}`);
    }),
  copyPath: (s: SessionInfo) =>
    attempt('Cannot copy the path', async () => {
      await navigator.clipboard.writeText(s.worktree);
      say(`Copied ${s.worktree}`);
    }),
  review: (s: SessionInfo) => {
    useStore.getState().setReviewPick(s.id);
    useStore.getState().showPanel('review');
  },
  async discard(s: SessionInfo): Promise<void> {
    const ok = await confirmAction({
      title: `Discard session ${s.slot}'s work?`,
      body: `Its agent stops, and its worktree ${s.worktree} and branch ${s.branch ?? ''} are removed. This cannot be undone.`,
      confirm: 'Discard',
      danger: true,
    });
    if (ok) await attempt(`Cannot discard session ${s.slot}`, () => review.discard(s.id), `Discarded session ${s.slot}`);
  },
};

export const runActions = {
  async stop(runId: string): Promise<void> {
    const st = useStore.getState();
    const live = [...st.sessions.values()].filter((s) => s.runId === runId && !isFinalStatus(s.status));
    const ok = await confirmAction({
      title: `Stop run ${st.runs.get(runId)?.name ?? runId}?`,
      body: `${live.length} live session(s) stop now. Their worktrees stay; Restart or Resume brings each back.`,
      confirm: 'Stop run',
      danger: true,
    });
    if (ok) await attempt('Cannot stop the run', () => runs.stopRun(runId), 'Stopped the run');
  },
  async clean(runId: string): Promise<void> {
    const st = useStore.getState();
    const list = [...st.sessions.values()].filter((s) => s.runId === runId);
    const ok = await confirmAction({
      title: `Clean run ${st.runs.get(runId)?.name ?? runId}?`,
      body: `Removes ${list.length} worktree(s) and their branches (flotilla/…), uncommitted work included:\n${list.map((s) => `  ${s.slot}: ${s.worktree}`).join('\n')}`,
      confirm: 'Remove worktrees',
      danger: true,
    });
    if (ok)
      await attempt('Cannot clean the run', async () => {
        const r = await runs.clean(runId);
        say(`Removed ${r.removedWorktrees} worktree(s) and ${r.removedBranches} branch(es)`);
      });
  },
};

export async function openLogs(): Promise<void> {
  await attempt('Cannot open the logs', async () => {
    const p = await runs.paths();
    if (platform.openFolder) await platform.openFolder(p.logs);
    else say(`The logs are in ${p.logs} — or run: flotilla logs --follow`);
  });
}
