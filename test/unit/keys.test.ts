// The keybinding rules and the palette's matching: agent keys stay the agents', app chords are Ctrl+Shift (Cmd on
// macOS), overrides that break the rule are refused with a reason, fuzzy matching ranks what was typed first.
import { describe, expect, it } from 'vitest';
import { appMayBind, chordOf, displayChord, normalizeChord } from '../../electron/shared/chords.ts';
import { fuzzyMatch, rank } from '../../renderer/src/features/palette/fuzzy.ts';
import { Keymap, type AppCommandDef } from '../../renderer/src/keys/registry.ts';

const key = (code: string, mods: { ctrl?: boolean; shift?: boolean; alt?: boolean; meta?: boolean } = {}) => ({
  code,
  key: code,
  ctrlKey: !!mods.ctrl,
  shiftKey: !!mods.shift,
  altKey: !!mods.alt,
  metaKey: !!mods.meta,
});

describe('chords', () => {
  it('reads key events by physical key (Shift+1 is still 1)', () => {
    expect(chordOf(key('KeyP', { ctrl: true, shift: true }))).toBe('Ctrl+Shift+P');
    expect(chordOf(key('Digit1', { ctrl: true, shift: true }))).toBe('Ctrl+Shift+1');
    expect(chordOf(key('Equal', { meta: true, shift: true }))).toBe('Shift+Cmd+=');
    expect(chordOf(key('Escape'))).toBe('Esc');
    expect(chordOf(key('ShiftLeft', { shift: true }))).toBeNull();
  });

  it('normalizes what settings say, and names what it cannot read', () => {
    expect(normalizeChord('mod+shift+p', false)).toBe('Ctrl+Shift+P');
    expect(normalizeChord('Mod+Shift+P', true)).toBe('Shift+Cmd+P');
    expect(normalizeChord('shift + ctrl + escape', false)).toBe('Ctrl+Shift+Esc');
    expect(normalizeChord('Ctrl+Shift++', false)).toBe('Ctrl+Shift+=');
    expect(() => normalizeChord('Hyper+K', false)).toThrow(/'Hyper' in 'Hyper\+K' is not a modifier/);
    expect(() => normalizeChord('Ctrl+Shift+Banana', false)).toThrow(/not a key name/);
  });

  it('the app may bind only Ctrl+Shift (Cmd on macOS): Esc, Ctrl+C, Ctrl+L, Ctrl+J, Ctrl+R, F-keys stay the agents', () => {
    for (const agentKey of [
      'Esc',
      'Ctrl+C',
      'Ctrl+L',
      'Ctrl+J',
      'Ctrl+R',
      'Ctrl+1',
      'Tab',
      'Up',
      'F11',
      'Alt+B',
      'Shift+Tab',
      'Ctrl+Alt+P',
    ])
      expect(appMayBind(agentKey, false), agentKey).toBe(false);
    for (const app of ['Ctrl+Shift+P', 'Ctrl+Shift+1', 'Ctrl+Alt+Shift+P']) expect(appMayBind(app, false), app).toBe(true);
    expect(appMayBind('Cmd+P', true)).toBe(true);
    expect(appMayBind('Ctrl+Shift+P', true)).toBe(false);
    expect(displayChord('Shift+Cmd+P', true)).toBe('⇧⌘P');
  });
});

describe('Keymap', () => {
  const ran: string[] = [];
  const cmd = (id: string, keys?: string): AppCommandDef => ({ id, title: id, category: 'Test', keys, run: () => void ran.push(id) });
  const commands = [cmd('palette.open', 'Mod+Shift+P'), cmd('session.stop'), cmd('view.grid', 'Mod+Shift+G'), cmd('a.b', 'Mod+Shift+B')];

  it('finds the command of a chord, never one for an agent key', () => {
    const k = new Keymap(commands, {}, false);
    expect(k.commandFor(key('KeyP', { ctrl: true, shift: true }))?.id).toBe('palette.open');
    expect(k.commandFor(key('KeyP', { ctrl: true }))).toBeNull();
    expect(k.commandFor(key('Escape'))).toBeNull();
    expect(k.keysOf('view.grid')).toBe('Ctrl+Shift+G');
    expect(new Keymap(commands, {}, true).keysOf('view.grid')).toBe('⇧⌘G');
  });

  it('applies overrides; refuses agent keys, clashes and unknown commands with a reason', () => {
    const k = new Keymap(
      commands,
      { 'session.stop': 'Ctrl+Shift+X', 'view.grid': 'Escape', 'a.b': 'Ctrl+Shift+P', nope: 'Ctrl+Shift+N', 'palette.open': null },
      false,
    );
    expect(k.commandFor(key('KeyX', { ctrl: true, shift: true }))?.id).toBe('session.stop');
    expect(k.keysOf('view.grid')).toBeNull();
    expect(k.commandFor(key('Escape'))).toBeNull();
    // palette.open was unbound, so a.b may take Ctrl+Shift+P.
    expect(k.commandFor(key('KeyP', { ctrl: true, shift: true }))?.id).toBe('a.b');
    expect(k.problems).toEqual(['nope: no such command', 'view.grid: Esc belongs to the agents — use Ctrl+Shift+…']);
    const clash = new Keymap(commands, { 'a.b': 'Ctrl+Shift+P' }, false);
    expect(clash.problems).toEqual(["a.b: Ctrl+Shift+P is already palette.open's"]);
  });
});

describe('fuzzy', () => {
  it('matches subsequences, word starts and runs first; words in any order', () => {
    expect(fuzzyMatch('stp', 'Stop session')).not.toBeNull();
    expect(fuzzyMatch('xyz', 'Stop session')).toBeNull();
    expect(fuzzyMatch('session stop', 'Stop session · Session')).not.toBeNull();
    const titles = ['Restart session', 'Stop session', 'Set up tests', 'Stop run…'];
    expect(rank(titles, 'stop', (t) => t).map((r) => r.item)).toEqual(['Stop session', 'Stop run…']);
    expect(rank(titles, 'st', (t) => t)[0]!.item).toBe('Stop session');
    expect(rank(titles, '', (t) => t).map((r) => r.item)).toEqual(titles);
    expect(fuzzyMatch('ses', 'Reset session')!.positions).toEqual([6, 7, 8]);
  });
});
