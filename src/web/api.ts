import type { IncomingMessage } from 'node:http';
import { type Verdict, checkBearer, checkOrigin } from './auth.js';

/**
 * The HTTP API the page uses and scripts can too (docs/web.md). The paths of the rig
 * controls are fixed by issue 17: GET /api/status, POST /api/estop, /api/park, /api/unpark,
 * /api/clear-estop. Each route says whether it needs the token; every write (POST, PUT) is
 * origin-checked first. A refused request answers 401/403 with {error: reason} and its
 * handler is never called: nothing changes.
 */
export interface Reply {
  status: number;
  body: unknown;
}

export interface RouteRequest {
  /** The path below the route's own (e.g. the file name in /api/profiles/NAME), decoded. */
  rest: string;
  query: URLSearchParams;
  /** The request body (≤ MAX_BODY bytes), as text. */
  body: string;
}

export interface Route {
  method: 'GET' | 'POST' | 'PUT';
  /** Exact path, or a prefix ending in "/" whose remainder becomes `rest`. */
  path: string;
  /** Moves the rig or changes a file: needs the token. */
  token: boolean;
  /**
   * Needs no body (the rig buttons): the server never reads one, so a large or slow body
   * cannot delay a stop; a body sent anyway is ignored and the connection closed after the reply.
   */
  bodyless?: boolean;
  handle: (r: RouteRequest) => Reply | Promise<Reply>;
}

/** What the page can make the rig do; the service implements it over the control words. */
export interface RigControls {
  status(): unknown;
  /** Latches the e-stop (ESTOP on the wire on the worker's next tick). */
  estop(): void;
  /** Parks and keeps the rig parked until unpark(). */
  park(): void;
  unpark(): void;
  /** Asks to re-arm the e-stop; a reason when refused (the trigger is still present, or not in e-stop). */
  clearEstop(): string | undefined;
}

export const MAX_BODY = 256 * 1024;

export function controlRoutes(rig: RigControls, log: (event: string, fields?: object) => void): Route[] {
  return [
    { method: 'GET', path: '/api/status', token: false, handle: () => ({ status: 200, body: rig.status() }) },
    {
      method: 'POST', path: '/api/estop', token: false, bodyless: true, handle: () => {
        rig.estop();
        log('web-estop');
        return { status: 200, body: { ok: true, action: 'estop' } };
      },
    },
    {
      method: 'POST', path: '/api/park', token: false, bodyless: true, handle: () => {
        rig.park();
        log('web-park');
        return { status: 200, body: { ok: true, action: 'park' } };
      },
    },
    {
      method: 'POST', path: '/api/unpark', token: true, bodyless: true, handle: () => {
        rig.unpark();
        log('web-unpark');
        return { status: 200, body: { ok: true, action: 'unpark' } };
      },
    },
    {
      method: 'POST', path: '/api/clear-estop', token: true, bodyless: true, handle: () => {
        const refused = rig.clearEstop();
        log('web-clear-estop', { refused });
        return refused ? { status: 409, body: { error: refused } } : { status: 200, body: { ok: true, action: 'clear-estop' } };
      },
    },
  ];
}

/** The route for a method and path, and the remainder for a prefix route; undefined: 404 (or 405 when the path exists with another method). */
export function findRoute(routes: Route[], method: string, path: string): { route: Route; rest: string } | { status: 404 | 405 } {
  let other = false;
  for (const r of routes) {
    const match = r.path.endsWith('/') ? path.startsWith(r.path) : path === r.path;
    if (!match) continue;
    if (r.method !== method) {
      other = true;
      continue;
    }
    return { route: r, rest: r.path.endsWith('/') ? path.slice(r.path.length) : '' };
  }
  return { status: other ? 405 : 404 };
}

/** Origin for every write, then the token where the route needs it. */
export function authorize(route: Route, req: Pick<IncomingMessage, 'headers'>, token: string | undefined): Verdict {
  const h = req.headers;
  if (route.method !== 'GET') {
    const origin = checkOrigin(h.origin, h.host, header(h['sec-fetch-site']));
    if (!origin.ok) return origin;
  }
  return route.token ? checkBearer(h.authorization, token) : { ok: true };
}

function header(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/**
 * The body as text, up to MAX_BODY bytes (undefined when larger: the rest is read and
 * dropped, so the 413 still reaches the client; the server then closes the connection).
 */
export function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        chunks.length = 0;
        resolve(undefined);
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
