// The demo agent, as the engine launches it. The program itself is agent.mjs next to this file: plain JavaScript, so
// the shell preset runs it with `node` alone (no tsx, no build step), in each session's worktree.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EngineError } from '../errors.ts';

const AGENT_FILE = 'agent.mjs';

/**
 * Absolute path of agent.mjs: beside this module in the source tree; from a bundle (dist/electron/*.mjs), the copy the
 * build puts in dist/electron/demo/ — never the source tree, which a packaged app does not have.
 */
export function demoAgentScript(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, AGENT_FILE), join(here, 'demo', AGENT_FILE)];
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new EngineError('demo_missing', `the demo agent (${AGENT_FILE}) was not found; looked in: ${candidates.join(', ')}`);
  return found;
}

/** How the shell preset starts it: this very Node (Electron's, run as Node), the script, the slot and the task. */
export function demoAgentLaunch(): { command: string; args: string[]; env: Record<string, string> } {
  return {
    command: process.execPath,
    args: [demoAgentScript(), '{{index}}', '{{task}}'],
    // Under Electron process.execPath is the app binary: this makes it behave as plain Node (ignored by Node itself).
    env: { ELECTRON_RUN_AS_NODE: '1' },
  };
}
