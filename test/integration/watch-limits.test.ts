// A real ENOSPC: the engine runs in a user namespace of its own whose inotify watch limit is a dozen
// (/proc/sys/user/max_inotify_watches is per user namespace), so the rest of the machine is untouched. Its session's
// worktree has more directories than that: the engine says so on the session (event and command, with what to do)
// and keeps seeing edits by rescanning.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { git, makeRepo, tempDir } from '../fixtures/repo.ts';
import { startEngineHost } from '../fixtures/engine-host.ts';
import { waitFor } from '../fixtures/wait.ts';

const root = resolve(import.meta.dirname, '../..');
const LIMIT = 12;
const WRAP = ['unshare', '-U', '-r', 'sh', '-c', `echo ${LIMIT} > /proc/sys/user/max_inotify_watches && exec "$0" "$@"`];
const canUnshare = spawnSync(WRAP[0]!, [...WRAP.slice(1), 'true'], { encoding: 'utf8' });

describe.skipIf(process.platform !== 'linux')('watch limits', () => {
  it('a worktree past the inotify limit: the session says why and what to do, and edits are still seen', async () => {
    // Where user namespaces are off (some hardened kernels) this cannot run: say so instead of passing.
    expect(canUnshare.status, `unshare -U -r is not allowed here (${canUnshare.stderr.trim()}): this test needs user namespaces`).toBe(0);
    const repo = makeRepo();
    for (let i = 0; i < 3 * LIMIT; i++) {
      mkdirSync(join(repo, `dir${i}`));
      writeFileSync(join(repo, `dir${i}`, 'f.txt'), `${i}\n`);
    }
    git(repo, 'add', '.');
    git(repo, 'commit', '-qm', 'many dirs');
    const host = await startEngineHost(resolve(root, 'dist/electron/engine-host.mjs'), {
      env: { ...process.env, FLOTILLA_HOME: tempDir('flotilla-watch-') },
      wrap: WRAP,
    });
    const api = async (cmd: string, body: unknown) => {
      const r = await fetch(`${host.ready.origin}/api/${cmd}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${host.ready.token}` },
        body: JSON.stringify(body),
      });
      const j = (await r.json()) as { ok: boolean; data: unknown; error?: { message: string } };
      if (!j.ok) throw new Error(`${cmd}: ${j.error?.message}`);
      return j.data as never;
    };
    try {
      const launched: { run: { id: string }; sessions: { id: string; worktree: string }[] } = await api('launch', {
        templateText: `name: watch-limits\nrepo: ${repo}\nagent: { preset: shell, command: node, args: ["-e", "setInterval(() => {}, 1000)"] }\nprovider: { preset: custom, baseUrl: "http://127.0.0.1:9" }\n`,
      });
      const runId = launched.run.id;
      const [s] = launched.sessions;
      const failures = await waitFor(async () => {
        const list: { sessionId: string; code: string; message: string }[] = await api('watchFailures', { runId });
        return list.length ? list : null;
      }, 'the watch failure on the session');
      expect(failures).toEqual([{ sessionId: s!.id, code: 'ENOSPC', message: expect.stringContaining('fs.inotify.max_user_watches') }]);
      expect(failures[0]!.message).toMatch(/no inotify watches left.*rescanning every 5 s/);
      // An edit in a directory that has no watch is still seen (the periodic rescan).
      writeFileSync(join(s!.worktree, `dir${3 * LIMIT - 1}`, 'new.txt'), 'late\n');
      await waitFor(async () => {
        const files: { path: string }[] = await api('changes', { sessionId: s!.id });
        return files.some((f) => f.path === `dir${3 * LIMIT - 1}/new.txt`);
      }, 'the edit in an unwatched directory');
    } finally {
      await host.stop();
    }
  });
});
