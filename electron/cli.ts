// `flotilla` — the dispatcher. It knows every command's usage and options, answers --help, --version and usage errors
// (exit 2, with "did you mean") by itself, and loads the commands module (the engine, node-pty, SQLite) only to run one.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

interface CommandHelp {
  usage: string;
  about: string;
  options: [flag: string, what: string][];
  example: string;
}

const DATA_DIR: [string, string] = ['--data-dir DIR', 'the data dir (default $FLOTILLA_HOME, else ~/.flotilla)'];

export const HELP: Record<string, CommandHelp> = {
  open: {
    usage: 'flotilla open [--data-dir DIR] [--port N] [--no-browser]',
    about:
      "The data dir's engine in the background: if one runs, print its URL; otherwise start one detached (it outlives this\nterminal; its sessions go on when the window closes), wait until it answers, print the URL, open the dashboard.",
    options: [DATA_DIR, ['--port N', 'the port a new engine listens on (default: a free one)'], ['--no-browser', 'print the URL only']],
    example: 'flotilla open --no-browser',
  },
  status: {
    usage: 'flotilla status [--data-dir DIR] [--json]',
    about: 'Whether an engine runs for the data dir, since when, its URL, how many sessions are live or need you (exit 3: none runs).',
    options: [DATA_DIR, ['--json', 'one JSON document on stdout']],
    example: 'flotilla status --json',
  },
  stop: {
    usage: 'flotilla stop [--data-dir DIR]',
    about: "Stop the data dir's engine and its sessions (agents get SIGTERM, then SIGKILL after the grace period).",
    options: [DATA_DIR],
    example: 'flotilla stop',
  },
  serve: {
    usage: 'flotilla serve [--port N] [--host 127.0.0.1] [--data-dir DIR]',
    about: 'The engine in the foreground (remote boxes, scripts): print the dashboard URL with its token, run until Ctrl-C.\nRefused when the data dir already has an engine.',
    options: [['--port N', '0–65535 (default 0: a free one)'], ['--host H', 'a loopback address only (default 127.0.0.1)'], DATA_DIR],
    example: 'flotilla serve --port 7420',
  },
  demo: {
    usage: 'flotilla demo [--count N] [--port N] [--data-dir DIR]',
    about: 'No API key needed: serve with a built-in SIMULATED K2 provider and launch demo agents that edit a scratch repository.',
    options: [['--count N', 'demo agents, 1–16 (default 6)'], ['--port N', 'as for serve'], DATA_DIR],
    example: 'flotilla demo --count 4',
  },
  run: {
    usage: 'flotilla run <template.yaml> [--repo DIR] [--count N] [--data-dir DIR] [--json]',
    about: 'Launch a run headless, wait until every session has ended, print a report. Exit 0 only if every session is done.',
    options: [['--repo DIR', "the repository (instead of the template's repo)"], ['--count N', 'sessions (1–64)'], DATA_DIR, ['--json', 'the report (or the error) as one JSON document on stdout']],
    example: 'flotilla run .flotilla/templates/lint.yaml --json',
  },
  runs: {
    usage: 'flotilla runs [--data-dir DIR] [--json]',
    about: "Earlier runs with their sessions' final state and worktrees.",
    options: [DATA_DIR, ['--json', 'one JSON document on stdout']],
    example: 'flotilla runs',
  },
  clean: {
    usage: 'flotilla clean <run-id> [--dry-run] [--yes] [--data-dir DIR]',
    about: "Remove a run's worktrees and branches. Asks first when a worktree holds uncommitted work (refused without a terminal).",
    options: [['--dry-run', 'list what would be removed, and which worktrees hold uncommitted work'], ['--yes', 'do not ask'], DATA_DIR],
    example: 'flotilla clean 7f3c… --dry-run',
  },
  doctor: {
    usage: 'flotilla doctor [--data-dir DIR] [--json]',
    about: 'Check git, agent binaries, provider keys (in the environment or saved in the data dir) and the data dir.',
    options: [DATA_DIR, ['--json', '{ok, checks: [{name, ok, required, detail}]} on stdout']],
    example: 'flotilla doctor --json',
  },
  budget: {
    usage: 'flotilla budget <session-or-run-id> <usd> [--data-dir DIR]   |   flotilla budget <session-id> --decline',
    about: "Set (raise or lower) a session's or a run's budget; held requests it covers go on at once. --decline answers the\nsession's held requests with the budget error instead.",
    options: [DATA_DIR, ['--decline', 'answer the held requests with the budget error']],
    example: 'flotilla budget 2b9e… 5',
  },
  logs: {
    usage: 'flotilla logs [--data-dir DIR] [-n N] [--follow]',
    about: "The engine's log (logs/engine.log in the data dir, rotated at 5 MB, secrets scrubbed): the last lines, or follow it.",
    options: [DATA_DIR, ['-n, --lines N', 'how many lines (default 50)'], ['-f, --follow', 'keep printing what is appended']],
    example: 'flotilla logs -n 200',
  },
  probe: {
    usage:
      'flotilla probe [template.yaml] [--provider P] [--model M] [--compat C] [--rules-on R,…] [--rules-off R,…]\n               [--base-url URL] [--key-env VAR] [--json]',
    about: "Send Claude Code's request shapes to the real provider, as sent and through the compatibility profile: which it\naccepts, which rules it needs, what the probe cost. Exit 0 when the profile makes every shape pass.",
    options: [
      ['--provider P', 'a provider preset (default moonshot)'],
      ['--model M', 'the model to probe'],
      ['--compat C', 'a compat profile'],
      ['--rules-on R,…', 'compat rules to add to the profile'],
      ['--rules-off R,…', 'compat rules to leave out'],
      ['--base-url URL', "the provider's Anthropic-style base URL"],
      ['--key-env VAR', 'the environment variable holding the key'],
      DATA_DIR,
      ['--json', 'the report as one JSON document on stdout'],
    ],
    example: 'flotilla probe --provider moonshot --model kimi-k2.7-code',
  },
};

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

