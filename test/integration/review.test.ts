// Changes, conflicts and review through the engine: real agents writing in real worktrees of a real repository.
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ConflictWarning, EngineEvent } from '../../electron/shared/contract.ts';
import { useEngines, type Upstream } from '../fixtures/engine.ts';
import { git, makeRepo } from '../fixtures/repo.ts';

const KEY = 'sk-review';
const env = useEngines({ key: KEY, keyEnv: 'REVIEW_KEY' });
const engine = () => env.engine();
let upstream: Upstream;
beforeAll(() => {
  upstream = env.upstream();
});

const BASE_FILES = { 'README.md': '# demo\n', 'src/app.ts': 'line 1\nline 2\nline 3\nline 4\nline 5\nline 6\n' };

/** A run of shell agents; each slot's task is a JS snippet run with node in its worktree. */
function nodeRun(repo: string, snippets: string[], extra = ''): string {
  return `
name: review
repo: ${repo}
agent: { preset: shell, command: node, args: ["-e", "eval(process.argv[1])", "{{task}}"] }
provider: { preset: custom, baseUrl: "http://127.0.0.1:9" }
tasks: ${JSON.stringify(snippets)}
${extra}`;
}

const editLine = (n: number, text: string) =>
  `const fs=require('fs');const p='src/app.ts';const l=fs.readFileSync(p,'utf8').split('\\n');l[${n - 1}]=${JSON.stringify(text)};fs.writeFileSync(p,l.join('\\n'))`;

