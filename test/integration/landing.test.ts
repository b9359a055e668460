// From ten diffs to one branch, with real git and real sessions: the merge plan orders the sessions (conflict-free
// first, the one that would conflict flagged), "merge all clean" lands them without half merges, a session's branch is
// pushed to a local bare repository, and bad input is refused naming what is wrong, with nothing changed.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { git, makeRepo, tempDir } from '../fixtures/repo.ts';
import { useEngines } from '../fixtures/engine.ts';
import { planOrder, pairKey } from '../../electron/engine/review/index.ts';

const { engine: newEngine } = useEngines({ key: 'unused', keyEnv: 'UNUSED_KEY', upstream: false });

// Slot 1 and 2 write different first lines of a.txt; slot 3 changes b.txt.
const AGENT = [
  "const fs = require('fs'); const slot = process.argv[1];",
  "if (slot === '3') fs.writeFileSync('b.txt', 'b changed by 3\\n');",
  "else fs.writeFileSync('a.txt', 'a from ' + slot + '\\n' + fs.readFileSync('a.txt', 'utf8').split('\\n').slice(1).join('\\n'));",
].join(' ');

const template = (repo: string, count = 3) => `
name: landing
repo: ${repo}
count: ${count}
agent: { preset: shell, command: node, args: ["-e", ${JSON.stringify(AGENT)}, "{{index}}"] }
provider: { preset: custom, baseUrl: "http://127.0.0.1:9" }
tasks: ["Change line one of a.txt", "Change line one of a.txt, differently", "Update b.txt"]
`;

async function threeDone() {
  const repo = makeRepo({ 'a.txt': 'a\nsecond\n', 'b.txt': 'b\n' });
  const engine = await newEngine();
  const { run, sessions } = await engine.call('launch', { templateText: template(repo) });
  await engine.waitForRun(run.id);
  expect(engine.registry.listSessions(run.id).map((s) => s.status)).toEqual(['done', 'done', 'done']);
  const [s1, s2, s3] = sessions.map((s) => s.id) as [string, string, string];
  return { repo, engine, runId: run.id, s1, s2, s3 };
}

