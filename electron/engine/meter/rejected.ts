// Requests a provider refused, kept for a bug report: <dir>/<session>/<time>-<status>.json (what was sent and what came
// back) and .body.json beside it (the body alone, for `curl --data-binary @…`). Secrets are never written: credential
// headers are dropped and the key appears in the curl line as an environment variable. Message texts are shortened —
// the shape of a request is what a rejection is about, not its prose.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RejectedRequest, UpstreamErrorInfo } from '../../shared/contract.ts';
import type { ProxyTapContext } from './proxy-types.ts';

export interface RejectedRecord {
  at: string;
  sessionId: string;
  runId: string;
  status: number;
  errorType: string | null;
  message: string;
  fixRule: string | null;
  request: { method: string; url: string; headers: Record<string, string>; body: unknown };
}

/** The record of a refused request: the error, and the request as sent (credentials dropped, long texts cut). */
export function rejectedRecord(
  session: { sessionId: string; runId: string },
  info: UpstreamErrorInfo,
  ctx: Pick<ProxyTapContext, 'method' | 'path' | 'route' | 'requestHeaders'>,
  body: Buffer | null,
): RejectedRecord {
  return {
    at: info.at,
    sessionId: session.sessionId,
    runId: session.runId,
    status: info.status,
    errorType: info.type,
    message: info.message,
    fixRule: info.fixRule ?? null,
    request: {
      method: ctx.method,
      url: `${ctx.route.upstreamBaseUrl}${ctx.path}`,
      headers: savedHeaders(ctx.requestHeaders),
      body: body ? savedBody(body) : null,
    },
  };
}

/** Longer strings in a saved body are cut to this many characters (and say how long they were). */
const KEEP_CHARS = 240;
const SECRET_HEADER = /^(authorization|x-api-key|api-key|cookie|proxy-authorization)$|token|secret|key/i;

function shorten(v: unknown, depth = 0): unknown {
  if (typeof v === 'string') return v.length > KEEP_CHARS ? `${v.slice(0, KEEP_CHARS)}… [${v.length} chars]` : v;
  if (!v || typeof v !== 'object' || depth > 64) return v;
  if (Array.isArray(v)) return v.map((x) => shorten(x, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = shorten(x, depth + 1);
  return out;
}

/** The body as saved: JSON with its long strings shortened (tool schemas keep their structure), else the text cut short. */
export function savedBody(body: Buffer): unknown {
  try {
    return shorten(JSON.parse(body.toString('utf8')));
  } catch {
    return shorten(body.toString('utf8'));
  }
}

export function savedHeaders(headers: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined || SECRET_HEADER.test(k) || k === 'content-length' || k === 'host') continue;
    out[k] = Array.isArray(v) ? v.join(', ') : String(v);
  }
  return out;
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** A curl line resending the saved request; the key comes from `keyEnv` in the shell that runs it. */
export function curlOf(rec: RejectedRecord, bodyFile: string, keyEnv: string): string {
  const headers = Object.entries(rec.request.headers)
    .filter(([k]) => !/^(accept-encoding|connection|x-stainless-|user-agent)/i.test(k))
    .map(([k, v]) => `-H ${quote(`${k}: ${v}`)}`);
  return [
    `curl -sS -X ${rec.request.method} ${quote(rec.request.url)}`,
    ...headers,
    `-H "authorization: Bearer $${keyEnv}"`,
    `--data-binary @${quote(bodyFile)}`,
  ].join(' \\\n  ');
}

export class RejectedRequests {
  constructor(
    private readonly dir: string,
    /** The provider key's env-var name of each session (for the curl line). */
    private readonly keyEnvOf: (sessionId: string) => string,
  ) {}

  /** Writes the record; returns its path. Rare (a rejection), so written at once. */
  save(rec: RejectedRecord): string {
    const dir = join(this.dir, rec.sessionId);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const base = join(dir, `${rec.at.replace(/[:.]/g, '-')}-${rec.status}`);
    writeFileSync(`${base}.body.json`, `${JSON.stringify(rec.request.body, null, 2)}\n`, { mode: 0o600 });
    writeFileSync(`${base}.json`, `${JSON.stringify(rec, null, 2)}\n`, { mode: 0o600 });
    return `${base}.json`;
  }

  /** The session's newest saved rejection, with its curl line; null when there is none. */
  latest(sessionId: string): RejectedRequest | null {
    const dir = join(this.dir, sessionId);
    let names: string[];
    try {
      names = readdirSync(dir).filter((n) => n.endsWith('.json') && !n.endsWith('.body.json'));
    } catch {
      return null;
    }
    const name = names.sort().at(-1);
    if (!name) return null;
    const savedAs = join(dir, name);
    const rec = JSON.parse(readFileSync(savedAs, 'utf8')) as RejectedRecord;
    const bodyFile = savedAs.replace(/\.json$/, '.body.json');
    return {
      at: rec.at,
      status: rec.status,
      message: rec.message,
      fixRule: rec.fixRule,
      savedAs,
      curl: curlOf(rec, bodyFile, this.keyEnvOf(sessionId)),
    };
  }
}
