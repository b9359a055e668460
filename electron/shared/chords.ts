// Key chords as strings ("Ctrl+Shift+P", "Cmd+Shift+P"), from KeyboardEvents and from settings, and the rule that
// keeps the agents' keys theirs: the app may bind only chords with Ctrl+Shift (Cmd on macOS). Every key without Shift
// that a terminal program can receive — Esc, Ctrl+C, Ctrl+L, Ctrl+J, Ctrl+R, arrows, Tab, F-keys — goes to the agent.
// Pure functions (no DOM, no Node): the dashboard reads key events with them, the engine checks settings.json.

export interface KeyLike {
  code: string;
  key: string;
  ctrlKey: boolean;
  shiftKey: boolean;
  altKey: boolean;
  metaKey: boolean;
}

const CODE_NAMES: Record<string, string> = {
  Escape: 'Esc',
  Equal: '=',
  Minus: '-',
  Comma: ',',
  Period: '.',
  Slash: '/',
  Backslash: '\\',
  Semicolon: ';',
  Quote: "'",
  BracketLeft: '[',
  BracketRight: ']',
  Backquote: '`',
  Space: 'Space',
  Enter: 'Enter',
  NumpadEnter: 'Enter',
  Tab: 'Tab',
  Backspace: 'Backspace',
  Delete: 'Delete',
  ArrowUp: 'Up',
  ArrowDown: 'Down',
  ArrowLeft: 'Left',
  ArrowRight: 'Right',
  NumpadAdd: '=',
  NumpadSubtract: '-',
};

/** The key's name by its physical position (layout-independent, so Shift+1 is still "1"). */
function keyName(code: string): string | null {
  if (/^Key[A-Z]$/.test(code)) return code.slice(3);
  if (/^Digit[0-9]$/.test(code)) return code.slice(5);
  if (/^Numpad[0-9]$/.test(code)) return code.slice(6);
  if (/^F([1-9]|1[0-9]|2[0-4])$/.test(code)) return code;
  return CODE_NAMES[code] ?? null;
}

const ORDER = ['Ctrl', 'Alt', 'Shift', 'Cmd'] as const;
type Mod = (typeof ORDER)[number];

/** "Ctrl+Shift+P" from a key event; null for a lone modifier or an unknown key. */
export function chordOf(e: KeyLike): string | null {
  const k = keyName(e.code);
  if (!k) return null;
  const mods: Mod[] = [];
  if (e.ctrlKey) mods.push('Ctrl');
  if (e.altKey) mods.push('Alt');
  if (e.shiftKey) mods.push('Shift');
  if (e.metaKey) mods.push('Cmd');
  return [...mods, k].join('+');
}

const ALIASES: Record<string, Mod> = {
  ctrl: 'Ctrl',
  control: 'Ctrl',
  alt: 'Alt',
  option: 'Alt',
  opt: 'Alt',
  shift: 'Shift',
  cmd: 'Cmd',
  command: 'Cmd',
  meta: 'Cmd',
  super: 'Cmd',
  win: 'Cmd',
};
const KEY_ALIASES: Record<string, string> = {
  escape: 'Esc',
  esc: 'Esc',
  plus: '=',
  minus: '-',
  up: 'Up',
  down: 'Down',
  left: 'Left',
  right: 'Right',
  return: 'Enter',
  enter: 'Enter',
  space: 'Space',
  tab: 'Tab',
};

/**
 * A chord as settings or the registry write it, normalized: "mod+shift+p" → "Ctrl+Shift+P" (Linux, Windows) or
 * "Cmd+Shift+P" (macOS). `Mod` is Ctrl or Cmd by platform. Throws naming the chord when it cannot be read.
 */
export function normalizeChord(text: string, mac: boolean): string {
  const parts = text.split('+').map((p) => p.trim());
  // "Ctrl+Shift++" and "Ctrl+=": the key itself may be '+' (spelled as its key, '=').
  if (parts.length > 1 && parts[parts.length - 1] === '' && parts[parts.length - 2] === '') parts.splice(-2, 2, '=');
  const key = parts.pop();
  if (!key) throw new Error(`'${text}' names no key — write it like Ctrl+Shift+P`);
  const mods = new Set<Mod>();
  for (const p of parts) {
    const m = p.toLowerCase() === 'mod' ? (mac ? 'Cmd' : 'Ctrl') : ALIASES[p.toLowerCase()];
    if (!m) throw new Error(`'${p}' in '${text}' is not a modifier — use Ctrl, Shift, Alt, Cmd or Mod`);
    mods.add(m);
  }
  let k = KEY_ALIASES[key.toLowerCase()] ?? (key.length === 1 ? key.toUpperCase() : key);
  if (/^f\d{1,2}$/i.test(k)) k = k.toUpperCase();
  if (!(/^[A-Z0-9]$/.test(k) || /^F\d{1,2}$/.test(k) || Object.values(CODE_NAMES).includes(k)))
    throw new Error(`'${key}' in '${text}' is not a key name`);
  return [...ORDER.filter((m) => mods.has(m)), k].join('+');
}

/**
 * Whether the app may take this chord from the terminals: Ctrl+Shift+… (Cmd+… on macOS, where no terminal program
 * receives Cmd). Anything else belongs to the focused agent.
 */
export function appMayBind(chord: string, mac: boolean): boolean {
  const mods = new Set(chord.split('+').slice(0, -1));
  return mac ? mods.has('Cmd') : mods.has('Ctrl') && mods.has('Shift') && !mods.has('Cmd');
}

/** How a chord reads on this platform (⌘⇧P on macOS). */
export function displayChord(chord: string, mac: boolean): string {
  if (!mac) return chord;
  const sym: Record<string, string> = { Ctrl: '⌃', Alt: '⌥', Shift: '⇧', Cmd: '⌘' };
  return chord
    .split('+')
    .map((p, i, all) => (i < all.length - 1 ? (sym[p] ?? p) : p))
    .join('');
}
