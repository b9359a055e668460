// HTTP + WebSocket API on loopback. Every request and socket needs the per-launch token; browsers from another
// Origin (or a rebinding Host) are refused. The same port also carries the per-session model proxy (/s/<token>/…,
// authenticated by the session's own token) and Claude Code's http hooks (/hooks/<token>).
import http from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { ACK, AckArgs, CommandMessage, type EngineEvent, httpStatusOf } from '../../shared/contract.ts';
import { OutputPacer } from './output-pacer.ts';
import { EngineError, toApiError } from '../errors.ts';
import type { Subscription } from '../sessions/index.ts';
import type { StreamContext } from './handlers.ts';

export interface ApiServerOptions {
  host: string;
  port: number;
  token: string;
  staticDir: string | null;
}

/** What the server hands requests to: the model proxy, the hooks, the command dispatcher, the ledger as CSV. */
export interface ApiRoutes {
  /** Handles /s/<token>/… (the model proxy) and returns true, or returns false for any other path. */
  proxy(req: http.IncomingMessage, res: http.ServerResponse): boolean;
  /** A Claude Code hook for the session whose hook token this is; false for an unknown token. */
  hook(token: string, body: unknown): boolean;
  dispatch(cmd: string, args: unknown, stream: StreamContext | null): Promise<unknown>;
  ledgerCsv(runId: string): string;
  onEvent(listener: (e: EngineEvent) => void): void;
}

const MAX_BODY = 4 * 1024 * 1024;

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

