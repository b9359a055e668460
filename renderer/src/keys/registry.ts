// One keybinding registry: command id → title, keys per platform, handler. It feeds the global key handler, the
// command palette and its shortcut sheet, the buttons' titles and user overrides (settings.json ui.keybindings).
// The app binds only Ctrl+Shift (Cmd on macOS) chords: every other key belongs to the focused agent (shared/chords.ts).
import { appMayBind, chordOf, displayChord, normalizeChord, type KeyLike } from '../../../electron/shared/chords.ts';

export interface AppCommandDef {
  id: string;
  title: string;
  /** Palette group ("Session", "Run", "View", …). */
  category: string;
  /** Default chord, "Mod" = Ctrl (Linux, Windows) or Cmd (macOS); e.g. "Mod+Shift+P". */
  keys?: string;
  /** Hidden from the palette (e.g. the palette's own key). */
  hidden?: boolean;
  /** Whether it can run now (a session is focused, a run is shown…); the palette greys the others out. */
  enabled?: () => boolean;
  run: () => void | Promise<void>;
}

export const isMac = typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent);

export class Keymap {
  private readonly byChord = new Map<string, AppCommandDef>();
  private readonly chordOfId = new Map<string, string>();
  /** Overrides that could not apply, in words for the Settings panel. */
  readonly problems: string[] = [];

  constructor(
    readonly commands: readonly AppCommandDef[],
    overrides: Record<string, string | null> = {},
    readonly mac = isMac,
  ) {
    const ids = new Set(commands.map((c) => c.id));
    for (const id of Object.keys(overrides)) if (!ids.has(id)) this.problems.push(`${id}: no such command`);
    for (const c of commands) {
      const wanted = Object.hasOwn(overrides, c.id) ? overrides[c.id] : c.keys;
      if (!wanted) continue;
      let chord: string;
      try {
        chord = normalizeChord(wanted, mac);
      } catch (err) {
        this.problems.push(`${c.id}: ${(err as Error).message}`);
        continue;
      }
      if (!appMayBind(chord, mac)) {
        this.problems.push(`${c.id}: ${chord} belongs to the agents — use ${mac ? 'Cmd' : 'Ctrl+Shift'}+…`);
        continue;
      }
      const taken = this.byChord.get(chord);
      if (taken) {
        this.problems.push(`${c.id}: ${chord} is already ${taken.id}'s`);
        continue;
      }
      this.byChord.set(chord, c);
      this.chordOfId.set(c.id, chord);
    }
  }

  /** The command a key event triggers, if any (never for a key an agent may receive). */
  commandFor(e: KeyLike): AppCommandDef | null {
    const chord = chordOf(e);
    return chord ? (this.byChord.get(chord) ?? null) : null;
  }

  /** The chord bound to a command, as it reads on this platform ("Ctrl+Shift+P", "⌘⇧P"), or null. */
  keysOf(id: string): string | null {
    const c = this.chordOfId.get(id);
    return c ? displayChord(c, this.mac) : null;
  }

  get(id: string): AppCommandDef | undefined {
    return this.commands.find((c) => c.id === id);
  }
}
