// Which program "Open in editor" and "Open terminal here" start, from settings and the environment; real processes
// for the start itself.
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { appEnv, editorLaunch, openWorktree, splitCommandLine, terminalLaunch } from '../../electron/engine/open-in.ts';
import { tempDir } from '../fixtures/repo.ts';
import { waitFor } from '../fixtures/wait.ts';

const none = () => false;

describe('open in', () => {
  it('splits command lines like a shell for the simple cases', () => {
    expect(splitCommandLine('code --wait')).toEqual(['code', '--wait']);
    expect(splitCommandLine(`"/Applications/My Editor" -n 'a b' c\\ d ""`)).toEqual(['/Applications/My Editor', '-n', 'a b', 'c d', '']);
    expect(() => splitCommandLine('code "x')).toThrow(/unclosed/);
  });

  it('editor: settings, then $VISUAL, $EDITOR, code; --wait dropped; terminal editors open in a terminal', () => {
    const env = { VISUAL: 'code --wait', EDITOR: 'vim' };
    expect(editorLaunch('/w', { platform: 'linux', env, has: none })).toEqual({ command: 'code', args: ['/w'], cwd: '/w' });
    expect(editorLaunch('/w', { platform: 'linux', env, has: none, configured: 'subl -n' })).toEqual({
      command: 'subl',
      args: ['-n', '/w'],
      cwd: '/w',
    });
    expect(editorLaunch('/w', { platform: 'linux', env: { EDITOR: 'nvim' }, has: (p) => p === 'kitty' })).toEqual({
      command: 'kitty',
      args: ['--directory', '/w', 'nvim', '/w'],
      cwd: '/w',
    });
    expect(editorLaunch('/w', { platform: 'linux', env: {}, has: (p) => p === 'code' })).toEqual({
      command: 'code',
      args: ['/w'],
      cwd: '/w',
    });
    expect(() => editorLaunch('/w', { platform: 'linux', env: {}, has: none })).toThrow(/set \$VISUAL or \$EDITOR/);
  });

  it('terminal: settings, then $TERMINAL, then the desktop terminal found on PATH', () => {
    expect(terminalLaunch('/w', { platform: 'linux', env: { TERMINAL: 'alacritty' }, has: none })).toEqual({
      command: 'alacritty',
      args: [],
      cwd: '/w',
    });
    expect(terminalLaunch('/w', { platform: 'linux', env: {}, has: (p) => p === 'gnome-terminal' })).toEqual({
      command: 'gnome-terminal',
      args: ['--working-directory=/w'],
      cwd: '/w',
    });
    expect(terminalLaunch('/w', { platform: 'darwin', env: {}, has: none })).toEqual({
      command: 'open',
      args: ['-a', 'Terminal', '/w'],
      cwd: '/w',
    });
    expect(() => terminalLaunch('/w', { platform: 'linux', env: {}, has: none })).toThrow(/set \$TERMINAL/);
  });

  it('starts the program detached in the worktree, without the provider keys; a missing one says what to do', async () => {
    const dir = tempDir();
    const out = join(dir, 'seen.json');
    const editor = join(dir, 'fake-editor');
    writeFileSync(
      editor,
      `#!/usr/bin/env node\nrequire('fs').writeFileSync(${JSON.stringify(out)}, JSON.stringify({ argv: process.argv.slice(2), cwd: process.cwd(), key: process.env.MOONSHOT_API_KEY ?? null }))\n`,
    );
    chmodSync(editor, 0o755);
    const r = await openWorktree(dir, 'editor', { platform: 'linux', env: { ...process.env, MOONSHOT_API_KEY: 'sk-secret' }, editor });
    expect(r.command).toBe(`${editor} ${dir}`);
    await waitFor(() => existsSync(out) && readFileSync(out, 'utf8').length > 0, 'the editor to run');
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual({ argv: [dir], cwd: dir, key: null });
    await expect(openWorktree(dir, 'editor', { platform: 'linux', env: process.env, editor: 'no-such-editor-xyz' })).rejects.toThrow(
      /'no-such-editor-xyz' is not installed or not on PATH/,
    );
    expect(appEnv({ PATH: '/bin', MOONSHOT_API_KEY: 'x', ANTHROPIC_AUTH_TOKEN: 'y', FLOTILLA_HOME: 'z', GH_TOKEN: 'g' })).toEqual({
      PATH: '/bin',
      GH_TOKEN: 'g',
    });
  });
});
