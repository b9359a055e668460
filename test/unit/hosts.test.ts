// The plain decisions behind hosts: how a destination becomes ssh arguments, how a script survives any login shell,
// which platform a host is, what is shipped to it, how its worktree is opened from here.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodePlatformOf, serverBundle } from '../../electron/engine/hosts/bundle.ts';
import { destinationArgs, posixCommand, shQuote, sshOptions } from '../../electron/engine/hosts/ssh.ts';
import { templateHost } from '../../electron/engine/hosts/relay.ts';
import { remoteLaunch } from '../../electron/engine/open-in.ts';
import { tempDir } from '../fixtures/repo.ts';

const ROOT = resolve(import.meta.dirname, '../..');

describe('hosts: plain decisions', () => {
  it('turns destinations into ssh arguments and refuses what ssh would read as an option', () => {
    expect(destinationArgs('me@box')).toEqual(['me@box']);
    expect(destinationArgs('buildbox')).toEqual(['buildbox']);
    expect(destinationArgs('ssh://me@box:2222')).toEqual(['-p', '2222', 'me@box']);
    expect(destinationArgs('ssh://box')).toEqual(['box']);
    expect(() => destinationArgs('-oProxyCommand=evil')).toThrow(/is not an SSH destination — give user@host/);
    expect(() => destinationArgs('me@box name')).toThrow(/is not an SSH destination/);
    expect(() => destinationArgs('')).toThrow(/is not an SSH destination/);
  });

  it('never prompts, keeps connections alive, shares them only for a long-lived engine', () => {
    const dir = tempDir('flotilla-ssh-');
    const short = sshOptions(dir, { FLOTILLA_SSH_CONFIG: '/tmp/cfg' });
    expect(short.slice(0, 2)).toEqual(['-F', '/tmp/cfg']);
    expect(short).toEqual(expect.arrayContaining(['BatchMode=yes', 'ControlMaster=no', `ControlPath=${join(dir, 'ssh', 'cm-%C')}`]));
    expect(short).not.toContain('ControlPersist=60');
    expect(sshOptions(dir, {}, true)).toEqual(expect.arrayContaining(['ControlMaster=auto', 'ControlPersist=60']));
  });

  it('quotes scripts so sh reads them back exactly, quotes included', () => {
    const word = `it's "$HOME" & more`;
    expect(execFileSync('sh', ['-c', `printf %s ${shQuote(word)}`], { encoding: 'utf8' })).toBe(word);
    const cmd = posixCommand(`printf '%s' "a'b"`);
    expect(cmd.startsWith('sh -c ')).toBe(true);
    expect(execFileSync('sh', ['-c', cmd], { encoding: 'utf8' })).toBe("a'b");
  });

  it("names a host's platform as Node does, or null for one the engine does not run on", () => {
    expect(nodePlatformOf('Linux x86_64')).toBe('linux-x64');
    expect(nodePlatformOf('Linux aarch64')).toBe('linux-arm64');
    expect(nodePlatformOf('Darwin arm64')).toBe('darwin-arm64');
    expect(nodePlatformOf('FreeBSD amd64')).toBeNull();
    expect(nodePlatformOf('')).toBeNull();
  });

  it.skipIf(!existsSync(join(ROOT, 'dist/electron/cli.mjs')))(
    'ships the CLI with the chunks it imports, the pty host, node-pty for the platform and sqlite-wasm; names it by content',
    () => {
      const local = `${process.platform}-${process.arch}`;
      const b = serverBundle(ROOT, local);
      expect(b.version).toMatch(/^\d+\.\d+\.\d+-[0-9a-f]{12}$/);
      expect(b.files).toEqual(
        expect.arrayContaining([
          'bin/flotilla.js',
          'dist/electron/cli.mjs',
          'dist/electron/pty-host.mjs',
          'node_modules/node-pty/lib/index.js',
          'node_modules/node-sqlite3-wasm/package.json',
        ]),
      );
      expect(b.files.some((f) => f.endsWith('.map') || f.endsWith('.test.js'))).toBe(false);
      expect(b.bytes).toBeLessThan(20e6);
      expect(serverBundle(ROOT, local).version).toBe(b.version);
      // A platform with neither this build nor a prebuild says what to do.
      expect(() => serverBundle(ROOT, 'linux-riscv64')).toThrow(/no terminal module \(node-pty\) built for linux-riscv64 — /);
    },
  );

  it("opens a host's worktree with VS Code's Remote-SSH, or says what to run", () => {
    const env = { HOME: '/home/me', PATH: '' };
    expect(remoteLaunch('me@box', '/srv/wt', 'editor', { platform: 'linux', env, has: (p) => p === 'code' })).toEqual({
      command: 'code',
      args: ['--folder-uri', 'vscode-remote://ssh-remote+me@box/srv/wt'],
      cwd: '/home/me',
    });
    expect(() => remoteLaunch('me@box', '/srv/wt', 'editor', { platform: 'linux', env, has: () => false })).toThrow(
      /the worktree is on me@box — open it with VS Code's Remote-SSH \(code --remote ssh-remote\+me@box \/srv\/wt\), or in a terminal: ssh -t me@box/,
    );
    const term = remoteLaunch('me@box', '/srv/wt', 'terminal', { platform: 'linux', env, has: (p) => p === 'xterm' });
    expect(term.command).toBe('xterm');
    expect(term.args).toEqual(['-e', 'ssh', '-t', 'me@box', `cd '/srv/wt' && exec "$SHELL" -l`]);
  });

  it("reads a template's host: from YAML and JSON alike", () => {
    expect(templateHost('name: x\nhost: box\n')).toBe('box');
    expect(templateHost('{"name": "x", "host": "box"}')).toBe('box');
    expect(templateHost('name: x\n')).toBeUndefined();
    expect(templateHost('name: [unclosed')).toBeUndefined();
  });
});
