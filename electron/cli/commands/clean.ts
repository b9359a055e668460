import { existsSync } from 'node:fs';
import type { CleanResult, SessionInfo } from '../../shared/contract.ts';
import { DATA_DIR, defineCommand, fail } from '../command.ts';

/** A yes/no question on the terminal (default no). */
async function confirm(question: string): Promise<boolean> {
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

/** Worktrees of these sessions that still exist, and which of them hold uncommitted work (git status). */
async function worktreeState(sessions: SessionInfo[]): Promise<{ present: SessionInfo[]; dirty: SessionInfo[] }> {
  const { runGit } = await import('../../engine/workspace/index.ts');
  const present = sessions.filter((s) => existsSync(s.worktree));
  const dirty: SessionInfo[] = [];
  for (const s of present) {
    const st = await runGit(s.worktree, ['status', '--porcelain', '--untracked-files=normal'], { okExits: [0, 128] }).catch(() => null);
    if (st && st.code === 0 && st.stdout.trim()) dirty.push(s);
  }
  return { present, dirty };
}

export const clean = defineCommand({
  name: 'clean',
  args: '<run-id>',
  about: "Remove a run's worktrees and branches. Asks first when a worktree holds uncommitted work (refused without a terminal).",
  options: {
    'dry-run': { type: 'boolean', default: false, help: 'list what would be removed, and which worktrees hold uncommitted work' },
    yes: { type: 'boolean', default: false, help: 'do not ask' },
    'data-dir': DATA_DIR,
  },
  example: 'flotilla clean 7f3c… --dry-run',
  async run(values, positionals) {
    const runId = positionals[0];
    if (!runId) fail('clean needs a run id (see: flotilla runs)');
    const { dataDirOf, withEngine } = await import('../engine-access.ts');
    const dataDir = await dataDirOf(values);
    await withEngine(dataDir, async (engine) => {
      const run = (await engine.call('listRuns', {})).find((r) => r.id === runId);
      if (!run) fail(`no run with id ${runId} (see: flotilla runs)`, 1);
      const sessions = await engine.call('listSessions', { runId });
      const { present, dirty } = run.workspace === 'worktree' ? await worktreeState(sessions) : { present: [], dirty: [] };
      if (values['dry-run']) {
        process.stdout.write(
          run.workspace !== 'worktree'
            ? `run ${run.name} works in a shared checkout: nothing to remove\n`
            : `would remove ${present.length} worktree(s) and the run's branches (flotilla/${run.slug}/*):\n` +
                present.map((s) => `  slot ${s.slot}  ${s.worktree}${dirty.includes(s) ? '  (uncommitted work)' : ''}\n`).join(''),
        );
        return;
      }
      if (dirty.length && !values.yes) {
        const list = dirty.map((s) => `slot ${s.slot}`).join(', ');
        if (!process.stdin.isTTY)
          fail(
            `${dirty.length} worktree(s) hold uncommitted work (${list}) — pass --yes to remove them anyway, or --dry-run to see them`,
            1,
          );
        if (!(await confirm(`${dirty.length} worktree(s) hold uncommitted work (${list}). Remove them with the rest?`)))
          fail('nothing removed', 1);
      }
      const r: CleanResult = await engine.call('cleanRun', { runId });
      process.stdout.write(
        `removed ${r.removedWorktrees} worktree(s) and ${r.removedBranches} branch(es)${r.removedContainers ? ` and ${r.removedContainers} container(s)` : ''}\n`,
      );
    });
  },
});
