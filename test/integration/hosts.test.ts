// Hosts over the system's OpenSSH, against a throwaway sshd on loopback and throwaway users (test/fixtures/sshd.ts):
// `flotilla hosts add/remove`, the check through the login shell (platform, Node), and each bad input saying what to do.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../fixtures/repo.ts';
import { type TestSshd, cannotRunSshd, startSshd } from '../fixtures/sshd.ts';

const BIN = resolve(import.meta.dirname, '../../bin/flotilla.js');
let sshd: TestSshd;
beforeAll(async () => {
  if (!cannotRunSshd) sshd = await startSshd();
}, 30_000);
afterAll(async () => {
  await sshd?.stop();
});

function flotilla(dataDir: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args, '--data-dir', dataDir], {
    env: { ...process.env, FLOTILLA_SSH_CONFIG: sshd.config },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe.skipIf(cannotRunSshd !== null)(`hosts over SSH${cannotRunSshd ? ` (skipped: ${cannotRunSshd})` : ''}`, () => {
  it('adds a host that answers, lists it with its platform and Node, refuses the same name twice, removes it', async () => {
    const data = tempDir('flotilla-hosts-');
    const u = sshd.addUser();
    const added = flotilla(data, 'hosts', 'add', 'box', u.alias);
    expect(added.err).toBe('');
    expect(added.out).toMatch(new RegExp(`^added box \\(${u.alias}\\): Linux \\S+, Node v2\\d+\\.`));
    const list = flotilla(data, 'hosts', '--json');
    expect(JSON.parse(list.out)).toMatchObject([
      { name: 'box', destination: u.alias, state: 'ok', platform: expect.stringMatching(/^Linux /) },
    ]);
    // Connections are shared through sockets under the data dir.
    expect(existsSync(join(data, 'ssh'))).toBe(true);
    const again = flotilla(data, 'hosts', 'add', 'box', u.alias);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/a host named box is already added .* pick another name, or remove it first: flotilla hosts remove box/);
    expect(flotilla(data, 'hosts', 'remove', 'box').out).toBe(`removed box (${u.alias})\n`);
    expect(flotilla(data, 'hosts').out).toMatch(/^no hosts yet/);
  });

  it('bad input: a name, a destination, an unknown host, a refused key, a host without Node — each says what to do', async () => {
    const data = tempDir('flotilla-hosts-');
    expect(flotilla(data, 'hosts', 'add', 'Bad Name', 'x').err).toMatch(/'Bad Name' cannot name a host — use lower-case letters/);
    expect(flotilla(data, 'hosts', 'add', 'spaced', 'me@box name').err).toMatch(/is not an SSH destination — give user@host/);
    expect(flotilla(data, 'hosts', 'remove', 'nobody').err).toMatch(/no host named nobody — add it first: flotilla hosts add nobody/);

    const nowhere = flotilla(data, 'hosts', 'add', 'nowhere', 'ssh://someone@127.0.0.1:1');
    expect(nowhere.out).toMatch(
      /added nowhere .*, but it is not ready: cannot reach ssh:\/\/someone@127\.0\.0\.1:1 over SSH \(.*refused.*\) — check that `ssh/,
    );

    const locked = sshd.addUser({ authorized: false });
    const refused = flotilla(data, 'hosts', 'add', 'locked', locked.alias);
    expect(refused.out).toMatch(
      /but it is not ready: .* refused the key \(.*Permission denied.*\) — add yours there \(ssh-copy-id .*\).* never asks for a password/,
    );

    const bare = sshd.addUser({ profile: 'export PATH=/nonexistent' });
    const noNode = flotilla(data, 'hosts', 'add', 'bare', bare.alias);
    expect(noNode.out).toMatch(/but it is not ready: .* has no Node\.js on the PATH of its login shell — install Node 20 or newer there/);

    const states = JSON.parse(flotilla(data, 'hosts', '--json').out).map((h: { name: string; state: string }) => `${h.name}:${h.state}`);
    expect(states).toEqual(['nowhere:unreachable', 'locked:auth', 'bare:no_node']);
  });
});
