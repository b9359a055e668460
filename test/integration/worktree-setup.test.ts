// Worktree setup with real git and real sessions: `.worktreeinclude` copies an untracked (gitignored) .env into every
// worktree, `setup:` runs before the agent (the agent sees what it made; its output is in the tile), and a failing
// setup in one slot ends that session "setup failed" while the others run.
import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { git, makeRepo } from '../fixtures/repo.ts';
import { useEngines } from '../fixtures/engine.ts';
import type { EngineEvent } from '../../electron/shared/contract.ts';

const { engine: newEngine } = useEngines({ key: 'unused', keyEnv: 'UNUSED_KEY', upstream: false });

describe('worktree setup', () => {
  it('copies .worktreeinclude files, runs setup before the agent, and a failing setup fails only its slot', async () => {
    const repo = makeRepo({ '.gitignore': '.env\nlocal/\nnode_modules/\n', '.worktreeinclude': '.env\nlocal/\n', 'README.md': '# r\n' });
    writeFileSync(join(repo, '.env'), 'SECRET_SETTING=42\n');
    mkdirSync(join(repo, 'local'));
    writeFileSync(join(repo, 'local', 'config.json'), '{"dev":true}\n');
    mkdirSync(join(repo, 'node_modules'));
    writeFileSync(join(repo, 'node_modules', 'big.js'), 'not included\n');
    expect(git(repo, 'status', '--porcelain'), 'the included files are ignored, not tracked').toBe('');
    // The repo's post-checkout hook runs in each new worktree, as git worktree add would run it.
    writeFileSync(join(repo, '.git', 'hooks', 'post-checkout'), '#!/bin/sh\necho "$1 $2 $3" > hooked.txt\n', { mode: 0o755 });
    const engine = await newEngine();
    // Slot 2's setup fails; slots 1 and 3 run the agent, which reads what setup made.
    const setup = ['echo made by setup > setup-out.txt', '[ "$(basename "$PWD")" != 2 ] || exit 7'];
    const agent =
      "const fs = require('fs'); console.log('agent sees: ' + fs.readFileSync('setup-out.txt', 'utf8').trim() + ' / ' + fs.readFileSync('.env', 'utf8').trim())";
    const { run, sessions } = await engine.call('launch', {
      templateText: `name: setup
repo: ${repo}
count: 3
setup: ${JSON.stringify(setup)}
agent: { preset: shell, command: node, args: ["-e", ${JSON.stringify(agent)}] }
provider: { preset: custom, baseUrl: "http://127.0.0.1:9" }
`,
    });
    await engine.waitForRun(run.id);
    const ended = engine.registry.listSessions(run.id);
    expect(ended.map((s) => s.status)).toEqual(['done', 'failed', 'done']);
    expect(ended[1]!.statusDetail).toMatch(/^setup failed — its output is in the tile/);
    for (const s of sessions) {
      expect(readFileSync(join(s.worktree, '.env'), 'utf8')).toBe('SECRET_SETTING=42\n');
      expect(readFileSync(join(s.worktree, 'local', 'config.json'), 'utf8')).toBe('{"dev":true}\n');
      expect(existsSync(join(s.worktree, 'node_modules')), 'not in .worktreeinclude').toBe(false);
      expect(readFileSync(join(s.worktree, 'hooked.txt'), 'utf8')).toBe(`${'0'.repeat(40)} ${git(repo, 'rev-parse', 'HEAD')} 1\n`);
    }
    const screen = async (id: string) => (await engine.call('snapshot', { sessionId: id })).data;
    expect(await screen(sessions[0]!.id)).toMatch(
      /setup 1\/2: echo made by setup[\s\S]*setup done[\s\S]*agent sees: made by setup \/ SECRET_SETTING=42/,
    );
    expect(await screen(sessions[1]!.id)).toMatch(/setup failed: .* exited 7 — the agent was not started/);
    expect(await screen(sessions[1]!.id)).not.toContain('agent sees');
    // The included files are untracked in each worktree, never committed by the session.
    expect(git(sessions[0]!.worktree, 'status', '--porcelain', '--ignored')).toMatch(/!! \.env/);
  });

  it('a listed file the worktree would not ignore (its .gitignore is not committed) is not copied, and the launch says why', async () => {
    const repo = makeRepo({ '.worktreeinclude': '.env\n', 'README.md': '# r\n' });
    // Ignored in the checkout only, by a .gitignore that is not committed: a worktree would see .env as the agent's work.
    writeFileSync(join(repo, '.gitignore'), '.env\n');
    writeFileSync(join(repo, '.env'), 'SECRET=1\n');
    const engine = await newEngine();
    const said: string[] = [];
    engine.on('event', (e: EngineEvent) => {
      if (e.event === 'launchProgress') said.push(e.progress.message);
    });
    const { run, sessions } = await engine.call('launch', {
      templateText: `name: secrets\nrepo: ${repo}\nagent: { preset: shell, command: "true" }\nprovider: { preset: custom, baseUrl: "http://127.0.0.1:9" }\n`,
    });
    await engine.waitForRun(run.id);
    expect(existsSync(join(sessions[0]!.worktree, '.env'))).toBe(false);
    expect(said).toContain(
      "skipped .env: listed in .worktreeinclude but not ignored by the .gitignore at HEAD — in a worktree it would be part of the session's changes (committed, merged, pushed); commit a .gitignore that ignores it",
    );
    expect(git(sessions[0]!.worktree, 'status', '--porcelain')).toBe('');
  });
});
