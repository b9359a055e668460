// The desktop app takes the login shell's environment once (electron/main/shell-env.ts): with a real bash and a real
// HOME whose rc files add to PATH and print noise, a minimal launcher environment gets the user's PATH and variables.
import { describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loginShellEnv, parseEnv0 } from '../../electron/main/shell-env.ts';
import { tempDir } from '../fixtures/repo.ts';

describe('login shell environment', () => {
  it('a launcher-minimal environment gets PATH and variables from the login shell; rc noise is ignored', async () => {
    const home = tempDir('flotilla-shell-home-');
    const tools = join(home, '.local', 'agent-tools');
    mkdirSync(tools, { recursive: true });
    writeFileSync(
      join(home, '.bash_profile'),
      `echo "welcome to the shell"\nexport PATH="${tools}:$PATH"\nexport FLOTILLA_FROM_PROFILE=yes\n`,
    );
    const minimal = { HOME: home, PATH: '/usr/bin:/bin', SHELL: '/bin/bash', ELECTRON_RUN_AS_NODE: '1' };
    const env = await loginShellEnv(minimal);
    expect(env.PATH!.split(':')[0]).toBe(tools);
    expect(env.PATH).toContain('/usr/bin');
    expect(env.FLOTILLA_FROM_PROFILE).toBe('yes');
    expect(env.ELECTRON_RUN_AS_NODE).toBe('1'); // the app's own variables stay
    expect(Object.keys(env)).not.toContain('welcome to the shell');
  });

  it('keeps the given environment when the shell fails, hangs or does not exist', async () => {
    const home = tempDir('flotilla-shell-home-');
    writeFileSync(join(home, '.bash_profile'), 'sleep 30\n');
    const base = { HOME: home, PATH: '/usr/bin:/bin', SHELL: '/bin/bash' };
    expect(await loginShellEnv(base, { timeoutMs: 300 })).toEqual(base);
    expect(await loginShellEnv({ ...base, SHELL: '/nonexistent/shell' })).toEqual({ ...base, SHELL: '/nonexistent/shell' });
    expect(parseEnv0('no marks here')).toEqual({});
    expect(parseEnv0('noise__FLOTILLA_ENV__A=1\0B=x=y\0__FLOTILLA_ENV__more')).toEqual({ A: '1', B: 'x=y' });
  });
});