function overview(): string {
  const width = Math.max(...Object.values(HELP).map((h) => h.usage.split('\n')[0]!.length));
  const lines = Object.values(HELP).map((h) => `  ${h.usage.split('\n')[0]!.padEnd(Math.min(width, 70))}`);
  return `flotilla ${version()} — run many coding agents at once, and see what each one costs

Usage:
${lines.join('\n')}

  flotilla <command> --help    a command's options and an example
  flotilla --version

The data dir defaults to $FLOTILLA_HOME or ~/.flotilla.`;
}

export function commandHelp(name: string): string {
  const h = HELP[name]!;
  const w = Math.max(...h.options.map(([f]) => f.length));
  return `${h.usage}\n\n${h.about}\n\nOptions:\n${h.options.map(([f, what]) => `  ${f.padEnd(w)}  ${what}`).join('\n')}\n  ${'--help'.padEnd(w)}  this help\n\nExample:\n  ${h.example}`;
}

/** The closest of `choices` to `word` (edit distance ≤ 2, or a prefix), for "did you mean". */
export function closest(word: string, choices: readonly string[]): string | null {
  const dist = (a: string, b: string) => {
    const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
    for (let j = 1; j <= b.length; j++) d[0]![j] = j;
    for (let i = 1; i <= a.length; i++)
      for (let j = 1; j <= b.length; j++) d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    return d[a.length]![b.length]!;
  };
  let best: string | null = null;
  let bestD = Infinity;
  for (const c of choices) {
    const dd = c.startsWith(word) && word.length >= 2 ? 0.5 : dist(word, c);
    if (dd < bestD) [best, bestD] = [c, dd];
  }
  return bestD <= 2 ? best : null;
}

function usageError(message: string): never {
  process.stderr.write(`flotilla: ${message}\n`);
  process.exit(2);
}

/** Options a command accepts, from its help (for "did you mean" on an unknown one). */
function optionsOf(name: string): string[] {
  return [...HELP[name]!.options.map(([f]) => f.split(' ')[0]!), '--help'];
}

export async function main(argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === 'help' || cmd === '--help' || cmd === '-h') {
    const topic = cmd === 'help' ? rest[0] : undefined;
    process.stdout.write(`${topic && HELP[topic] ? commandHelp(topic) : overview()}\n`);
    return;
  }
  if (cmd === '--version' || cmd === '-v' || cmd === 'version') return void process.stdout.write(`${version()}\n`);
  if (!HELP[cmd]) {
    const guess = closest(cmd, Object.keys(HELP));
    usageError(`unknown command '${cmd}'${guess ? ` — did you mean '${guess}'?` : ''} (see: flotilla --help)`);
  }
  if (rest.includes('--help') || rest.includes('-h')) return void process.stdout.write(`${commandHelp(cmd)}\n`);
  const { COMMANDS, fail } = await import('./cli/commands.ts');
  try {
    await COMMANDS[cmd]!(rest);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    // node:util parseArgs: an unknown option, or one missing its value — a usage error.
    if (typeof e.code === 'string' && e.code.startsWith('ERR_PARSE_ARGS')) {
      const flag = /'(-[-\w]+)/.exec(e.message)?.[1];
      const guess = flag ? closest(flag, optionsOf(cmd)) : null;
      usageError(`${e.message.replace(/\. To specify.*$/s, '')}${guess ? ` — did you mean ${guess}?` : ''} (see: flotilla ${cmd} --help)`);
    }
    const { toApiError } = await import('./engine/errors.ts');
    fail(toApiError(err).message, 1);
  }
}
