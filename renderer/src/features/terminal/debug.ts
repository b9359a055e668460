// Read-only hooks on window.__flotilla for tests, benches and debugging, and the buffer-to-text helper they use.
import type { Terminal } from '@xterm/xterm';

/** Read-only hooks for tests and debugging: the text of a terminal's active buffer (renderer-independent). */
export interface FlotillaDebugHooks {
  /** By session id, or by tile slot (the `terminal-<slot>` element on screen). '' when there is no such terminal. */
  terminalText(sessionIdOrSlot: string | number): string;
  /** How many terminals hold a WebGL context right now. */
  webglContexts(): number;
  /** WebGL contexts released and seen freed at once (not left to the garbage collector). */
  webglFreed(): number;
  /** How many terminals exist (those of runs no longer shown are disposed). */
  terminals(): number;
  /** Frames drawn by all terminals so far (xterm's onRender), for the benches. */
  renders(): number;
  /** Screens the engine sent instead of the stream (background tiles that got more than they could draw), so far. */
  screens(): number;
}

declare global {
  interface Window {
    __flotilla?: FlotillaDebugHooks;
  }
}

/**
 * The active buffer's lines (scrollback included, trailing blanks trimmed), joined by \n — soft-wrapped rows joined
 * back into their line: what the terminal holds, whichever renderer draws it (WebGL leaves no text in the DOM).
 */
export function bufferText(term: Terminal): string {
  const buf = term.buffer.active;
  const lines: string[] = [];
  let cur = '';
  for (let i = 0; i < buf.length; i++) {
    const nextWraps = buf.getLine(i + 1)?.isWrapped ?? false;
    cur += buf.getLine(i)?.translateToString(!nextWraps) ?? '';
    if (!nextWraps) {
      lines.push(cur);
      cur = '';
    }
  }
  while (lines.length && !lines[lines.length - 1]) lines.pop();
  return lines.join('\n');
}

export function installDebugHooks(hooks: FlotillaDebugHooks): void {
  if (typeof window !== 'undefined') window.__flotilla = Object.freeze(hooks);
}
