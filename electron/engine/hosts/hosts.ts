// The hosts Flotilla can run engines on: a name and an SSH destination each, in <data dir>/hosts.json (0600). A host
// is checked over SSH with the user's login-shell environment (`$SHELL -ilc`, as a desktop sees it locally, so nvm's
// Node is found): reachable, its platform, and a Node.js the engine can run on.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { EngineError } from '../errors.ts';
import { writePrivateFile } from '../settings/private-file.ts';
import { closeConnection, destinationArgs, loginShellCommand, posixCommand, runSsh, shQuote } from './ssh.ts';

export const HOSTS_FILE = 'hosts.json';
/** The oldest Node.js the engine runs on. */
export const MIN_NODE_MAJOR = 20;
const NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;

export interface HostEntry {
  name: string;
  destination: string;
  addedAt: string;
  /**
   * Keep the provider keys on that host's disk too (its data dir's keys.json, 0600), so its engine can resume sessions
   * after a restart before a desktop reconnects. Default (absent): memory only — keys never touch the host's disk.
   */
  storeKeys?: boolean;
}

export type HostState = 'ok' | 'unreachable' | 'auth' | 'no_node' | 'old_node';

export interface HostCheck {
  name: string;
  destination: string;
  state: HostState;
  /** `uname -sm` there, e.g. "Linux x86_64". */
  platform: string | null;
  node: string | null;
  /** $HOME there (where the engine is installed: ~/.flotilla/server/<version>). */
  home: string | null;
  /** What to do, in words (null when ok). */
  message: string | null;
}

export function readHosts(dataDir: string): HostEntry[] {
  let text: string;
  try {
    text = readFileSync(join(dataDir, HOSTS_FILE), 'utf8');
  } catch {
    return [];
  }
  try {
    const list = JSON.parse(text) as HostEntry[];
    return Array.isArray(list) ? list.filter((h) => typeof h?.name === 'string' && typeof h?.destination === 'string') : [];
  } catch (err) {
    throw new EngineError(
      'bad_hosts',
      `${join(dataDir, HOSTS_FILE)} is not valid JSON (${(err as Error).message}) — fix it, or remove it to start over`,
    );
  }
}

export async function addHost(dataDir: string, name: string, destination: string, storeKeys = false): Promise<HostEntry> {
  if (!NAME.test(name))
    throw new EngineError(
      'bad_request',
      `'${name}' cannot name a host — use lower-case letters, digits and dashes (at most 32), e.g. buildbox`,
      { field: 'name' },
    );
  try {
    destinationArgs(destination);
  } catch (err) {
    throw new EngineError('bad_request', (err as Error).message, { field: 'destination' });
  }
  const hosts = readHosts(dataDir);
  const same = hosts.find((h) => h.name === name);
  if (same)
    throw new EngineError(
      'exists',
      `a host named ${name} is already added (${same.destination}) — pick another name, or remove it first: flotilla hosts remove ${name}`,
      { field: 'name' },
    );
  const entry: HostEntry = { name, destination, addedAt: new Date().toISOString(), ...(storeKeys ? { storeKeys: true } : {}) };
  await writePrivateFile(join(dataDir, HOSTS_FILE), `${JSON.stringify([...hosts, entry], null, 2)}\n`);
  return entry;
}

export async function removeHost(dataDir: string, name: string, env: NodeJS.ProcessEnv): Promise<HostEntry> {
  const hosts = readHosts(dataDir);
  const entry = hosts.find((h) => h.name === name);
  if (!entry) throw new EngineError('not_found', unknownHost(name, hosts), { field: 'name' });
  await writePrivateFile(
    join(dataDir, HOSTS_FILE),
    `${JSON.stringify(
      hosts.filter((h) => h !== entry),
      null,
      2,
    )}\n`,
  );
  await closeConnection(dataDir, entry.destination, env);
  return entry;
}

export function findHost(dataDir: string, name: string): HostEntry {
  const hosts = readHosts(dataDir);
  const entry = hosts.find((h) => h.name === name);
  if (!entry) throw new EngineError('not_found', unknownHost(name, hosts), { field: 'host' });
  return entry;
}

