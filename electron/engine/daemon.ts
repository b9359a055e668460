// The background engine: at most one per data dir (the store's lock is the guarantee; engine.json is how clients find
// it), started detached so it outlives the terminal or the window that started it. Used by `flotilla open | stop |
// status | serve` and by the desktop app, which attaches to the data dir's engine instead of owning one.
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Limits } from '../shared/contract.ts';
import { EngineError } from './errors.ts';
import { pidAlive } from './pid.ts';

export { pidAlive };

/** Where a running engine tells other local processes how to reach it; mode 0600, removed on close. */
export const ENGINE_FILE = 'engine.json';
/** The detached engine's stdout and stderr (appended; what Node itself prints on a crash lands here). Its own
 *  rotating log is logs/engine.log (logs.ts). */
export const ENGINE_LOG = join('logs', 'engine.stdio.log');

export interface EngineFile {
  pid: number;
  origin: string;
  token: string;
  /** ISO time the engine started listening. */
  startedAt: string;
  dataDir: string;
  /** The folder the engine runs from (on a host: ~/.flotilla/server/<version>), so a desktop can tell its build. */
  root?: string;
}

export async function writeEngineFile(dataDir: string, info: EngineFile): Promise<void> {
  await writeFile(join(dataDir, ENGINE_FILE), JSON.stringify(info), { mode: 0o600 });
}

/** Removes engine.json if it is this process's (a loser of a start race must not delete the winner's). */
export async function removeEngineFile(dataDir: string, pid = process.pid): Promise<void> {
  const info = await readEngineFile(dataDir);
  if (info === null || info.pid === pid) await rm(join(dataDir, ENGINE_FILE), { force: true });
}

export async function readEngineFile(dataDir: string): Promise<EngineFile | null> {
  try {
    const raw = JSON.parse(await readFile(join(dataDir, ENGINE_FILE), 'utf8')) as Partial<EngineFile>;
    if (typeof raw.pid !== 'number' || typeof raw.origin !== 'string' || typeof raw.token !== 'string') return null;
    return { pid: raw.pid, origin: raw.origin, token: raw.token, startedAt: raw.startedAt ?? '', dataDir: raw.dataDir ?? dataDir };
  } catch {
    return null;
  }
}

/** The engine serving this data dir, if one does: its file names a live process that answers its health check. */
export async function findEngine(dataDir: string, timeoutMs = 2000): Promise<EngineFile | null> {
  const info = await readEngineFile(dataDir);
  if (!info || !pidAlive(info.pid)) return null;
  try {
    const res = await fetch(`${info.origin}/api/health`, {
      headers: { authorization: `Bearer ${info.token}` },
      signal: AbortSignal.timeout(timeoutMs),
    });
    return res.ok ? info : null;
  } catch {
    return null;
  }
}

export interface DetachedCommand {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
}

/** Starts the engine detached (its own session, stdio to engine.log) and waits until it answers. */
export async function startDetached(dataDir: string, cmd: DetachedCommand, timeoutMs = 60_000): Promise<EngineFile> {
  const logPath = join(dataDir, ENGINE_LOG);
  mkdirSync(dirname(logPath), { recursive: true, mode: 0o700 });
  const log = openSync(logPath, 'a', 0o600);
  let exited: { code: number | null; signal: string | null } | null = null;
  let child;
  try {
    child = spawn(cmd.command, cmd.args, { detached: true, stdio: ['ignore', log, log], env: cmd.env, windowsHide: true });
  } finally {
    closeSync(log);
  }
  child.once('exit', (code, signal) => (exited = { code, signal }));
  child.once('error', () => (exited = { code: null, signal: null }));
  child.unref();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await findEngine(dataDir, 1000);
    if (found && (found.pid === child.pid || exited)) return found;
    if (found) {
      // Another start won the race: ours will see it and exit; wait for that, so no stray process outlives this call.
      const until = Date.now() + 15_000;
      while (!exited && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      return found;
    }
    if (exited) {
      // One more look: another start may have won the data dir's lock just now.
      const other = await findEngine(dataDir, 1000);
      if (other) return other;
      const { code, signal } = exited as { code: number | null; signal: string | null };
      throw new EngineError(
        'engine_start',
        `the engine did not start (${signal ?? `exit code ${code}`}): ${lastLines(logPath) || 'no output'} — see ${logPath}`,
      );
    }
    if (Date.now() > deadline) {
      try {
        if (child.pid) process.kill(child.pid, 'SIGTERM');
      } catch {
        /* gone */
      }
      throw new EngineError('engine_start', `the engine did not answer within ${Math.round(timeoutMs / 1000)} s — see ${logPath}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Stops the data dir's engine (it stops its agents: SIGTERM, then SIGKILL after the grace period) and waits for it. */
export async function stopEngine(dataDir: string, timeoutMs = Limits.StopGraceMs + 15_000): Promise<EngineFile | null> {
  const info = await readEngineFile(dataDir);
  if (!info || !pidAlive(info.pid)) {
    if (info) await rm(join(dataDir, ENGINE_FILE), { force: true }); // stale: its engine died
    return null;
  }
  process.kill(info.pid, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (pidAlive(info.pid)) {
    if (Date.now() > deadline) {
      process.kill(info.pid, 'SIGKILL');
      await new Promise((r) => setTimeout(r, 200));
      await rm(join(dataDir, ENGINE_FILE), { force: true });
      throw new EngineError(
        'engine_stop',
        `the engine (pid ${info.pid}) did not stop within ${Math.round(timeoutMs / 1000)} s; it was killed`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return info;
}

function lastLines(path: string, n = 3): string {
  try {
    const lines = readFileSync(path, 'utf8').trim().split('\n');
    return lines.slice(-n).join(' | ').slice(-600);
  } catch {
    return '';
  }
}
