// Flotilla's own files never become the agent's work, and secrets are flagged: real Claude Code sessions on a repo whose
// `.env` (SECRET=1) is copied into each worktree by `.worktreeinclude`. The agent that rewrites its copy sees the change
// in the review (copied, secret-looking) but the file is in no commit, patch, push or merge, and merging works with the
// user's own `.env` in the checkout. A new secret-looking file the agent writes is part of its work, flagged.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useEngines } from '../fixtures/engine.ts';
import { git, makeRepo, tempDir } from '../fixtures/repo.ts';

const KEY = 'sk-copied';
const env = useEngines({ key: KEY, keyEnv: 'COPIED_KEY' });

describe("copied files and secrets in a session's work", () => {
  it('a copied .env the agent changes is flagged and never committed, patched, pushed or merged', async () => {
    const repo = makeRepo({ '.gitignore': '.env\n', '.worktreeinclude': '.env\n', 'README.md': '# r\n' });
    writeFileSync(join(repo, '.env'), 'SECRET=1\n');
    const remote = tempDir('flotilla-remote-');
    git(remote, 'init', '-q', '--bare');
    git(repo, 'remote', 'add', 'origin', remote);
    const e = await env.engine();
    const tasks = [
      "BASH printf 'SECRET=2\\n' > .env\nWRITE app.txt one\nSAY done",
      'WRITE deploy.pem not-a-real-key\nWRITE other.txt two\nSAY done',
    ];
    const { run } = await e.call('launch', {
      templateText: `
name: copied
repo: ${repo}
agent: { preset: claude-code-batch }
provider: { preset: custom, baseUrl: "${env.upstream().anthropicBaseUrl}", apiKeyEnv: COPIED_KEY }
model: kimi-k2.6
tasks: ${JSON.stringify(tasks)}
`,
    });
    await e.waitForRun(run.id);
    const [s1, s2] = e.registry.listSessions(run.id);
    expect([s1!.status, s2!.status]).toEqual(['done', 'done']);
    expect(readFileSync(join(s1!.worktree, '.env'), 'utf8')).toBe('SECRET=2\n');

    // The review: the agent's change to its copy shows, as a copy and a secret; the new key file is its work, flagged.
    const c1 = await e.call('changes', { sessionId: s1!.id });
    expect(c1.map((f) => [f.path, f.status, f.copied ?? false, f.secret ?? false])).toEqual([
      ['.env', 'modified', true, true],
      ['app.txt', 'untracked', false, false],
    ]);
    const c2 = await e.call('changes', { sessionId: s2!.id });
    expect(c2.map((f) => [f.path, f.status, f.copied ?? false, f.secret ?? false])).toEqual([
      ['deploy.pem', 'untracked', false, true],
      ['other.txt', 'untracked', false, false],
    ]);
    // Both sessions changed their own copy of nothing shared: no warning names .env.
    expect(JSON.stringify(await e.call('conflicts', { runId: run.id }))).not.toContain('.env');

    // Commit, patch, push: the copy is in none of them.
    const { commit } = await e.call('commit', { sessionId: s1!.id, message: 'app' });
    expect(commit).toMatch(/^[0-9a-f]{40}$/);
    expect(git(s1!.worktree, 'show', '--name-only', '--format=', commit!).split('\n').filter(Boolean)).toEqual(['app.txt']);
    const { patch } = await e.call('exportPatch', { sessionId: s1!.id });
    expect(patch).toContain('app.txt');
    expect(patch).not.toMatch(/\.env|SECRET/);
    const pushed = await e.call('push', { sessionId: s1!.id, remote: 'origin' });
    expect(git(remote, 'ls-tree', '-r', '--name-only', pushed.branch).split('\n').filter(Boolean).sort()).toEqual([
      '.gitignore',
      '.worktreeinclude',
      'README.md',
      'app.txt',
    ]);

    // Merging into the checkout works with the user's own .env there, and leaves it alone.
    const merged = await e.call('merge', { sessionId: s1!.id });
    expect(merged.files).toBe(1);
    expect(readFileSync(join(repo, '.env'), 'utf8')).toBe('SECRET=1\n');
    expect(git(repo, 'ls-files').split('\n')).not.toContain('.env');
  }, 240_000);
});
