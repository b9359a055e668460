// `flotilla` — the dispatcher. Every command is one declaration (electron/cli/commands/): its usage, help, options and
// handler. From those it answers --help, --version and usage errors (exit 2, with "did you mean") by itself; the
// engine (node-pty, SQLite) loads only inside the handler of the command that runs.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { closest, commandHelp, fail, overview } from './cli/command.ts';
import { COMMANDS } from './cli/commands/index.ts';

const here = dirname(fileURLToPath(import.meta.url));

/** The version in package.json (electron/ from source, dist/electron/ bundled: the root is two levels up either way). */
export function version(): string {
  for (const p of [resolve(here, '..', 'package.json'), resolve(here, '..', '..', 'package.json')]) {
    try {
      const pkg = JSON.parse(readFileSync(p, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'flotilla' && pkg.version) return pkg.version;
    } catch {
      /* next */
    }
  }
  return 'unknown';
}

const byName = new Map(COMMANDS.map((c) => [c.name, c]));

export async function main(argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === 'help' || cmd === '--help' || cmd === '-h') {
    const topic = cmd === 'help' && rest[0] ? byName.get(rest[0]) : undefined;
    process.stdout.write(`${topic ? commandHelp(topic) : overview(COMMANDS, version())}\n`);
    return;
  }
  if (cmd === '--version' || cmd === '-v' || cmd === 'version') return void process.stdout.write(`${version()}\n`);
  const command = byName.get(cmd);
  if (!command) {
    const guess = closest(cmd, [...byName.keys()]);
    fail(`unknown command '${cmd}'${guess ? ` — did you mean '${guess}'?` : ''} (see: flotilla --help)`);
  }
  if (rest.includes('--help') || rest.includes('-h')) return void process.stdout.write(`${commandHelp(command)}\n`);
  try {
    await command.invoke(rest);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    // node:util parseArgs: an unknown option, or one missing its value — a usage error.
    if (typeof e.code === 'string' && e.code.startsWith('ERR_PARSE_ARGS')) {
      const flag = /'(-[-\w]+)/.exec(e.message)?.[1];
      const guess = flag ? closest(flag, command.flags) : null;
      fail(`${e.message.replace(/\. To specify.*$/s, '')}${guess ? ` — did you mean ${guess}?` : ''} (see: flotilla ${cmd} --help)`);
    }
    const { toApiError } = await import('./engine/errors.ts');
    fail(toApiError(err).message, 1);
  }
}
