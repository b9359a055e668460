// The engine's log files: <data dir>/logs/<name>.log, rotated by size (name.1.log … name.N.log), every line stamped and
// scrubbed of secrets first — provider keys, tokens, Authorization headers never reach a file (or a terminal through
// the same function).
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const LOG_DIR = 'logs';
const MAX_BYTES = 5 * 1024 * 1024;
const KEEP = 3;

/** What looks like a credential in free text, whoever wrote it. */
const PATTERNS: [RegExp, string][] = [
  [/\b(sk|pk|rk)-[A-Za-z0-9_-]{6,}/g, '$1-…[redacted]'],
  [/([?&](?:token|key|api_key|access_token)=)[^&\s"']+/gi, '$1[redacted]'],
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{6,}/g, '$1 [redacted]'],
  [/((?:x-api-key|authorization|api-key)["']?\s*[:=]\s*["']?)[^\s"',}]+/gi, '$1[redacted]'],
  [/(\/(?:s|hooks)\/)[A-Za-z0-9_-]{12,}/g, '$1[redacted]'],
];

/** The line with every known secret value and everything credential-shaped replaced. */
export function redact(line: string, secrets: Iterable<string> = []): string {
  let out = line;
  for (const s of secrets) if (s && s.length >= 6) out = out.split(s).join('[redacted]');
  for (const [re, to] of PATTERNS) out = out.replace(re, to);
  return out;
}

/** Values of environment variables that hold credentials (…_KEY, …_TOKEN, …_SECRET, …PASSWORD). */
export function envSecrets(env: NodeJS.ProcessEnv): string[] {
  return Object.entries(env)
    .filter(([k, v]) => v && /(_KEY|_TOKEN|_SECRET|PASSWORD)$/i.test(k))
    .map(([, v]) => v!);
}

export class RotatingLog {
  readonly file: string;
  private size: number;

  constructor(
    dataDir: string,
    readonly name: string,
    private readonly secrets: () => Iterable<string> = () => [],
    private readonly maxBytes = MAX_BYTES,
    private readonly keep = KEEP,
  ) {
    const dir = join(dataDir, LOG_DIR);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.file = join(dir, `${name}.log`);
    this.size = existsSync(this.file) ? statSync(this.file).size : 0;
  }

  write(line: string): void {
    const text = `${new Date().toISOString()} ${redact(line, this.secrets())}\n`;
    if (this.size + text.length > this.maxBytes) this.rotate();
    try {
      appendFileSync(this.file, text, { mode: 0o600 });
      this.size += Buffer.byteLength(text);
    } catch {
      // A full disk must not take the engine down with its log.
    }
  }

  private rotate(): void {
    const dir = join(this.file, '..');
    try {
      rmSync(join(dir, `${this.name}.${this.keep}.log`), { force: true });
      for (let i = this.keep - 1; i >= 1; i--) {
        const from = join(dir, `${this.name}.${i}.log`);
        if (existsSync(from)) renameSync(from, join(dir, `${this.name}.${i + 1}.log`));
      }
      if (existsSync(this.file)) renameSync(this.file, join(dir, `${this.name}.1.log`));
    } catch {
      /* another process rotated it: write on */
    }
    this.size = 0;
  }
}

/**
 * The engine's log callback: each line to the rotating `logs/<name>.log` and to stderr, both scrubbed. Secrets: the
 * credential-looking environment, the provider keys saved in the data dir, and whatever `more()` adds (the engine's
 * token once it exists).
 */
/**
 * A detached engine's stdout and stderr are its engine.log, on the data dir's disk: when that disk is full a write
 * there fails asynchronously, and an 'error' event nobody listens to ends the process (measured: exit 1, every agent
 * interrupted). Those writes are only a copy of the rotating log's, so their errors are ignored.
 */
function surviveStdioErrors(): void {
  for (const s of [process.stdout, process.stderr]) if (s.listenerCount('error') === 0) s.on('error', () => {});
}

export function engineLogger(
  dataDir: string,
  name: string,
  env: NodeJS.ProcessEnv,
  more: () => string[] = () => [],
): (line: string) => void {
  const fixed = envSecrets(env);
  try {
    const saved = JSON.parse(readFileSync(join(dataDir, 'keys.json'), 'utf8')) as Record<string, unknown>;
    for (const v of Object.values(saved)) if (typeof v === 'string') fixed.push(v);
  } catch {
    /* no saved keys */
  }
  const secrets = () => [...fixed, ...more()];
  const file = new RotatingLog(dataDir, name, secrets);
  surviveStdioErrors();
  return (line) => {
    file.write(line);
    process.stderr.write(`${redact(line, secrets())}\n`);
  };
}

/** The last `n` lines of a data dir's log (the current file, then older ones as needed). */
export function tailLog(dataDir: string, name: string, n: number): string[] {
  const dir = join(dataDir, LOG_DIR);
  const files = [`${name}.log`, ...Array.from({ length: KEEP }, (_, i) => `${name}.${i + 1}.log`)].map((f) => join(dir, f));
  let lines: string[] = [];
  for (const f of files) {
    if (lines.length >= n) break;
    if (!existsSync(f)) continue;
    lines = [...readFileSync(f, 'utf8').split('\n').filter(Boolean), ...lines];
  }
  return lines.slice(-n);
}
