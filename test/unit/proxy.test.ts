import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MeterProxy, proxyUrl, type ProxyRequestEvent } from '../../electron/engine/meter/index.ts';
import { startAnthropicUpstream, type AnthropicUpstream } from '../upstream/index.ts';
import { waitFor } from '../fixtures/wait.ts';

// A self-signed certificate for 127.0.0.1, valid 2000–2125 (made once with openssl; no openssl needed at test time).
const TLS_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg4ijhvD5d8d0QRbqr
raiW7Llwc7g20q9MxOfLMJ9NLK6hRANCAARnid/KO1YGjqSlHQW+J+qDOEIi0qNK
JXw7qA2Cb+bJjMJfJdh6tWOyr1CfP3eqav2JfcgbhNKctuEcgShdNDqr
-----END PRIVATE KEY-----
`;
const TLS_CERT = `-----BEGIN CERTIFICATE-----
MIIBZTCCAQqgAwIBAgIBATAKBggqhkjOPQQDAjAUMRIwEAYDVQQDDAkxMjcuMC4w
LjEwIBcNMDAwMTAxMDAwMDAwWhgPMjEyNTAxMDEwMDAwMDBaMBQxEjAQBgNVBAMM
CTEyNy4wLjAuMTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABGeJ38o7VgaOpKUd
Bb4n6oM4QiLSo0olfDuoDYJv5smMwl8l2Hq1Y7KvUJ8/d6pq/Yl9yBuE0py24RyB
KF00OqujSzBJMBoGA1UdEQQTMBGHBH8AAAGCCWxvY2FsaG9zdDAMBgNVHRMBAf8E
AjAAMB0GA1UdDgQWBBTtXQAT3O/OzCJf9COqzR1M3kYwPTAKBggqhkjOPQQDAgNJ
ADBGAiEA3rTWcd2T/7S/Mte7LABOT9p/5KZF5SkrmAfwlSINpzQCIQCNcZ1Hi3pe
6IawXXshh8E6C+hOF4XRf34jtIa8rjAJOA==
-----END CERTIFICATE-----
`;

const REAL_KEY = 'sk-real-moonshot-key';
const TOKEN = 'session-token-abc123';
const CWD = '/tmp/flotilla-proxy-test';

function body(task: string, stream = true) {
  return JSON.stringify({
    model: 'kimi-k2.6',
    max_tokens: 1000,
    stream,
    system: [{ type: 'text', text: `Primary working directory: ${CWD}` }],
    tools: [{ name: 'Write', input_schema: { type: 'object' } }],
    messages: [{ role: 'user', content: [{ type: 'text', text: task }] }],
  });
}

/** The engine's server, with the proxy mounted the way the lead mounts it. */
async function startEngineServer(proxy: MeterProxy) {
  const server = http.createServer((req, res) => {
    if (proxy.handle(req, res)) return;
    res.writeHead(404).end('not the proxy');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

let up: AnthropicUpstream;
let proxy: MeterProxy;
let engine: Awaited<ReturnType<typeof startEngineServer>>;
const events: ProxyRequestEvent[] = [];

beforeAll(async () => {
  up = await startAnthropicUpstream({ apiKey: REAL_KEY, chunkDelayMs: 2 });
  proxy = new MeterProxy();
  proxy.on('request', (e) => events.push(e));
  proxy.register(TOKEN, { sessionId: 'sess-1', upstreamBaseUrl: up.url, apiKey: REAL_KEY, style: 'anthropic' });
  engine = await startEngineServer(proxy);
});
afterAll(async () => {
  await engine.close();
  proxy.destroy();
  await up.close();
});

describe('MeterProxy', () => {
  it('builds the session base URL', () => {
    expect(proxyUrl('http://127.0.0.1:4000', 'tok')).toBe('http://127.0.0.1:4000/s/tok');
    expect(proxyUrl('http://127.0.0.1:4000/', 'tok')).toBe('http://127.0.0.1:4000/s/tok');
  });

  it('relays a streaming response byte-for-byte, injecting the real key and never leaking the session token', async () => {
    const direct = await fetch(`${up.url}/v1/messages?beta=true`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${REAL_KEY}` },
      body: body('WRITE notes/a.txt hello through the proxy'),
    });
    const directBytes = Buffer.from(await direct.arrayBuffer());
    const before = up.requests.length;
    const events0 = events.length;

    const viaProxy = await fetch(`${proxyUrl(engine.origin, TOKEN)}/v1/messages?beta=true`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${TOKEN}`,
        'x-api-key': TOKEN,
        'anthropic-version': '2023-06-01',
        'anthropic-beta': 'claude-code-20250219',
        'x-claude-code-session-id': 'cc-session-1',
      },
      body: body('WRITE notes/a.txt hello through the proxy'),
    });
    expect(viaProxy.status).toBe(200);
    expect(viaProxy.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const proxiedBytes = Buffer.from(await viaProxy.arrayBuffer());
    expect(proxiedBytes.equals(directBytes)).toBe(true);
    expect(proxiedBytes.toString()).toContain('"type":"tool_use"');

    expect(up.requests.length).toBe(before + 1);
    const seen = up.requests.at(-1)!;
    expect(seen.url).toBe('/v1/messages?beta=true');
    expect(seen.headers['authorization']).toBe(`Bearer ${REAL_KEY}`);
    expect(seen.headers['x-api-key']).toBeUndefined();
    expect(seen.headers['accept-encoding']).toBe('identity');
    expect(seen.headers['host']).toBe(new URL(up.url).host);
    expect(seen.headers['anthropic-beta']).toBe('claude-code-20250219');
    expect(seen.headers['x-claude-code-session-id']).toBe('cc-session-1');
    expect(JSON.stringify(seen.headers)).not.toContain(TOKEN);
    expect(seen.url).not.toContain(TOKEN);

    const ev = await waitFor(() => events.slice(events0).find((e) => e.path === '/v1/messages?beta=true'), 'the request event');
    expect(ev).toMatchObject({ sessionId: 'sess-1', method: 'POST', status: 200, aborted: false, bytes: directBytes.length });
    expect(ev.firstByteAt).not.toBeNull();
    expect(ev.firstByteAt!).toBeGreaterThanOrEqual(ev.startedAt);
    expect(ev.endedAt).toBeGreaterThanOrEqual(ev.firstByteAt!);
  });

  it('flushes SSE as it arrives (no buffering of the stream)', async () => {
    const slow = await startAnthropicUpstream({ chunkDelayMs: 25 });
    proxy.register('slow-token', { sessionId: 'sess-slow', upstreamBaseUrl: slow.url, apiKey: 'k', style: 'anthropic' });
    try {
      const t0 = Date.now();
      const res = await fetch(`${proxyUrl(engine.origin, 'slow-token')}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: body('LONG 60'),
      });
      const reader = res.body!.getReader();
      const first = await reader.read();
      const firstAt = Date.now() - t0;
      expect(new TextDecoder().decode(first.value)).toContain('event: message_start');
      let rest = 0;
      for (;;) {
        const r = await reader.read();
        if (r.done) break;
        rest += r.value.length;
      }
      const total = Date.now() - t0;
      expect(rest).toBeGreaterThan(0);
      // ~45 events × 25 ms ≈ 1.1 s in all; the first event must arrive long before the end.
      expect(total).toBeGreaterThan(600);
      expect(firstAt).toBeLessThan(total / 3);
    } finally {
      proxy.unregister('slow-token');
      await slow.close();
    }
  });

  it('keeps the query, appends to the base path, and forwards error bodies unmodified', async () => {
    proxy.register('based', { sessionId: 'sess-b', upstreamBaseUrl: `${up.url}/anthropic/`, apiKey: REAL_KEY, style: 'anthropic' });
    try {
      const res = await fetch(`${proxyUrl(engine.origin, 'based')}/v1/messages?beta=true&x=1`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: body('SAY hi'),
      });
      expect(up.requests.at(-1)!.url).toBe('/anthropic/v1/messages?beta=true&x=1');
      // The stand-in has nothing at /anthropic/…: its 404 comes back as it was sent.
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({
        type: 'error',
        error: { type: 'not_found_error', message: 'Not found: POST /anthropic/v1/messages' },
      });

      // A path that climbs out of the base is refused without reaching upstream.
      const n = up.requests.length;
      const esc = await new Promise<number>((resolve, reject) => {
        const { port } = new URL(engine.origin);
        const r = http.request({ host: '127.0.0.1', port, path: '/s/based/../../v1/models', method: 'GET' }, (res2) => {
          res2.resume();
          resolve(res2.statusCode!);
        });
        r.on('error', reject);
        r.end();
      });
      expect(esc).toBe(400);
      expect(up.requests.length).toBe(n);
    } finally {
      proxy.unregister('based');
    }
  });

  it('answers 401 for an unknown or missing token and sends nothing upstream', async () => {
    const before = up.requests.length;
    for (const path of ['/s/not-a-token/v1/messages', '/s/', '/s//v1/messages']) {
      const res = await fetch(engine.origin + path, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${REAL_KEY}` },
        body: body('SAY hi'),
      });
      expect(res.status).toBe(401);
      const j = await res.json();
      expect(j.type).toBe('error');
      expect(j.error.type).toBe('authentication_error');
    }
    // A token that was unregistered is unknown too.
    proxy.register('temp', { sessionId: 'sess-t', upstreamBaseUrl: up.url, apiKey: REAL_KEY, style: 'anthropic' });
    proxy.unregister('temp');
    expect((await fetch(`${engine.origin}/s/temp/v1/models`)).status).toBe(401);
    expect(up.requests.length).toBe(before);
  });

  it('does not handle paths outside /s/', async () => {
    const res = await fetch(`${engine.origin}/hooks/x`);
    expect(res.status).toBe(404);
    expect(await res.text()).toBe('not the proxy');
  });

  it('aborts the upstream request when the client disconnects', async () => {
    const slow = await startAnthropicUpstream({ chunkDelayMs: 30 });
    proxy.register('abort-token', { sessionId: 'sess-abort', upstreamBaseUrl: slow.url, apiKey: 'k', style: 'anthropic' });
    const events0 = events.length;
    try {
      const ac = new AbortController();
      const res = await fetch(`${proxyUrl(engine.origin, 'abort-token')}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: body('LONG 500'),
        signal: ac.signal,
      });
      const reader = res.body!.getReader();
      await reader.read();
      ac.abort();
      const rec = await waitFor(() => slow.requests.find((r) => r.aborted), 'the upstream to see the abort');
      expect(rec.finished).toBe(false);
      const ev = await waitFor(() => events.slice(events0).find((e) => e.sessionId === 'sess-abort'), 'the aborted request event');
      expect(ev.aborted).toBe(true);
      expect(ev.status).toBe(200);
      expect(ev.bytes).toBeGreaterThan(0);
    } finally {
      proxy.unregister('abort-token');
      await slow.close();
    }
  });

  it('answers 502 in the provider error shape, naming the upstream, when the upstream is down', async () => {
    const dead = http.createServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
    const deadUrl = `http://127.0.0.1:${(dead.address() as AddressInfo).port}/anthropic`;
    await new Promise<void>((r) => dead.close(() => r()));
    proxy.register('dead-a', { sessionId: 'sess-dead', upstreamBaseUrl: deadUrl, apiKey: 'k', style: 'anthropic' });
    proxy.register('dead-o', { sessionId: 'sess-dead-o', upstreamBaseUrl: deadUrl, apiKey: 'k', style: 'openai' });
    const events0 = events.length;
    try {
      const res = await fetch(`${proxyUrl(engine.origin, 'dead-a')}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: body('SAY hi'),
      });
      expect(res.status).toBe(502);
      const j = await res.json();
      expect(j.type).toBe('error');
      expect(j.error.type).toBe('api_error');
      expect(j.error.message).toContain(`${deadUrl}/v1/messages`);

      const res2 = await fetch(`${proxyUrl(engine.origin, 'dead-o')}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      expect(res2.status).toBe(502);
      const j2 = await res2.json();
      expect(j2.type).toBeUndefined();
      expect(j2.error.message).toContain(deadUrl);

      const ev = await waitFor(() => events.slice(events0).find((e) => e.sessionId === 'sess-dead'), 'the dead upstream request event');
      expect(ev).toMatchObject({ status: 502, aborted: false, firstByteAt: null });
      expect(ev.error).toContain(deadUrl);
    } finally {
      proxy.unregister('dead-a');
      proxy.unregister('dead-o');
    }
  });

  it('sends a request once more on a new connection when its kept-alive one was closed by the host (no 502 for the agent)', async () => {
    // The host resets a reused connection on its second request, as a server whose idle timeout races the reuse does;
    // a first request on a connection is answered.
    const perSocket = new WeakMap<object, number>();
    let served = 0;
    let resets = 0;
    const host = http.createServer((req, res) => {
      const n = (perSocket.get(req.socket) ?? 0) + 1;
      perSocket.set(req.socket, n);
      if (n > 1) {
        resets++;
        req.socket.resetAndDestroy();
        return;
      }
      req.resume();
      req.on('end', () => {
        served++;
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      });
    });
    host.keepAliveTimeout = 60_000;
    await new Promise<void>((r) => host.listen(0, '127.0.0.1', r));
    // The meter's tap reads each request's body before it goes (budgets, compat): the body is buffered, so it can go again.
    proxy.setTapFactory(() => ({ onRequestBody: () => undefined }));
    proxy.register('stale', {
      sessionId: 'sess-stale',
      upstreamBaseUrl: `http://127.0.0.1:${(host.address() as AddressInfo).port}`,
      apiKey: 'k',
      style: 'anthropic',
    });
    try {
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`${proxyUrl(engine.origin, 'stale')}/v1/messages`, { method: 'POST', body: body('SAY hi', false) });
        expect([res.status, await res.text()]).toEqual([200, '{"ok":true}']);
      }
      expect(resets).toBe(2);
      expect(served).toBe(3);
    } finally {
      proxy.unregister('stale');
      proxy.setTapFactory(null);
      host.closeAllConnections();
      await new Promise<void>((r) => host.close(() => r()));
    }
  });

  it('lets a tap observe exactly the bytes relayed (the metering seam)', async () => {
    const seen: Buffer[] = [];
    const sent: Buffer[] = [];
    let status = 0;
    let ended: ProxyRequestEvent | null = null;
    proxy.setTapFactory((ctx) => {
      expect(ctx.sessionId).toBe('sess-1');
      expect(JSON.stringify(ctx.requestHeaders)).not.toContain(REAL_KEY);
      return {
        onRequestChunk: (c) => sent.push(c),
        onResponse: (s) => (status = s),
        onResponseChunk: (c) => seen.push(c),
        onEnd: (e) => (ended = e),
      };
    });
    try {
      const reqBody = body('SAY tapped stream');
      const res = await fetch(`${proxyUrl(engine.origin, TOKEN)}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: reqBody,
      });
      const bytes = Buffer.from(await res.arrayBuffer());
      await waitFor(() => ended, 'the request to end');
      expect(status).toBe(200);
      expect(Buffer.concat(seen).equals(bytes)).toBe(true);
      expect(Buffer.concat(sent).toString()).toBe(reqBody);
      expect(ended!.bytes).toBe(bytes.length);
    } finally {
      proxy.setTapFactory(null);
    }
  });

  it('injects the key as Bearer for openai-style routes and x-api-key when asked', async () => {
    proxy.register('oa', { sessionId: 'sess-oa', upstreamBaseUrl: up.url, apiKey: REAL_KEY, style: 'openai' });
    proxy.register('xk', { sessionId: 'sess-xk', upstreamBaseUrl: up.url, apiKey: REAL_KEY, style: 'anthropic', auth: 'x-api-key' });
    try {
      const a = await fetch(`${proxyUrl(engine.origin, 'oa')}/v1/models`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(a.status).toBe(200);
      expect(up.requests.at(-1)!.headers['authorization']).toBe(`Bearer ${REAL_KEY}`);
      const b = await fetch(`${proxyUrl(engine.origin, 'xk')}/v1/models`, { headers: { 'x-api-key': TOKEN } });
      expect(b.status).toBe(200);
      expect(up.requests.at(-1)!.headers['x-api-key']).toBe(REAL_KEY);
      expect(up.requests.at(-1)!.headers['authorization']).toBeUndefined();
    } finally {
      proxy.unregister('oa');
      proxy.unregister('xk');
    }
  });

  it('proxies to an https upstream (TLS verified against the given CA), and 502s on a TLS failure', async () => {
    const tls = https.createServer({ key: TLS_KEY, cert: TLS_CERT }, (req, res) => {
      const json = JSON.stringify({ url: req.url, host: req.headers.host, auth: req.headers.authorization });
      res.writeHead(200, { 'content-type': 'application/json' }).end(json);
    });
    await new Promise<void>((r) => tls.listen(0, '127.0.0.1', r));
    const base = `https://127.0.0.1:${(tls.address() as AddressInfo).port}/anthropic`;
    const trusting = new MeterProxy({ httpsAgent: new https.Agent({ ca: TLS_CERT }) });
    const engine2 = await startEngineServer(trusting);
    try {
      trusting.register('tls', { sessionId: 'sess-tls', upstreamBaseUrl: base, apiKey: REAL_KEY, style: 'anthropic' });
      const res = await fetch(`${proxyUrl(engine2.origin, 'tls')}/v1/messages?beta=true`, { method: 'POST', body: '{}' });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({
        url: '/anthropic/v1/messages?beta=true',
        host: new URL(base).host,
        auth: `Bearer ${REAL_KEY}`,
      });
      // The default agent does not trust a self-signed certificate: the client gets a 502 naming the upstream.
      proxy.register('tls-untrusted', { sessionId: 'sess-tls2', upstreamBaseUrl: base, apiKey: REAL_KEY, style: 'anthropic' });
      const bad = await fetch(`${proxyUrl(engine.origin, 'tls-untrusted')}/v1/messages`, { method: 'POST', body: '{}' });
      expect(bad.status).toBe(502);
      expect((await bad.json()).error.message).toContain(base);
    } finally {
      proxy.unregister('tls-untrusted');
      trusting.destroy();
      await engine2.close();
      await new Promise<void>((r) => tls.close(() => r()));
    }
  });
});