function unknownHost(name: string, hosts: HostEntry[]): string {
  const known = hosts.map((h) => h.name);
  return `no host named ${name}${known.length ? ` (known: ${known.join(', ')})` : ''} — add it first: flotilla hosts add ${name} <user@host>`;
}

/** What the login shell there sees: its platform and its Node (nothing is installed or started). */
const PROBE = loginShellCommand(
  'echo "flotilla-probe platform=$(uname -sm 2>/dev/null)"; echo "flotilla-probe node=$(node -v 2>/dev/null || echo none)"; echo "flotilla-probe home=$HOME"',
);

export async function checkHost(dataDir: string, host: HostEntry, env: NodeJS.ProcessEnv): Promise<HostCheck> {
  const r = await runSsh(dataDir, host.destination, PROBE, env);
  const base = { name: host.name, destination: host.destination, platform: null, node: null, home: null };
  const field = (k: string) => new RegExp(`^flotilla-probe ${k}=(.*)$`, 'm').exec(r.stdout)?.[1]?.trim() || null;
  if (r.code === 255 || (r.code !== 0 && !field('node'))) {
    const err = r.stderr.trim().split('\n').filter(Boolean).at(-1) ?? `ssh exited ${r.code}`;
    if (/permission denied|publickey|too many authentication failures/i.test(r.stderr))
      return {
        ...base,
        state: 'auth',
        message: `${host.destination} refused the key (${err}) — add yours there (ssh-copy-id ${host.destination}), or name an IdentityFile for it in ~/.ssh/config; Flotilla never asks for a password`,
      };
    return {
      ...base,
      state: 'unreachable',
      message: `cannot reach ${host.destination} over SSH (${err}) — check that \`ssh ${host.destination}\` works in a terminal`,
    };
  }
  const platform = field('platform');
  const node = field('node');
  if (!node || node === 'none')
    return {
      ...base,
      platform,
      state: 'no_node',
      message: `${host.destination} has no Node.js on the PATH of its login shell — install Node ${MIN_NODE_MAJOR} or newer there (or make nvm's load in the login shell's profile)`,
    };
  const major = Number(/^v(\d+)/.exec(node)?.[1] ?? 0);
  if (major < MIN_NODE_MAJOR)
    return {
      ...base,
      platform,
      node,
      state: 'old_node',
      message: `${host.destination} has Node.js ${node}; the engine needs ${MIN_NODE_MAJOR} or newer — upgrade it there`,
    };
  return { ...base, platform, node, home: field('home'), state: 'ok', message: null };
}

/** Which desktop this is, to the hosts it uses: the machine and its data dir, hashed (the same on every connection). */
export function desktopId(dataDir: string): string {
  return createHash('sha256').update(`${hostname()}\n${dataDir}`).digest('hex').slice(0, 12);
}

const DESKTOPS = '.flotilla/remote/desktops';

/**
 * Notes on the host that this desktop uses it (its machine name and data dir, no secret), and answers the other
 * desktops noted there: they share the host's engine and see its runs.
 */
export async function noteDesktop(dataDir: string, host: HostEntry, env: NodeJS.ProcessEnv): Promise<string[]> {
  const me = JSON.stringify({ machine: hostname(), dataDir, at: new Date().toISOString() });
  const script = [
    `mkdir -p "$HOME/${DESKTOPS}" && printf '%s\\n' ${shQuote(me)} > "$HOME/${DESKTOPS}/${desktopId(dataDir)}.json"`,
    `for f in "$HOME/${DESKTOPS}"/*.json; do [ "$f" = "$HOME/${DESKTOPS}/${desktopId(dataDir)}.json" ] || cat "$f"; done 2>/dev/null`,
  ].join('\n');
  const r = await runSsh(dataDir, host.destination, posixCommand(script), env);
  return r.stdout.split('\n').flatMap((line) => {
    try {
      const d = JSON.parse(line) as { machine?: string; dataDir?: string; at?: string };
      return d.machine ? [`${d.machine} (data dir ${d.dataDir ?? '?'}, last connected ${d.at ?? '?'})`] : [];
    } catch {
      return [];
    }
  });
}
