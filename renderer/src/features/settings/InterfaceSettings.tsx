// Settings → Interface: terminal font and screen-reader mode, the theme, grid scrollback, the editor and terminal the
// tile menu opens, and keybinding overrides (one `command.id: Ctrl+Shift+K` per line; only Ctrl+Shift / Cmd chords).
import { useState } from 'react';
import type { Settings, UiSettings } from '../../../../electron/shared/contract.ts';
import { useStore } from '../../store/index.ts';
import { terminals } from '../terminal/index.ts';

/** What `auto` picks here and why, e.g. "DOM (software GL: SwiftShader)". */
function rendererNote(): string {
  const gl = terminals.glRenderer();
  if (gl === null) return 'DOM (no WebGL)';
  const short = gl.replace(/^ANGLE \((.*)\)$/, '$1').slice(0, 60);
  return terminals.autoPicksWebgl() ? `WebGL (${short})` : `DOM (software GL: ${short})`;
}

export function InterfaceSettings({ settings, busy, save }: { settings: Settings; busy: boolean; save(s: Settings, what: string): void }) {
  const ui = settings.ui ?? {};
  const [font, setFont] = useState(String(ui.terminalFontSize ?? ''));
  const [theme, setTheme] = useState(ui.theme ?? 'system');
  const [reader, setReader] = useState(ui.screenReader ?? false);
  const [renderer, setRenderer] = useState(ui.terminalRenderer ?? 'auto');
  const [scrollback, setScrollback] = useState(String(ui.gridScrollback ?? ''));
  const [refresh, setRefresh] = useState(String(ui.backgroundRefreshMs ?? ''));
  const [editor, setEditor] = useState(ui.editor ?? '');
  const [terminal, setTerminal] = useState(ui.terminal ?? '');
  const [keys, setKeys] = useState(
    Object.entries(ui.keybindings ?? {})
      .map(([id, chord]) => `${id}: ${chord ?? 'none'}`)
      .join('\n'),
  );
  const problems = useStore((s) => s.keybindingProblems);

  const submit = () => {
    const next: UiSettings = { theme };
    const int = (text: string, label: string, min: number, max: number) => {
      if (!text.trim()) return undefined;
      const n = Number(text);
      if (!Number.isInteger(n) || n < min || n > max)
        throw new Error(`${label}: '${text}' must be a whole number from ${min} to ${max} (or empty for the default)`);
      return n;
    };
    next.terminalFontSize = int(font, 'Terminal font size', 8, 32);
    next.gridScrollback = int(scrollback, 'Grid scrollback', 100, 100_000);
    next.backgroundRefreshMs = int(refresh, 'Background tiles refresh', 100, 5000);
    if (reader) next.screenReader = true;
    if (renderer !== 'auto') next.terminalRenderer = renderer;
    if (editor.trim()) next.editor = editor.trim();
    if (terminal.trim()) next.terminal = terminal.trim();
    const bindings: Record<string, string | null> = {};
    for (const [i, line] of keys.split('\n').entries()) {
      if (!line.trim()) continue;
      const m = /^\s*([a-z][\w.]*)\s*:\s*(.+?)\s*$/.exec(line);
      if (!m) throw new Error(`Keybindings line ${i + 1}: write it as command.id: Ctrl+Shift+K (or: none)`);
      bindings[m[1]!] = m[2] === 'none' ? null : m[2]!;
    }
    if (Object.keys(bindings).length) next.keybindings = bindings;
    for (const k of Object.keys(next) as (keyof UiSettings)[]) if (next[k] === undefined) delete next[k];
    save({ ...settings, ui: next }, 'Interface saved.');
  };

  return (
    <section className="settings-section" data-testid="settings-interface">
      <h3>Interface</h3>
      <label className="settings-field">
        <span>Terminal font size (px)</span>
        <input
          inputMode="numeric"
          placeholder="12"
          value={font}
          data-testid="settings-font-size"
          onChange={(e) => setFont(e.target.value)}
        />
      </label>
      <label className="settings-field">
        <span>Theme</span>
        <select value={theme} data-testid="settings-theme" onChange={(e) => setTheme(e.target.value as typeof theme)}>
          <option value="system">follow the OS</option>
          <option value="dark">dark</option>
          <option value="light">light</option>
        </select>
      </label>
      <label className="settings-field checkbox">
        <input type="checkbox" checked={reader} data-testid="settings-screen-reader" onChange={(e) => setReader(e.target.checked)} />
        <span>Screen-reader mode in terminals</span>
      </label>
      <label
        className="settings-field"
        title="WebGL is fastest on a GPU; with software GL (no GPU, VMs, remote desktops) the DOM renderer costs far less"
      >
        <span>Terminal renderer</span>
        <select value={renderer} data-testid="settings-renderer" onChange={(e) => setRenderer(e.target.value as typeof renderer)}>
          <option value="auto">auto: {rendererNote()}</option>
          <option value="webgl">WebGL</option>
          <option value="dom">DOM</option>
        </select>
      </label>
      <label className="settings-field" title="Lines a grid tile keeps; the focused tile keeps 10 000 and the engine the rest">
        <span>Grid scrollback (lines)</span>
        <input
          inputMode="numeric"
          placeholder="1000"
          value={scrollback}
          data-testid="settings-scrollback"
          onChange={(e) => setScrollback(e.target.value)}
        />
      </label>
      <label
        className="settings-field"
        title="How often tiles other than the focused one draw small outputs (spinners, streamed text); a flood and the focused tile are drawn at once. Higher is lighter."
      >
        <span>Background tiles refresh (ms)</span>
        <input
          inputMode="numeric"
          placeholder="500"
          value={refresh}
          data-testid="settings-background-refresh"
          onChange={(e) => setRefresh(e.target.value)}
        />
      </label>
      <label className="settings-field" title="The worktree's path is appended; default $VISUAL, $EDITOR, then code">
        <span>Editor command</span>
        <input
          placeholder="$VISUAL / $EDITOR / code"
          value={editor}
          data-testid="settings-editor"
          onChange={(e) => setEditor(e.target.value)}
        />
      </label>
      <label className="settings-field" title="Run in the worktree; default $TERMINAL, then the desktop's terminal">
        <span>Terminal command</span>
        <input placeholder="$TERMINAL" value={terminal} data-testid="settings-terminal" onChange={(e) => setTerminal(e.target.value)} />
      </label>
      <label className="settings-field wide">
        <span>Keybindings (command.id: Ctrl+Shift+K, or none)</span>
        <textarea
          rows={3}
          value={keys}
          data-testid="settings-keybindings"
          placeholder="session.stop: Ctrl+Shift+X"
          onChange={(e) => setKeys(e.target.value)}
        />
      </label>
      {problems.length > 0 && (
        <ul className="error" data-testid="settings-key-problems">
          {problems.map((p) => (
            <li key={p}>{p}</li>
          ))}
        </ul>
      )}
      <div className="settings-actions">
        <button className="btn primary" disabled={busy} data-testid="settings-save-interface" onClick={submit}>
          Save interface
        </button>
      </div>
    </section>
  );
}
