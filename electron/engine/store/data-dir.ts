// Where Flotilla keeps its data: $FLOTILLA_HOME, default ~/.flotilla; `~` expanded; checked writable before use.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { StoreError } from './errors.ts';

export function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? join(homedir(), p.slice(1)) : p;
}

export function defaultDataDir(): string {
  const env = process.env.FLOTILLA_HOME;
  return env ? resolve(expandHome(env)) : join(homedir(), '.flotilla');
}

export async function ensureDataDir(dir: string): Promise<string> {
  const abs = resolve(expandHome(dir));
  const probe = join(abs, `.write-probe-${process.pid}-${Math.random().toString(36).slice(2)}`);
  try {
    await mkdir(abs, { recursive: true });
    await writeFile(probe, 'flotilla');
    await rm(probe, { force: true });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const reason = e.code ? `${e.code}: ${e.message.replace(/^\w+: /, '')}` : e.message;
    throw new StoreError(`data dir ${abs} is not writable (${reason}) — pass --data-dir or set FLOTILLA_HOME to a writable folder`);
  }
  return abs;
}
