// The desktop app's decisions, as plain functions (Electron's binary cannot run on the build machines, so index.ts only
// wires these to Electron's APIs and the unit tests cover them): how to start the data dir's engine detached, what to
// do when the last window closes, what the tray says, when the engine counts as dead.
import { isAbsolute, join, relative, resolve } from 'node:path';
import { type SessionInfo, type SessionStatus, isFinalStatus } from '../shared/contract.ts';

export interface DetachedCommand {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
}

/**
 * The engine as a detached process of its own (it outlives the app): the Electron binary run as Node on the bundled
 * engine host, with the provider keys the app keeps encrypted in its environment, by variable name.
 */
export function engineCommand(o: {
  execPath: string;
  bundleDir: string;
  env: NodeJS.ProcessEnv;
  keys: Record<string, string>;
}): DetachedCommand {
  return {
    command: o.execPath,
    args: [join(o.bundleDir, 'engine-host.mjs')],
    env: { ...o.env, ...o.keys, ELECTRON_RUN_AS_NODE: '1', FLOTILLA_DETACHED: '1' },
  };
}

const NEEDS_YOU: readonly SessionStatus[] = ['needs_you', 'over_budget', 'rejected'];

export interface SessionCounts {
  live: number;
  working: number;
  needYou: number;
}

export function countSessions(sessions: readonly Pick<SessionInfo, 'status'>[]): SessionCounts {
  let live = 0;
  let needYou = 0;
  for (const s of sessions) {
    if (isFinalStatus(s.status)) continue;
    live++;
    if (NEEDS_YOU.includes(s.status)) needYou++;
  }
  return { live, working: live - needYou, needYou };
}

export type LastWindowAction = 'quit' | 'ask';

/** Closing the last window: with live sessions ask (keep them / stop them / cancel); without, just quit the app. */
export function onLastWindowClosed(counts: SessionCounts): LastWindowAction {
  return counts.live > 0 ? 'ask' : 'quit';
}

export interface CloseDialog {
  message: string;
  detail: string;
  buttons: string[];
  defaultId: number;
  cancelId: number;
}

export function closeDialog(counts: SessionCounts): CloseDialog {
  const n = counts.live;
  const s = n === 1 ? '' : 's';
  return {
    message: `${n} session${s} still running`,
    detail:
      'Kept in the background, the agents go on working; the Flotilla item in the tray (menu bar) shows how many work or need you and reopens the window.' +
      (counts.needYou ? ` ${counts.needYou} need${counts.needYou === 1 ? 's' : ''} you now.` : ''),
    buttons: [`Keep ${n} session${s} running in the background`, `Stop ${n === 1 ? 'it' : 'them'}`, 'Cancel'],
    defaultId: 0,
    cancelId: 2,
  };
}

export type CloseChoice = 'background' | 'stop' | 'cancel';

export function closeChoice(response: number): CloseChoice {
  return response === 0 ? 'background' : response === 1 ? 'stop' : 'cancel';
}

/** The tray item's title and tooltip while the engine runs in the background. */
export function trayText(counts: SessionCounts | null): { title: string; tooltip: string } {
  if (!counts) return { title: '', tooltip: 'Flotilla — the engine cannot be reached' };
  if (counts.live === 0) return { title: '', tooltip: 'Flotilla — no live sessions' };
  const parts = [`${counts.working} working`];
  if (counts.needYou) parts.push(`${counts.needYou} need${counts.needYou === 1 ? 's' : ''} you`);
  return { title: counts.needYou ? String(counts.needYou) : String(counts.live), tooltip: `Flotilla — ${parts.join(' · ')}` };
}

/** Health checks fail this many times in a row (one a second) before the app says the engine is gone: within 2 s. */
export const HEALTH_INTERVAL_MS = 1000;
export const HEALTH_FAILURES = 2;

export class HealthWatch {
  private failures = 0;
  private dead = false;
  /** Feed one check's result; returns 'died' once when it crosses the threshold, 'back' once when it answers again. */
  note(ok: boolean): 'died' | 'back' | null {
    if (ok) {
      this.failures = 0;
      if (!this.dead) return null;
      this.dead = false;
      return 'back';
    }
    this.failures++;
    if (this.dead || this.failures < HEALTH_FAILURES) return null;
    this.dead = true;
    return 'died';
  }
  get isDead(): boolean {
    return this.dead;
  }
}

/** Inside `dir` (or `dir` itself), by path — no `..` escape. */
function within(path: string, dir: string): boolean {
  const rel = relative(resolve(dir), resolve(path));
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/**
 * What the page may ask the OS to open as a folder: the data dir or anything in it (worktrees live there), or a
 * session's worktree (a shared-workspace session works in the user's checkout). Absolute paths only.
 */
export function allowedOpenPath(path: unknown, o: { dataDir: string; worktrees: readonly string[] }): path is string {
  if (typeof path !== 'string' || !isAbsolute(path) || path.includes('\0')) return false;
  return within(path, o.dataDir) || o.worktrees.some((w) => within(path, w));
}

/** What may go to the OS browser: http(s) URLs that are not the engine itself (terminal links included). */
export function allowedExternalUrl(url: unknown, engineOrigin: string | null): boolean {
  if (typeof url !== 'string') return false;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return false;
  return !(engineOrigin && u.origin === new URL(engineOrigin).origin);
}
