// Starting and signalling an agent's process: what would make the spawn fail (said in a sentence before node-pty's
// forked child says "execvp(3) failed"), and signals to the pty's whole process group.
import { accessSync, constants as fsConstants, statSync } from 'node:fs';
import { delimiter, join, resolve as resolvePath } from 'node:path';
import type { PtySpec } from './process.ts';

/** Checks what the forked child would trip over, to fail with a sentence instead of "execvp(3) failed". */
export function preflight(spec: PtySpec): string | null {
  const cmd = spec.command;
  if (!cmd) return 'cannot start the agent: no command given';
  try {
    if (!statSync(spec.cwd).isDirectory()) return `cannot start "${cmd}": working directory ${spec.cwd} is not a directory`;
  } catch {
    return `cannot start "${cmd}": working directory ${spec.cwd} does not exist`;
  }
  if (cmd.includes('/')) {
    const full = resolvePath(spec.cwd, cmd);
    return isExecutableFile(full) ? null : `cannot start "${cmd}": ${full} does not exist or is not executable`;
  }
  // The child execs with the session's environment, so its PATH is the one that counts (execvp's default without one).
  const path = spec.env.PATH ?? '/usr/bin:/bin';
  for (const dir of path.split(delimiter)) if (isExecutableFile(join(dir || spec.cwd, cmd))) return null;
  return `cannot start "${cmd}": command not found on the session's PATH`;
}

function isExecutableFile(p: string): boolean {
  try {
    if (!statSync(p).isFile()) return false;
    accessSync(p, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The pty child leads its own session and process group; SIGKILL goes to the whole group so helpers die too. */
export function signal(pid: number, sig: NodeJS.Signals, group: boolean): void {
  if (group) {
    try {
      process.kill(-pid, sig);
    } catch {
      /* group gone or not a leader: fall through to the pid */
    }
  }
  try {
    process.kill(pid, sig);
  } catch {
    /* already gone */
  }
}
