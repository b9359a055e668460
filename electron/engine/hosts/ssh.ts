// The system's OpenSSH client, as Flotilla uses it: ~/.ssh/config, ProxyJump, agents and hardware keys just work; one
// multiplexed connection per host (ControlMaster, sockets under <data dir>/ssh); never a password prompt (BatchMode).
// FLOTILLA_SSH_CONFIG names another config file (tests use a throwaway one; nothing touches the user's own).
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';

/** In the environment given to ssh calls: share one connection per host (the engine's links set it; the CLI does not). */
export const SHARE_ENV = 'FLOTILLA_SSH_SHARE';

/**
 * The options every connection gets (after the user's config, which `-o` overrides only for these). `persist`: become
 * (or reuse) the host's shared connection and keep it 60 s after the last use — for a long-lived engine ($FLOTILLA_SSH_SHARE
 * in the env given); a short command (the CLI) only reuses one that is up, so nothing it starts outlives it.
 */
export function sshOptions(dataDir: string, env: NodeJS.ProcessEnv, persist: boolean | 'own' = env[SHARE_ENV] === '1'): string[] {
  const dir = join(dataDir, 'ssh');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const config = env.FLOTILLA_SSH_CONFIG ? ['-F', env.FLOTILLA_SSH_CONFIG] : [];
  const o = (...kv: string[]) => kv.flatMap((x) => ['-o', x]);
  return [
    ...config,
    ...o('BatchMode=yes', 'ConnectTimeout=10', 'ServerAliveInterval=5', 'ServerAliveCountMax=3'),
    // 'own': a connection of its own (a tunnel: killing it must drop that tunnel only). ssh takes the first value of
    // an option, so this is decided here, not overridden later. %C: a hash of (host, port, user), short enough for a
    // Unix socket path.
    ...(persist === 'own'
      ? o('ControlMaster=no', 'ControlPath=none')
      : o(`ControlMaster=${persist ? 'auto' : 'no'}`, `ControlPath=${join(dir, 'cm-%C')}`)),
    ...(persist === true ? o('ControlPersist=60') : []),
  ];
}

/**
 * `ssh://user@host:port` → ['-p', port, 'user@host']; anything else as it is (an alias, user@host). Refuses what
 * ssh would read as an option or what holds spaces.
 */
export function destinationArgs(destination: string): string[] {
  const d = destination.trim();
  if (!d || d.startsWith('-') || /\s/.test(d))
    throw new Error(
      `'${destination}' is not an SSH destination — give user@host, ssh://user@host:port, or a Host alias from ~/.ssh/config`,
    );
  const m = /^ssh:\/\/(?:([^@/]+)@)?([^:/]+|\[[^\]]+\])(?::(\d+))?\/?$/.exec(d);
  if (!m) return [d];
  const [, user, host, port] = m;
  return [...(port ? ['-p', port] : []), `${user ? `${user}@` : ''}${host}`];
}

/** A word for any POSIX shell, single-quoted (no backslashes: fish reads those inside quotes too). */
export function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'"'"'`)}'`;
}

/** A POSIX script as one remote command, whatever the user's login shell is (bash, zsh, fish…): `sh -c '…'`. */
export function posixCommand(script: string): string {
  return `sh -c ${shQuote(script)}`;
}

/**
 * `inner` run by the user's login shell, interactive (`$SHELL -ilc`): the environment a terminal there has, so nvm's
 * Node and the agents on the user's PATH are found (non-interactive SSH skips .bashrc). Keep `inner` to plain words.
 */
export function loginShellCommand(inner: string): string {
  return posixCommand(`exec "\${SHELL:-/bin/sh}" -ilc ${shQuote(inner)} </dev/null`);
}

export interface SshResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `command` on the destination (through the shared connection); resolves with its exit and output. */
export function runSsh(
  dataDir: string,
  destination: string,
  command: string,
  env: NodeJS.ProcessEnv,
  opts: { timeoutMs?: number; extra?: string[]; persist?: boolean; input?: Readable } = {},
): Promise<SshResult> {
  const args = [
    ...sshOptions(dataDir, env, opts.persist),
    ...(opts.extra ?? []),
    ...destinationArgs(destination),
    ...(command ? [command] : []),
  ];
  return new Promise((resolve) => {
    const child = spawn('ssh', args, { env, stdio: [opts.input ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    if (opts.input && child.stdin) {
      child.stdin.on('error', () => {}); // ssh gone early: its exit says why
      opts.input.pipe(child.stdin);
    }
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d) => (stdout += d));
    child.stderr?.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: null, stdout, stderr: `${stderr}${err.message}` });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Ends the shared connection to a destination (its ControlMaster), if one is up. */
export function closeConnection(dataDir: string, destination: string, env: NodeJS.ProcessEnv): Promise<SshResult> {
  return runSsh(dataDir, destination, '', env, { extra: ['-O', 'exit'], timeoutMs: 5_000 });
}