describe('changes, conflicts and review', () => {
  it('tells a clean overlap from a real conflict, and disjoint changes from both', async () => {
    const repo = makeRepo(BASE_FILES);
    const e = await engine();
    const { run, sessions } = await e.call('launch', {
      templateText: nodeRun(repo, [
        editLine(1, 'one from slot 1'), // overlaps slot 2 cleanly (different lines), conflicts with slot 3 (same line)
        editLine(6, 'six from slot 2'),
        editLine(1, 'one from slot 3'),
        "require('fs').writeFileSync('notes.md', 'slot 4 alone\\n')", // disjoint
      ]),
    });
    await e.waitForRun(run.id);
    const report = await e.call('report', { runId: run.id });
    expect(report.sessions.map((s) => s.changedFiles)).toEqual([['src/app.ts'], ['src/app.ts'], ['src/app.ts'], ['notes.md']]);
    const [s1, s2, s3, s4] = sessions.map((s) => s.id);
    const byKind = (k: string) => report.conflicts.filter((c) => c.kind === k);
    expect(byKind('conflict')).toEqual([{ path: 'src/app.ts', sessions: [s1, s3].sort(), kind: 'conflict' }]);
    // Slot 2 overlaps the others on the file but would merge cleanly with either.
    expect(byKind('overlap').map((c) => c.sessions.includes(s2!))).toEqual([true]);
    expect(report.conflicts.some((c) => c.sessions.includes(s4!))).toBe(false);

    const changes = await e.call('changes', { sessionId: s1! });
    expect(changes).toEqual([{ path: 'src/app.ts', oldPath: null, status: 'modified', added: 1, removed: 1, binary: false }]);
    const diff = await e.call('diff', { sessionId: s1!, path: 'src/app.ts' });
    expect(diff.diff).toContain('-line 1');
    expect(diff.diff).toContain('+one from slot 1');
    const across = await e.call('pathAcross', { runId: run.id, path: 'src/app.ts' });
    expect(across.map((a) => a.slot)).toEqual([1, 2, 3]);
    expect(across[2]!.diff.diff).toContain('+one from slot 3');
  });

  it('merges a session into the base branch, refuses a conflicting one and a dirty checkout, and leaves the user files alone', async () => {
    const repo = makeRepo(BASE_FILES);
    const e = await engine();
    const all: EngineEvent[] = [];
    e.on('event', (ev: EngineEvent) => all.push(ev));
    const { run, sessions } = await e.call('launch', {
      templateText: nodeRun(repo, [editLine(2, 'two merged'), editLine(2, 'two rival')]),
    });
    await e.waitForRun(run.id);
    const [s1, s2] = sessions.map((s) => s.id);
    const headBefore = git(repo, 'rev-parse', 'HEAD');

    const merged = await e.call('merge', { sessionId: s1!, message: 'slot 1: line two' });
    expect(merged.target).toBe('main');
    expect(git(repo, 'rev-parse', 'HEAD')).toBe(merged.commit);
    expect(git(repo, 'rev-parse', 'HEAD~1')).toBe(headBefore);
    expect(git(repo, 'log', '-1', '--format=%s')).toBe('slot 1: line two');
    expect(readFileSync(join(repo, 'src/app.ts'), 'utf8')).toContain('two merged');
    expect(git(repo, 'status', '--porcelain')).toBe('');

    // The other session now conflicts with the new base: drift, and the merge is refused with its reason.
    const t0 = Date.now();
    let drift: ConflictWarning | undefined;
    while (!drift && Date.now() - t0 < 15_000) {
      drift = e.review.conflicts(run.id).find((w) => w.kind === 'drift' && w.sessions.includes(s2!));
      if (!drift) await new Promise((r) => setTimeout(r, 100));
    }
    expect(drift?.path).toBe('src/app.ts');
    const refused = await e.call('merge', { sessionId: s2! }).catch((err) => err);
    expect(refused.code).toBe('merge_refused_conflict');
    expect(refused.message).toMatch(/src\/app\.ts/);
    expect(git(repo, 'rev-parse', 'HEAD')).toBe(merged.commit);
    expect(git(repo, 'status', '--porcelain')).toBe('');

    // A dirty checkout refuses any merge and keeps the user's edit.
    const { run: run2, sessions: more } = await e.call('launch', {
      templateText: nodeRun(repo, ["require('fs').writeFileSync('extra.txt', 'x\\n')"]),
    });
    await e.waitForRun(run2.id);
    writeFileSync(join(repo, 'README.md'), '# my uncommitted edit\n');
    const dirty = await e.call('merge', { sessionId: more[0]!.id }).catch((err) => err);
    expect(dirty.code).toBe('merge_refused_dirty');
    expect(readFileSync(join(repo, 'README.md'), 'utf8')).toBe('# my uncommitted edit\n');
    expect(existsSync(join(repo, 'extra.txt'))).toBe(false);
    expect(git(repo, 'rev-parse', 'HEAD')).toBe(merged.commit);

    const patch = await e.call('exportPatch', { sessionId: s2! });
    expect(patch.patch).toContain('+two rival');
    await expect(e.call('discard', { sessionId: s2!, confirm: false })).rejects.toThrow(/confirm/);
    await e.call('discard', { sessionId: s2!, confirm: true });
    expect(existsSync(sessions[1]!.worktree)).toBe(false);
    expect(git(repo, 'branch', '--list', sessions[1]!.branch!)).toBe('');
  });

  it("warns of an intent from Claude Code's Write tool call before the file exists, then of the real conflict", async () => {
    const repo = makeRepo(BASE_FILES);
    const e = await engine();
    const warnings: { kinds: string[]; fileOfB: boolean }[] = [];
    let worktreeB = '';
    e.on('event', (ev: EngineEvent) => {
      if (ev.event === 'conflicts' && worktreeB)
        warnings.push({ kinds: ev.warnings.map((w) => w.kind), fileOfB: existsSync(join(worktreeB, 'shared.txt')) });
    });
    const { run, sessions } = await e.call('launch', {
      templateText: `
name: intents
repo: ${repo}
agent: { preset: claude-code-batch }
provider: { preset: custom, baseUrl: "${upstream.url}", apiKeyEnv: REVIEW_KEY }
model: kimi-k2.6
tasks: ["WRITE shared.txt from A", "WAIT 4000\\nWRITE shared.txt from B"]
`,
    });
    worktreeB = sessions[1]!.worktree;
    await e.waitForRun(run.id);
    expect(e.registry.listSessions(run.id).map((s) => s.status)).toEqual(['done', 'done']);
    // First an intent (B about to write a file A already has) while B's file did not exist yet, then the conflict.
    const firstIntent = warnings.find((w) => w.kinds.includes('intent'));
    expect(firstIntent).toEqual({ kinds: expect.arrayContaining(['intent']), fileOfB: false });
    const report = await e.call('report', { runId: run.id });
    expect(report.conflicts).toEqual([{ path: 'shared.txt', sessions: sessions.map((s) => s.id).sort(), kind: 'conflict' }]);
  });

  it('attributes changes in a shared workspace by tool calls, and marks the rest unattributed', async () => {
    const repo = makeRepo(BASE_FILES);
    const e = await engine();
    const { run, sessions } = await e.call('launch', {
      templateText: `
name: shared
repo: ${repo}
workspace: shared
agent: { preset: claude-code-batch }
provider: { preset: custom, baseUrl: "${upstream.url}", apiKeyEnv: REVIEW_KEY }
model: kimi-k2.6
tasks: ["WRITE a.txt from one", "WRITE b.txt from two"]
`,
    });
    writeFileSync(join(repo, 'mine.txt'), 'written by the user\n');
    await e.waitForRun(run.id);
    expect(readFileSync(join(repo, 'a.txt'), 'utf8')).toBe('from one');
    const files = await e.call('changes', { sessionId: sessions[0]!.id });
    const by = Object.fromEntries(files.map((f) => [f.path, f.sessions]));
    expect(by['a.txt']).toEqual([sessions[0]!.id]);
    expect(by['b.txt']).toEqual([sessions[1]!.id]);
    expect(by['mine.txt']).toEqual([]);
    const report = await e.call('report', { runId: run.id });
    expect(report.sessions.map((s) => s.changedFiles)).toEqual([['a.txt'], ['b.txt']]);
    expect(report.conflicts).toEqual([]);
  });

  it('pushes changes and conflicts events in a shared workspace too, as its sessions edit the checkout', async () => {
    const repo = makeRepo(BASE_FILES);
    const e = await engine();
    const events: EngineEvent[] = [];
    e.on('event', (ev: EngineEvent) => {
      if (ev.event === 'changes' || ev.event === 'conflicts') events.push(ev);
    });
    const { run, sessions } = await e.call('launch', {
      templateText: `
name: shared-events
repo: ${repo}
workspace: shared
agent: { preset: claude-code-batch }
provider: { preset: custom, baseUrl: "${upstream.url}", apiKeyEnv: REVIEW_KEY }
model: kimi-k2.6
tasks: ["WRITE same.txt from one", "WAIT 1500\\nWRITE same.txt from two"]
`,
    });
    await e.waitForRun(run.id);
    const [one, two] = sessions.map((s) => s.id) as [string, string];
    // Every session hears the checkout's changes, each file attributed to the sessions that wrote it.
    for (const id of [one, two]) {
      const last = events.filter((ev) => ev.event === 'changes' && ev.sessionId === id).at(-1);
      expect(last && last.event === 'changes' && last.files.find((f) => f.path === 'same.txt')?.sessions).toEqual([one, two].sort());
    }
    // Two sessions' tool calls on one file of the one checkout: an overlap, pushed as it appears.
    const conflicts = events.filter((ev) => ev.event === 'conflicts' && ev.runId === run.id).at(-1);
    expect(conflicts && conflicts.event === 'conflicts' && conflicts.warnings.map((w) => [w.kind, w.path, w.sessions])).toEqual([
      ['overlap', 'same.txt', [one, two].sort()],
    ]);
  });
});
