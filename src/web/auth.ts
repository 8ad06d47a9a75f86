import { randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { WEB_TOKEN } from '../config/service-config.js';

/**
 * Who may do what through the web page and its API (docs/web.md, "Security"):
 *   - reading (status, the live stream, the page) and stopping (e-stop, park): anyone who can
 *     reach the port. A stop must never wait for a password.
 *   - anything that moves the rig or changes a file (unpark, clear e-stop, apply or save a
 *     profile, start a recording): `Authorization: Bearer TOKEN`.
 *   - every POST/PUT from a browser: its Origin must be the page's own host, so another web
 *     site open in the same browser cannot press the buttons (a browser always sends Origin
 *     on a cross-site POST; scripts such as curl send none and need the token anyway).
 *   - every request: its Host header must name this machine (an IP literal, localhost, the
 *     listen host, the hostname, HOSTNAME.local, or web.hosts), so a hostile DNS name
 *     re-pointed at the rig (DNS rebinding) cannot read the status or press anything: a
 *     browser sends the hostile name as Host, and its Origin then matches it.
 * Each check answers a reason, so a refused request says why (401/403) and changes nothing.
 */

export type Verdict = { ok: true } | { ok: false; status: 401 | 403; reason: string };
const OK: Verdict = { ok: true };

/**
 * The token: configured, or read from `file`, or generated into `file` (mode 0600, written to a
 * temp file and renamed, so no moment exists where the file holds a partial token or other
 * users' permissions). `warning`: the existing file can be read by group or others. Throws
 * when none can be had.
 */
export function loadOrCreateToken(configured: string | undefined, file: string): { token: string; generated: boolean; warning?: string } {
  if (configured !== undefined) return { token: configured, generated: false };
  try {
    const t = readFileSync(file, 'utf8').trim();
    if (WEB_TOKEN.test(t)) {
      const mode = statSync(file).mode & 0o777;
      const warning = (mode & 0o077) !== 0 ? `${file} can be read by other users (mode ${mode.toString(8).padStart(4, '0')}): chmod 600 it` : undefined;
      return warning ? { token: t, generated: false, warning } : { token: t, generated: false };
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const token = randomBytes(24).toString('base64url');
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(tmp, `${token}\n`, { mode: 0o600, flag: 'wx' });
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  return { token, generated: true };
}

/** `Authorization: Bearer TOKEN` against the token (constant time); `token` undefined: no token could be had, so nothing is allowed. */
export function checkBearer(header: string | undefined, token: string | undefined): Verdict {
  if (token === undefined) return { ok: false, status: 403, reason: 'the service has no web token (see its log); only stopping is allowed' };
  if (header === undefined || header === '') return { ok: false, status: 401, reason: 'this needs the token: Authorization: Bearer TOKEN (motion-rig status shows it)' };
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!m) return { ok: false, status: 401, reason: 'Authorization must be "Bearer TOKEN"' };
  const given = Buffer.from(m[1]!);
  const want = Buffer.from(token);
  if (given.length !== want.length || !timingSafeEqual(given, want)) return { ok: false, status: 403, reason: 'wrong token' };
  return OK;
}

/**
 * A browser request must come from the page itself: Origin (when sent) must name the same
 * host:port as the Host header the browser used to reach us, and Sec-Fetch-Site (when sent)
 * must not say cross-site. A request with neither (curl, scripts) passes this check.
 */
export function checkOrigin(origin: string | undefined, host: string | undefined, fetchSite: string | undefined): Verdict {
  if (fetchSite !== undefined && fetchSite !== 'same-origin' && fetchSite !== 'none') {
    return { ok: false, status: 403, reason: `cross-site request refused (Sec-Fetch-Site: ${fetchSite})` };
  }
  if (origin === undefined) return OK;
  let originHost: string;
  try {
    const u = new URL(origin);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
    originHost = u.host;
  } catch {
    return { ok: false, status: 403, reason: `Origin ${JSON.stringify(origin)} is not this page` };
  }
  if (host === undefined || originHost.toLowerCase() !== host.toLowerCase()) {
    return { ok: false, status: 403, reason: `Origin ${origin} is not this page (${host ?? 'no Host'})` };
  }
  return OK;
}

/**
 * The names a request may use in its Host header, lowercased: `localhost`, the listen host
 * (unless it is a wildcard), this machine's hostname and HOSTNAME.local, and the configured
 * extras (web.hosts: a name in DNS or /etc/hosts that points here). IP literals always pass.
 */
export function allowedHosts(listenHost: string, extra: readonly string[] = [], machine = hostname()): Set<string> {
  const names = new Set(['localhost', ...extra.map(normalHost)]);
  if (listenHost !== '' && listenHost !== '0.0.0.0' && listenHost !== '::') names.add(normalHost(listenHost));
  if (machine !== '') {
    names.add(normalHost(machine));
    names.add(`${normalHost(machine).replace(/\.local$/, '')}.local`);
  }
  return names;
}

/** The Host header against the allowlist (allowedHosts); IP literals pass; none: refused. */
export function checkHost(host: string | undefined, allowed: ReadonlySet<string>): Verdict {
  if (host === undefined || host === '') return { ok: false, status: 403, reason: 'no Host header' };
  const m = /^(\[[^\]]*\]|[^:]*)(?::\d{1,5})?$/.exec(host);
  const name = m ? normalHost(m[1]!.replace(/^\[(.*)\]$/, '$1')) : '';
  if (name !== '' && (isIP(name) !== 0 || allowed.has(name))) return OK;
  return { ok: false, status: 403, reason: `Host ${JSON.stringify(host)} is not a name of this machine (add it to web.hosts if it is)` };
}

function normalHost(h: string): string {
  return h.toLowerCase().replace(/\.$/, '');
}
