// Edit intents: which file a complete tool call is about to change. Pure functions over a tool name and its arguments.
//
// Recognised:
//  - Claude Code: Write / Edit / MultiEdit (`file_path`), NotebookEdit (`notebook_path`).
//  - Codex: `apply_patch` (function call with {input|patch} or custom tool call with the raw patch text): every path in
//    the patch ("*** Add File: p", "*** Update File: p", "*** Delete File: p", "*** Move to: p"). Also a shell-like call
//    (`shell`, `local_shell`, `exec_command`, `container.exec`, …) whose command carries an apply_patch patch.
//  - Any other write/edit-like tool name (write_file, edit_file, StrReplaceFile, create_file, str_replace_editor …) whose
//    JSON arguments carry file_path / path / filePath / notebook_path / target_file / filename (not `command: "view"`).
// Bash and read-only tools give none.

export interface Intent {
  tool: string;
  path: string;
}

const CLAUDE_FILE_PATH = new Set(['Write', 'Edit', 'MultiEdit']);
const PATCH_TOOL = /^apply_patch$/i;
const SHELL_TOOL = /^(shell|local_shell|shell_command|exec_command|exec|container\.exec|run_shell_command)$/i;
const WRITE_LIKE = /write|edit|replace|create|patch|insert|append|save/i;
const NOT_A_FILE = /director|folder|mkdir|todo|memory|issue|pull_request|branch/i;
const PATH_KEYS = ['file_path', 'path', 'filePath', 'filepath', 'notebook_path', 'target_file', 'filename', 'file'];
const READ_COMMANDS = new Set(['view', 'read', 'cat', 'show']);
const BEGIN_PATCH = '*** Begin Patch';

/** Should a streaming parser keep this call's argument text to look for a path when the call completes? */
export function wantsArguments(tool: string): boolean {
  if (CLAUDE_FILE_PATH.has(tool) || tool === 'NotebookEdit') return true;
  if (PATCH_TOOL.test(tool) || SHELL_TOOL.test(tool)) return true;
  return WRITE_LIKE.test(tool) && !NOT_A_FILE.test(tool);
}

/** Every path named in an apply_patch patch text, in order, without duplicates. */
export function patchPaths(patch: string): string[] {
  const out: string[] = [];
  let from = 0;
  for (;;) {
    const i = patch.indexOf('*** ', from);
    if (i < 0) break;
    from = i + 4;
    if (i > 0 && patch.charCodeAt(i - 1) !== 10) continue; // only at a line start
    let eol = patch.indexOf('\n', i);
    if (eol < 0) eol = patch.length;
    const line = patch.slice(i + 4, eol);
    const m = /^(?:(?:Add|Update|Delete) File|Move to):\s*(.*?)\s*$/.exec(line);
    if (m?.[1] && !out.includes(m[1])) out.push(m[1]);
  }
  return out;
}

function parseArgs(args: unknown): unknown {
  if (typeof args !== 'string') return args;
  const t = args.trimStart();
  if (t.startsWith('{') || t.startsWith('[')) {
    try {
      return JSON.parse(args);
    } catch {
      return args;
    }
  }
  return args;
}

/** A patch text among the arguments (a string, {input|patch|content}, or a command array/string holding one). */
function findPatch(a: unknown): string | null {
  if (typeof a === 'string') return a.includes(BEGIN_PATCH) ? a : null;
  if (Array.isArray(a)) {
    for (const x of a) {
      const p = findPatch(x);
      if (p) return p;
    }
    return null;
  }
  if (a && typeof a === 'object') {
    const o = a as Record<string, unknown>;
    for (const k of ['input', 'patch', 'command', 'cmd', 'content', 'script', 'args']) {
      if (k in o) {
        const p = findPatch(o[k]);
        if (p) return p;
      }
    }
    // local_shell_call: { action: { command: [...] } }
    if (o.action) return findPatch(o.action);
  }
  return null;
}

/**
 * The file paths a complete tool call names. `args` is the call's arguments: the JSON text (possibly malformed), a parsed
 * object, or a raw string (a custom tool's input, e.g. an apply_patch patch).
 */
export function intentsFromToolCall(tool: string, args: unknown): Intent[] {
  if (!tool) return [];
  const a = parseArgs(args);
  if (PATCH_TOOL.test(tool) || SHELL_TOOL.test(tool)) {
    const patch = findPatch(a);
    return patch ? patchPaths(patch).map((path) => ({ tool, path })) : [];
  }
  if (tool === 'NotebookEdit') return one(tool, pick(a, args, ['notebook_path']));
  if (CLAUDE_FILE_PATH.has(tool)) return one(tool, pick(a, args, ['file_path']));
  if (!WRITE_LIKE.test(tool) || NOT_A_FILE.test(tool)) return [];
  if (a && typeof a === 'object' && typeof (a as any).command === 'string' && READ_COMMANDS.has((a as any).command)) return [];
  return one(tool, pick(a, args, PATH_KEYS));
}

function one(tool: string, path: string | null): Intent[] {
  return path ? [{ tool, path }] : [];
}

/** The first non-empty string among `keys`; falls back to a regex over malformed JSON text. */
function pick(a: unknown, raw: unknown, keys: string[]): string | null {
  if (a && typeof a === 'object' && !Array.isArray(a)) {
    for (const k of keys) {
      const v = (a as Record<string, unknown>)[k];
      if (typeof v === 'string' && v.length > 0) return v;
    }
    return null;
  }
  if (typeof raw === 'string') {
    // Malformed / truncated JSON: look for the key textually.
    for (const k of keys) {
      const m = new RegExp(`"${k}"\\s*:\\s*"((?:[^"\\\\]|\\\\.)*)"`).exec(raw);
      if (m) {
        try {
          const v = JSON.parse(`"${m[1]}"`);
          if (typeof v === 'string' && v.length > 0) return v;
        } catch {
          /* ignore */
        }
      }
    }
  }
  return null;
}
