// How a `flotilla` command is declared: its usage, help, options and handler in one object (defineCommand), from which
// the dispatcher derives --help, the overview, the option parse and "did you mean". Light on purpose: a command file
// imports this and node built-ins only at its top, and loads the engine (node-pty, SQLite) inside its handler, so
// `flotilla --help` and `<command> --help` load no native module.
import { type ParseArgsConfig, parseArgs } from 'node:util';

export interface OptionSpec {
  type: 'string' | 'boolean';
  /** The one-letter alias (-n). */
  short?: string;
  default?: string | boolean;
  /** The value's placeholder in the help (`--port N`). */
  value?: string;
  help: string;
}

type Options = Record<string, OptionSpec>;
/** What parseArgs answers for these options: strings (possibly absent unless defaulted), booleans. */
export type Values<O extends Options> = {
  [K in keyof O]: O[K]['type'] extends 'boolean' ? boolean : O[K] extends { default: string } ? string : string | undefined;
};

export interface CommandSpec<O extends Options> {
  name: string;
  /** The positional part of the usage line (`<template.yaml>`), if the command takes positionals. */
  args?: string;
  /** The usage line when the derived one does not say it all (two forms, say). */
  usage?: string;
  about: string;
  options: O;
  example: string;
  run(values: Values<O>, positionals: string[]): Promise<unknown>;
}

export interface Command {
  readonly name: string;
  readonly usage: string;
  readonly about: string;
  readonly example: string;
  /** [flag as the help shows it, what it does], in declaration order. */
  readonly optionLines: [string, string][];
  /** Every flag it accepts (for "did you mean"). */
  readonly flags: string[];
  /** Parses argv by the declaration and runs the handler (parseArgs' errors are usage errors: see cli.ts). */
  invoke(argv: string[]): Promise<unknown>;
}

/** Shared options, declared once. */
export const DATA_DIR = {
  type: 'string',
  value: 'DIR',
  help: 'the data dir (default $FLOTILLA_HOME, else ~/.flotilla)',
} as const satisfies OptionSpec;
export const JSON_OUT = { type: 'boolean', default: false, help: 'one JSON document on stdout' } as const satisfies OptionSpec;
export const PORT = { type: 'string', value: 'N', help: '0–65535 (default 0: a free one)' } as const satisfies OptionSpec;

const flagOf = (name: string, o: OptionSpec) => `${o.short ? `-${o.short}, ` : ''}--${name}${o.value ? ` ${o.value}` : ''}`;

export function defineCommand<O extends Options>(spec: CommandSpec<O>): Command {
  const entries = Object.entries(spec.options);
  const derived = [`flotilla ${spec.name}`, spec.args, ...entries.map(([n, o]) => `[--${n}${o.value ? ` ${o.value}` : ''}]`)]
    .filter(Boolean)
    .join(' ');
  return {
    name: spec.name,
    usage: spec.usage ?? derived,
    about: spec.about,
    example: spec.example,
    optionLines: entries.map(([n, o]) => [flagOf(n, o), o.help]),
    flags: [...entries.flatMap(([n, o]) => (o.short ? [`--${n}`, `-${o.short}`] : [`--${n}`])), '--help'],
    invoke(argv) {
      const options = Object.fromEntries(
        entries.map(([n, o]) => [
          n,
          { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.default !== undefined ? { default: o.default } : {}) },
        ]),
      ) as NonNullable<ParseArgsConfig['options']>;
      const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: spec.args !== undefined });
      return spec.run(values as Values<O>, positionals);
    },
  };
}

/** A usage or input error: the message on stderr, then exit (2 for usage, 1 for a failure). */
export function fail(message: string, code = 2): never {
  process.stderr.write(`flotilla: ${message}\n`);
  process.exit(code);
}

/** A port number from --port (absent: 0, a free one). */
export function parsePort(value: string | undefined): number {
  if (value === undefined) return 0;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port ${value} is not a port number (0–65535; 0 picks a free one)`);
  return port;
}

/** A whole number from an option, within [min, max], or a usage error naming the option. */
export function parseCount(flag: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) fail(`${flag} ${value} is not a whole number from ${min} to ${max}`);
  return n;
}

export function commandHelp(c: Command): string {
  const lines: [string, string][] = [...c.optionLines, ['--help', 'this help']];
  const w = Math.max(...lines.map(([f]) => f.length));
  return `${c.usage}\n\n${c.about}\n\nOptions:\n${lines.map(([f, what]) => `  ${f.padEnd(w)}  ${what}`).join('\n')}\n\nExample:\n  ${c.example}`;
}

export function overview(commands: readonly Command[], version: string): string {
  const first = (c: Command) => c.usage.split('\n')[0]!;
  return `flotilla ${version} — run many coding agents at once, and see what each one costs

Usage:
${commands.map((c) => `  ${first(c)}`).join('\n')}

  flotilla <command> --help    a command's options and an example
  flotilla --version

The data dir defaults to $FLOTILLA_HOME or ~/.flotilla.`;
}

/** The closest of `choices` to `word` (edit distance ≤ 2, or a prefix), for "did you mean". */
export function closest(word: string, choices: readonly string[]): string | null {
  const dist = (a: string, b: string) => {
    const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
    for (let j = 1; j <= b.length; j++) d[0]![j] = j;
    for (let i = 1; i <= a.length; i++)
      for (let j = 1; j <= b.length; j++)
        d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
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