function sameToken(given: string | null | undefined, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(text);
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new EngineError('too_large', `request body over ${MAX_BODY} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export class ApiServer {
  private readonly http: http.Server;
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_BODY });
  private port = 0;

  constructor(
    private readonly routes: ApiRoutes,
    private readonly opts: ApiServerOptions,
  ) {
    this.http = http.createServer((req, res) => {
      this.onRequest(req, res).catch((err) => {
        if (!res.headersSent) sendJson(res, 500, { error: toApiError(err) });
        else res.destroy();
      });
    });
    this.http.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket, head));
    this.routes.onEvent((e) => {
      const text = JSON.stringify(e);
      for (const ws of this.wss.clients) if (ws.readyState === ws.OPEN) ws.send(text);
    });
  }

  get origin(): string {
    const host = this.opts.host.includes(':') ? `[${this.opts.host}]` : this.opts.host;
    return `http://${host}:${this.port}`;
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => {
        if (err.code === 'EADDRINUSE')
          reject(
            new EngineError(
              'port_in_use',
              `port ${this.opts.port} on ${this.opts.host} is in use — pass another --port, or 0 for a free one`,
            ),
          );
        else if (err.code === 'EADDRNOTAVAIL' || err.code === 'EACCES')
          reject(
            new EngineError(
              'listen_failed',
              `cannot listen on ${this.opts.host}:${this.opts.port} (${err.code}) — use --host 127.0.0.1 and a port above 1024`,
            ),
          );
        else reject(err);
      };
      this.http.once('error', onError);
      this.http.listen(this.opts.port, this.opts.host, () => {
        this.http.off('error', onError);
        this.port = (this.http.address() as AddressInfo).port;
        resolve();
      });
    });
  }

  async close(): Promise<void> {
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    await new Promise<void>((resolve) => {
      this.http.close(() => resolve());
      this.http.closeAllConnections();
    });
  }

  /**
   * Host must name a loopback address (DNS rebinding: a page of another site names its own host) — on any port, since a
   * desktop reaches a host's engine through an SSH tunnel whose local port is its own; the token is checked after.
   * Origin, when a browser sends one, must be this engine's.
   */
  private trustedPeer(req: http.IncomingMessage): string | null {
    const allowedHosts = new Set([`127.0.0.1:${this.port}`, `localhost:${this.port}`, `[::1]:${this.port}`]);
    if (!/^(127\.0\.0\.1|localhost|\[::1\]):\d{1,5}$/.test(req.headers.host ?? ''))
      return `Host ${req.headers.host ?? '(none)'} is not this engine`;
    const origin = req.headers.origin;
    if (origin && origin !== 'null' && !allowedHosts.has(origin.replace(/^https?:\/\//, ''))) return `Origin ${origin} is not allowed`;
    return null;
  }

  private tokenOf(req: http.IncomingMessage, url: URL): string | null {
    const auth = req.headers.authorization;
    if (auth?.startsWith('Bearer ')) return auth.slice(7);
    return url.searchParams.get('token');
  }

  private async onRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    // The model proxy authenticates by the session token in its path and must pass agents' requests untouched.
    if (this.routes.proxy(req, res)) return;
    const url = new URL(req.url ?? '/', 'http://localhost');
    const refused = this.trustedPeer(req);
    if (refused) return sendJson(res, 403, { error: { code: 'forbidden', message: refused } });

    if (url.pathname.startsWith('/hooks/')) {
      if (req.method !== 'POST') return sendJson(res, 405, { error: { code: 'method', message: 'hooks are POST' } });
      const body = await readBody(req);
      let event: unknown;
      try {
        event = JSON.parse(body);
      } catch {
        return sendJson(res, 400, { error: { code: 'bad_request', message: 'hook body is not JSON' } });
      }
      const ok = this.routes.hook(url.pathname.slice('/hooks/'.length), event);
      // An unknown token gets 401 but an empty JSON body either way: Claude Code reads a hook's JSON reply as directives.
      res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
      return void res.end('{}');
    }

    if (url.pathname.startsWith('/api/')) {
      if (!sameToken(this.tokenOf(req, url), this.opts.token))
        return sendJson(res, 401, {
          error: { code: 'unauthorized', message: 'missing or wrong token — use the URL flotilla serve printed' },
        });
      const cmd = url.pathname.slice('/api/'.length);
      if (req.method === 'GET' && cmd === 'health') return sendJson(res, 200, { ok: true });
      if (req.method === 'GET' && cmd === 'ledger.csv') {
        const runId = url.searchParams.get('runId') ?? '';
        try {
          const csv = this.routes.ledgerCsv(runId);
          res.writeHead(200, {
            'content-type': 'text/csv; charset=utf-8',
            'content-disposition': `attachment; filename="flotilla-ledger-${runId.slice(0, 8)}.csv"`,
            'cache-control': 'no-store',
          });
          return void res.end(csv);
        } catch (err) {
          return sendJson(res, 404, { ok: false, error: toApiError(err) });
        }
      }
      if (req.method !== 'POST') return sendJson(res, 405, { error: { code: 'method', message: `POST /api/${cmd}` } });
      const text = await readBody(req);
      try {
        const args = text ? JSON.parse(text) : {};
        const data = await this.routes.dispatch(cmd, args, null);
        return sendJson(res, 200, { ok: true, data: data ?? null });
      } catch (err) {
        const e = toApiError(err);
        return sendJson(res, httpStatusOf(e.code), { ok: false, error: e });
      }
    }

    if (req.method === 'GET' || req.method === 'HEAD') return this.serveStatic(url.pathname, res);
    sendJson(res, 404, { error: { code: 'not_found', message: `no route ${req.method} ${url.pathname}` } });
  }

  private async serveStatic(pathname: string, res: http.ServerResponse): Promise<void> {
    const security = {
      'content-security-policy':
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self' ws://127.0.0.1:* ws://localhost:*; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-store',
    };
    const dir = this.opts.staticDir;
    if (dir) {
      const rel = normalize(decodeURIComponent(pathname === '/' ? '/index.html' : pathname)).replace(/^([/\\])+/, '');
      const file = join(dir, rel);
      if (file.startsWith(dir + sep) || file === dir) {
        try {
          const body = await readFile(file);
          res.writeHead(200, { 'content-type': MIME[extname(file)] ?? 'application/octet-stream', ...security });
          return void res.end(body);
        } catch {
          /* fall through to the page below */
        }
      }
    }
    if (pathname !== '/') {
      res.writeHead(404, security);
      return void res.end('not found');
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', ...security });
    res.end(
      '<!doctype html><meta charset="utf-8"><title>Flotilla engine</title>' +
        '<body style="font:14px system-ui;margin:2em"><h1>Flotilla engine</h1>' +
        '<p>The engine is running. The dashboard is not built: run <code>npm run build</code>, then reload.</p></body>',
    );
  }

  private onUpgrade(req: http.IncomingMessage, socket: import('node:stream').Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const refused = this.trustedPeer(req);
    const reject = (status: number, text: string) => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    };
    if (url.pathname !== '/ws') return reject(404, 'Not Found');
    if (refused) return reject(403, 'Forbidden');
    if (!sameToken(this.tokenOf(req, url), this.opts.token)) return reject(401, 'Unauthorized');
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onSocket(ws));
  }

  private onSocket(ws: WebSocket): void {
    const pacer = new OutputPacer((frame) => {
      if (ws.readyState === ws.OPEN) ws.send(frame, { binary: true });
    });
    const stream: StreamContext = {
      subscriptions: new Map<string, Subscription>(),
      sendOutput: (sessionId, data) => pacer.output(sessionId, data),
      sendScreen: (sessionId, snap, bytes) => pacer.screen(sessionId, snap, bytes),
      setQuiet: (sessionId, quiet, refreshMs) => pacer.setQuiet(sessionId, quiet, refreshMs),
      screens: (sessionId, source) => pacer.screens(sessionId, source),
      forget: (sessionId) => pacer.forget(sessionId),
    };
    ws.on('message', async (raw, isBinary) => {
      if (isBinary) return;
      let id = 0;
      try {
        const json: unknown = JSON.parse(raw.toString());
        // Acks are most of what a client sends under a flood (one per 5 000 bytes it parsed): checked by hand, not
        // through the schemas (bench/output: ~2 % of the main thread went to parsing them).
        const ack = plainAck(json);
        if (ack) return void stream.subscriptions.get(ack.sessionId)?.ack(ack.bytes);
        const msg = CommandMessage.parse(json);
        id = msg.id;
        if (msg.cmd === ACK) {
          const { sessionId, bytes } = AckArgs.parse(msg.args);
          stream.subscriptions.get(sessionId)?.ack(bytes);
          return;
        }
        const data = await this.routes.dispatch(msg.cmd, msg.args ?? {}, stream);
        // id 0: fire and forget (keystrokes), nothing answers it.
        if (id !== 0 && ws.readyState === ws.OPEN) ws.send(JSON.stringify({ type: 'reply', id, ok: true, data: data ?? null }));
      } catch (err) {
        if (id !== 0 && ws.readyState === ws.OPEN) ws.send(JSON.stringify({ type: 'reply', id, ok: false, error: toApiError(err) }));
      }
    });
    ws.on('close', () => {
      pacer.close();
      for (const sub of stream.subscriptions.values()) sub.close();
      stream.subscriptions.clear();
    });
  }
}

/** An ack as every client sends it ({ id: 0, cmd: 'ack', args: { sessionId, bytes } }); anything else goes the long way. */
function plainAck(m: unknown): { sessionId: string; bytes: number } | null {
  if (typeof m !== 'object' || m === null || (m as { cmd?: unknown }).cmd !== ACK || (m as { id?: unknown }).id !== 0) return null;
  const a = (m as { args?: { sessionId?: unknown; bytes?: unknown } }).args;
  if (typeof a !== 'object' || a === null || typeof a.sessionId !== 'string') return null;
  const bytes = a.bytes;
  return typeof bytes === 'number' && Number.isInteger(bytes) && bytes >= 0 ? { sessionId: a.sessionId, bytes } : null;
}
