// Claude Code's http hooks: the path token names the session. A hook moves the session's status (turn over, needs you,
// working) and a PostToolUse names the file an edit landed in — what attributes a change in a shared checkout.
import type { HookEvent } from '../sessions/index.ts';
import type { RunRegistry } from './registry.ts';

export interface EditSink {
  /** An agent is about to edit (intent, from the wire) or has edited (PostToolUse) a file. */
  noteEdit(sessionId: string, absPath: string, tool: string, intent: boolean): void;
  /** Something in the session's workspace may have changed: rescan soon. */
  touch(sessionId: string): void;
}

/** Returns the session id the hook belongs to, or null for an unknown token. */
export function handleHook(registry: RunRegistry, edits: EditSink, hookToken: string, body: HookEvent): string | null {
  const s = registry.byHook(hookToken);
  if (!s) return null;
  s.terminal.agent?.handleHook(body);
  if (body.hook_event_name === 'PostToolUse') {
    const input = (body as { tool_input?: { file_path?: unknown; notebook_path?: unknown } }).tool_input;
    const path = input?.file_path ?? input?.notebook_path;
    if (typeof path === 'string') edits.noteEdit(s.info.id, path, String((body as { tool_name?: unknown }).tool_name ?? 'tool'), false);
    else edits.touch(s.info.id);
  }
  return s.info.id;
}
