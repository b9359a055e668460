// Pure rules that turn what we can observe (hooks, exit, the screen) into a SessionStatus. Kept apart from the session
// so each rule has its own small tests.
import { constants as osConstants } from 'node:os';
import type { SessionStatus } from '../../shared/contract.ts';

/** A Claude Code hook payload (as its hooks deliver it on stdin/HTTP); only the fields we read are named. */
export type HookEvent = { hook_event_name: string; notification_type?: string; message?: string; [k: string]: unknown };

/**
 * What a hook means for the session:
 *  - `attention`: the agent is blocked on the user (sticky: plain output does not clear it, input or a working hook does);
 *  - `waiting`:   the turn is over, the agent waits for a prompt (sticky the same way: Claude redraws after Stop);
 *  - `working`:   the agent is busy again.
 */
export type HookVerdict =
  | { kind: 'attention'; status: 'needs_you'; detail: string }
  | { kind: 'waiting'; status: 'idle'; detail: string }
  | { kind: 'working'; status: 'working'; detail: null };

// Claude Code notification types that mean "a question is on screen" (from its notification_type enum).
const ATTENTION_NOTIFICATIONS = new Set([
  'permission_prompt',
  'worker_permission_prompt',
  'elicitation_dialog',
  'elicitation_url_dialog',
  'agent_needs_input',
]);

const WORKING_HOOKS = new Set(['UserPromptSubmit', 'PreToolUse', 'PostToolUse', 'PostToolUseFailure', 'PostToolBatch']);

const nonEmpty = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v.trim() : null);

export function statusFromHook(e: HookEvent): HookVerdict | null {
  const name = e.hook_event_name;
  if (name === 'PermissionRequest' || name === 'Elicitation') {
    return { kind: 'attention', status: 'needs_you', detail: nonEmpty(e.message) ?? 'permission prompt' };
  }
  if (name === 'Notification') {
    const type = e.notification_type ?? '';
    if (ATTENTION_NOTIFICATIONS.has(type)) {
      return { kind: 'attention', status: 'needs_you', detail: nonEmpty(e.message) ?? 'permission prompt' };
    }
    if (type === 'idle_prompt') return { kind: 'waiting', status: 'idle', detail: 'waiting for you' };
    return null;
  }
  if (name === 'Stop') return { kind: 'waiting', status: 'idle', detail: 'waiting for you' };
  if (name === 'StopFailure') {
    // The turn ended on an API error (rate_limit, overloaded, authentication_failed, ...); the process lives on.
    const error = nonEmpty(e.error) ?? 'unknown';
    const more = nonEmpty(e.error_details);
    return { kind: 'waiting', status: 'idle', detail: `API error: ${error}${more ? ` (${more})` : ''}` };
  }
  if (WORKING_HOOKS.has(name)) return { kind: 'working', status: 'working', detail: null };
  return null;
}

// A question waiting for an answer, as agents without hooks draw it. A line-mode question is only open while it is the
// last thing on the screen (once answered, later output follows it); a menu is redrawn away once answered, so it counts
// anywhere near the bottom (Claude-style menus put a footer and options below the question).
const QUESTION_PATTERNS: readonly RegExp[] = [
  /Do you want to/i,
  /[([]\s*(y\/n|yes\/no)\s*[)\]]/i,
  /\b(Allow|Approve)\b.*\?\s*$/i,
  /Press Enter to continue/i,
];
const MENU_PATTERNS: readonly RegExp[] = [/[❯›>]\s*1\.\s*Yes\b/];

/** How many of the last non-empty screen lines the prompt heuristic looks at for a menu. */
export const PROMPT_TAIL_LINES = 6;

/**
 * The screen heuristic for agents without hooks, called when output has gone quiet: is a question open at the bottom of
 * the visible screen? True when the last non-empty line is a question (`Continue? (y/n)`), or when one of the last
 * PROMPT_TAIL_LINES non-empty lines is a numbered menu's first choice (`❯ 1. Yes`).
 */
export function looksLikePermissionPrompt(screen: readonly string[]): boolean {
  let seen = 0;
  for (let i = screen.length - 1; i >= 0 && seen < PROMPT_TAIL_LINES; i--) {
    const line = screen[i]!;
    if (line.trim() === '') continue;
    if (seen === 0 && QUESTION_PATTERNS.some((re) => re.test(line))) return true;
    if (MENU_PATTERNS.some((re) => re.test(line))) return true;
    seen++;
  }
  return false;
}

const SIGNAL_NAMES = new Map<number, string>();
for (const [name, num] of Object.entries(osConstants.signals)) if (!SIGNAL_NAMES.has(num)) SIGNAL_NAMES.set(num, name);

/** node-pty reports signals as numbers; the contract and users want names. */
export function signalName(signal: number | undefined | null): string | null {
  if (!signal) return null;
  return SIGNAL_NAMES.get(signal) ?? `signal ${signal}`;
}

/** The status of a process that exited on its own (not through stop()). */
export function exitStatus(exitCode: number | null, signal: string | null): { status: SessionStatus; detail: string | null } {
  if (signal) return { status: 'failed', detail: `killed by ${signal}` };
  if (exitCode === 0) return { status: 'done', detail: null };
  return { status: 'failed', detail: `exit code ${exitCode ?? 'unknown'}` };
}
