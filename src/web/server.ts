import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../log.js';
import { MAX_BODY, type Route, authorize, findRoute, readBody } from './api.js';
import { allowedHosts, checkHost } from './auth.js';
import type { LiveFeed } from './live.js';
import { type Asset, loadAssets } from './static.js';

/**
 * The web page's HTTP server, on the service's main thread (never the control worker, whose
 * ticks it therefore cannot delay; bench/web.ts measures that it does not slow them either).
 * Static files come from memory (static.ts), the live stream from LiveFeed, everything under
 * /api/ from the routes (api.ts), each checked (origin, token) before its handler runs.
 * A handler that throws answers 500 with its message; it never ends the service.
 */
export interface WebServerOptions {
  listen: string;
  routes: Route[];
  live: LiveFeed;
  token: string | undefined;
  log: Logger;
  /** Further names the Host header may carry (web.hosts); see allowedHosts. */
  hosts?: readonly string[];
}

export const MAX_CONNECTIONS = 32;

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'content-security-policy': "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'",
};

export class WebServer {
  private server: Server | undefined;
  private assets = new Map<string, Asset>();
  private hosts: ReadonlySet<string> = new Set();
  /** http://host:port/ once listening. */
  url = '';

  constructor(private readonly opts: WebServerOptions) {}

  async start(): Promise<void> {
    this.assets = await loadAssets();
    const { host, port } = parseListen(this.opts.listen);
    this.hosts = allowedHosts(host, this.opts.hosts);
    const server = createServer((req, res) => void this.handle(req, res));
    // Bounds for a client that opens many connections or sends slowly (the page needs a few:
    // one live stream and its requests; at most 16 streams are served, live.ts).
    server.maxConnections = MAX_CONNECTIONS;
    server.headersTimeout = 10_000;
    server.requestTimeout = 30_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.opts.log.error({ event: 'web-error', err: err.message }, `web server: ${err.message}`));
    this.server = server;
    const a = server.address() as AddressInfo;
    const shown = a.address === '0.0.0.0' || a.address === '::' ? '127.0.0.1' : a.address.includes(':') ? `[${a.address}]` : a.address;
    this.url = `http://${shown}:${a.port}/`;
  }

  async close(): Promise<void> {
    this.opts.live.close();
    const s = this.server;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://x');
      const method = req.method ?? 'GET';
      // Every request, the page and the live stream included: DNS rebinding is refused here.
      const hostOk = checkHost(req.headers.host, this.hosts);
      if (!hostOk.ok) {
        this.opts.log.warn({ event: 'web-refused', method, path: url.pathname, status: hostOk.status, reason: hostOk.reason, from: req.socket.remoteAddress }, `web request refused: ${hostOk.reason}`);
        return send(res, hostOk.status, { error: hostOk.reason });
      }
      if (method === 'GET' && url.pathname === '/api/live') {
        if (!this.opts.live.add(res)) send(res, 503, { error: 'too many pages open' });
        return;
      }
      if (!url.pathname.startsWith('/api/')) {
        const asset = method === 'GET' || method === 'HEAD' ? this.assets.get(url.pathname) : undefined;
        if (!asset) return send(res, 404, { error: `no such page: ${url.pathname}` });
        res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': asset.type, 'content-length': asset.body.length, 'cache-control': 'no-cache' });
        res.end(method === 'HEAD' ? undefined : asset.body);
        return;
      }
      const found = findRoute(this.opts.routes, method, url.pathname);
      if ('status' in found) return send(res, found.status, { error: found.status === 405 ? `${method} not allowed on ${url.pathname}` : `no such API: ${url.pathname}` });
      const verdict = authorize(found.route, req, this.opts.token);
      if (!verdict.ok) {
        this.opts.log.warn({ event: 'web-refused', method, path: url.pathname, status: verdict.status, reason: verdict.reason, from: req.socket.remoteAddress }, `web request refused: ${verdict.reason}`);
        return send(res, verdict.status, { error: verdict.reason });
      }
      if (found.route.bodyless && !req.complete) res.setHeader('connection', 'close');
      const body = method === 'GET' || found.route.bodyless ? '' : await readBody(req);
      if (body === undefined) {
        res.setHeader('connection', 'close');
        return send(res, 413, { error: `request body over ${MAX_BODY} bytes` });
      }
      let rest: string;
      try {
        rest = decodeURIComponent(found.rest);
      } catch {
        return send(res, 400, { error: 'bad escape in the path' });
      }
      const reply = await found.route.handle({ rest, query: url.searchParams, body });
      send(res, reply.status, reply.body);
    } catch (err) {
      this.opts.log.error({ event: 'web-handler-failed', url: req.url, err: (err as Error).message }, `web request failed: ${(err as Error).message}`);
      if (!res.headersSent) send(res, 500, { error: (err as Error).message });
      else res.destroy();
    }
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json', 'cache-control': 'no-store' });
  res.end(text);
}

/** "HOST:PORT" (the config schema checked the form); "[::1]:8417" for IPv6. */
export function parseListen(listen: string): { host: string; port: number } {
  const i = listen.lastIndexOf(':');
  const host = listen.slice(0, i).replace(/^\[(.*)\]$/, '$1');
  return { host: host || '0.0.0.0', port: Number(listen.slice(i + 1)) };
}