describe('merge plan', () => {
  it('orders the conflict-free first, flags the one that conflicts; merge all clean lands two; the third conflicts with the new base', async () => {
    const { repo, engine, runId, s1, s2, s3 } = await threeDone();
    const before = git(repo, 'rev-parse', 'main');
    const plan = await engine.call('mergePlan', { runId });
    expect(plan.steps.map((s) => s.slot)).toEqual([3, 1, 2]);
    expect(plan.steps[0]).toEqual({ sessionId: s3, slot: 3, clean: true, conflictsWith: [], blockedBy: [] });
    expect(plan.steps[1]).toEqual({ sessionId: s1, slot: 1, clean: true, conflictsWith: [s2], blockedBy: [] });
    expect(plan.steps[2]).toEqual({ sessionId: s2, slot: 2, clean: true, conflictsWith: [s1], blockedBy: [s1] });
    expect(git(repo, 'rev-parse', 'main'), 'planning changes nothing').toBe(before);

    const r = await engine.call('mergeAllClean', { runId });
    expect(r.merged.map((m) => m.sessionId)).toEqual([s3, s1]);
    expect(r.skipped).toEqual([{ sessionId: s2, reason: 'conflicts with session 1, merged before it' }]);
    expect(git(repo, 'show', 'main:a.txt')).toBe('a from 1\nsecond');
    expect(git(repo, 'show', 'main:b.txt')).toBe('b changed by 3');
    expect(git(repo, 'rev-list', '--count', `${before}..main`)).toBe('2');
    // The rest, checked against the new base: slot 2 no longer merges cleanly.
    expect(r.plan.steps).toEqual([{ sessionId: s2, slot: 2, clean: false, conflictsWith: [], blockedBy: [] }]);
    expect(r.plan.merged.sort()).toEqual([s1, s3].sort());
    // A plan asked again knows what the base already has.
    const again = await engine.call('mergePlan', { runId });
    expect(again.merged.sort()).toEqual([s1, s3].sort());
    expect(again.steps.map((s) => [s.slot, s.clean])).toEqual([[2, false]]);
    // The report (flotilla run --json) says it per session.
    const report = await engine.call('report', { runId });
    expect(report.sessions.map((s) => [s.slot, s.merged, s.planPosition, s.pushed])).toEqual([
      [1, true, null, false],
      [2, false, 1, false],
      [3, true, null, false],
    ]);
    const refused = await engine.call('mergeAllClean', { runId });
    expect(refused.merged).toEqual([]);
    expect(refused.skipped[0]!.reason).toMatch(/does not merge cleanly/);
    // Rebase onto the new base: a shell session has no agent to ask, so git rebases its worktree and stops on the
    // conflict, leaving it for the user (or an agent) to continue.
    expect(await engine.call('rebase', { sessionId: s1 })).toMatchObject({ mode: 'none' });
    const r2 = await engine.call('rebase', { sessionId: s2 });
    expect(r2).toMatchObject({
      mode: 'git',
      conflicts: ['a.txt'],
      message: expect.stringMatching(/stopped on conflicts in a\.txt — resolve them in .*git rebase --continue/),
    });
    const wt2 = engine.registry.sessionInfo(s2).worktree;
    expect(
      existsSync(
        git(wt2, 'rev-parse', '--git-path', 'rebase-merge').startsWith('/')
          ? git(wt2, 'rev-parse', '--git-path', 'rebase-merge')
          : join(wt2, git(wt2, 'rev-parse', '--git-path', 'rebase-merge')),
      ),
      'the rebase is left in progress',
    ).toBe(true);
    expect(git(repo, 'rev-list', '--count', `${before}..main`), 'main untouched by the rebase').toBe('2');
  });

  it('refuses bad input naming it, with nothing changed', async () => {
    const repo = makeRepo({ 'a.txt': 'a\n' });
    const engine = await newEngine();
    const failing = await engine.call('launch', {
      templateText: `name: nothing done\nrepo: ${repo}\nagent: { preset: shell, command: node, args: ["-e", "process.exit(2)"] }\nprovider: { preset: custom, baseUrl: "http://127.0.0.1:9" }\n`,
    });
    await engine.waitForRun(failing.run.id);
    await expect(engine.call('mergePlan', { runId: failing.run.id })).rejects.toMatchObject({
      code: 'nothing_to_plan',
      message: expect.stringMatching(/run nothing done has no done session/),
    });
    await expect(engine.call('mergePlan', { runId: failing.run.id, sessionIds: ['nope'] })).rejects.toMatchObject({
      code: 'not_found',
      message: expect.stringContaining('no session nope'),
    });
    await expect(engine.call('mergePlan', { runId: 'no-such-run' })).rejects.toMatchObject({ code: 'not_found' });
    await expect(engine.call('sendFeedback', { sessionId: failing.sessions[0]!.id, text: 'try again' })).rejects.toMatchObject({
      code: 'not_running',
      message: expect.stringMatching(/session 1 is failed, not running — restart it/),
    });
  });

  it('orders a plan by the rules alone (pure)', () => {
    const s = (id: string, slot: number) => ({ sessionId: id, slot });
    const plan = planOrder({
      sessions: [s('a', 1), s('b', 2), s('c', 3), s('d', 4)],
      cleanOnBase: new Map([
        ['a', true],
        ['b', true],
        ['c', false],
        ['d', true],
      ]),
      conflicts: new Set([pairKey('a', 'b')]),
      merged: new Set(['d']),
    });
    expect(plan).toEqual({
      steps: [
        { sessionId: 'a', slot: 1, clean: true, conflictsWith: ['b'], blockedBy: [] },
        { sessionId: 'b', slot: 2, clean: true, conflictsWith: ['a'], blockedBy: ['a'] },
        { sessionId: 'c', slot: 3, clean: false, conflictsWith: [], blockedBy: [] },
      ],
      merged: ['d'],
    });
  });
});

describe('push', () => {
  it("pushes a session's branch to a bare origin with the message drafted from its task; a missing remote is refused", async () => {
    const { repo, engine, s3 } = await threeDone();
    const bare = tempDir('flotilla-origin-');
    execFileSync('git', ['init', '-q', '--bare', bare]);
    git(repo, 'remote', 'add', 'origin', bare);
    const r = await engine.call('push', { sessionId: s3 });
    const branch = engine.registry.sessionInfo(s3).branch!;
    expect(r).toMatchObject({ remote: 'origin', branch });
    expect(r.message).toBe('Update b.txt\n\nFlotilla run landing, session 3.');
    expect(execFileSync('git', ['-C', bare, 'log', '-1', '--format=%B', branch], { encoding: 'utf8' }).trim()).toBe(r.message.trim());
    expect(execFileSync('git', ['-C', bare, 'show', `${branch}:b.txt`], { encoding: 'utf8' })).toBe('b changed by 3\n');
    expect((await engine.call('report', { runId: engine.registry.sessionInfo(s3).runId })).sessions.find((s) => s.id === s3)).toMatchObject(
      { pushed: true, planPosition: 1 },
    );
    const refs = execFileSync('git', ['-C', bare, 'for-each-ref', '--format=%(refname)'], { encoding: 'utf8' });
    await expect(engine.call('push', { sessionId: s3, remote: 'upstream' })).rejects.toMatchObject({
      code: 'no_remote',
      message: expect.stringMatching(/has no remote 'upstream' \(it has: origin\) — add it: git remote add upstream <url>/),
    });
    expect(execFileSync('git', ['-C', bare, 'for-each-ref', '--format=%(refname)'], { encoding: 'utf8' })).toBe(refs);
  });
});
