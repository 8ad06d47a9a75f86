import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Route, authorize, controlRoutes, findRoute } from '../../src/web/api.js';
import { allowedHosts, checkBearer, checkHost, checkOrigin, loadOrCreateToken } from '../../src/web/auth.js';
import { lineDiff } from '../../src/web/diff.js';
import { PROFILE_FILES, PathRefused, RECORDING_FILES, fileInside, pathInside } from '../../src/web/path-guard.js';

const dir = mkdtempSync(join(tmpdir(), 'motion-rig-web-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('web token', () => {
  it('is generated once into its file (mode 0600), then read back; a configured one wins', () => {
    const file = join(dir, 'state', 'web-token');
    const a = loadOrCreateToken(undefined, file);
    expect(a.generated).toBe(true);
    expect(a.token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8').trim()).toBe(a.token);
    expect(loadOrCreateToken(undefined, file)).toEqual({ token: a.token, generated: false });
    expect(loadOrCreateToken('configured-token-123', file)).toEqual({ token: 'configured-token-123', generated: false });
  });

  it('is written through a temp file with mode 0600 (even under umask 0), no temp left; a group/other-readable file is used with a warning; an invalid one is replaced', () => {
    const file = join(dir, 'state2', 'web-token');
    const old = process.umask(0);
    try {
      loadOrCreateToken(undefined, file);
    } finally {
      process.umask(old);
    }
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(dir, 'state2'))).toEqual(['web-token']);
    chmodSync(file, 0o644);
    const r = loadOrCreateToken(undefined, file);
    expect(r.generated).toBe(false);
    expect(r.warning).toMatch(/can be read by other users \(mode 0644\): chmod 600/);
    chmodSync(file, 0o600);
    expect(loadOrCreateToken(undefined, file).warning).toBeUndefined();
    writeFileSync(file, 'has spaces in the token text\n');
    expect(loadOrCreateToken(undefined, file).generated).toBe(true);
  });

  it('Bearer check: 401 without or malformed, 403 wrong (also for a prefix or a longer one), ok exact; no token at all: 403', () => {
    const t = 'abcdefghijklmnop0123';
    expect(checkBearer(undefined, t)).toMatchObject({ ok: false, status: 401 });
    expect(checkBearer('', t)).toMatchObject({ ok: false, status: 401 });
    expect(checkBearer(`Basic ${t}`, t)).toMatchObject({ ok: false, status: 401 });
    expect(checkBearer(`Bearer ${t}x`, t)).toMatchObject({ ok: false, status: 403 });
    expect(checkBearer(`Bearer ${t.slice(0, -1)}`, t)).toMatchObject({ ok: false, status: 403 });
    expect(checkBearer(`Bearer ${t}`, t)).toEqual({ ok: true });
    expect(checkBearer(`bearer  ${t} `, t)).toEqual({ ok: true });
    expect(checkBearer(`Bearer ${t}`, undefined)).toMatchObject({ ok: false, status: 403 });
  });

  it('Origin: same host:port passes, another host, port or scheme junk is refused; none (curl) passes; Sec-Fetch-Site cross-site refused', () => {
    expect(checkOrigin('http://127.0.0.1:8417', '127.0.0.1:8417', undefined)).toEqual({ ok: true });
    expect(checkOrigin('http://RIG.local:8417', 'rig.local:8417', 'same-origin')).toEqual({ ok: true });
    expect(checkOrigin(undefined, '127.0.0.1:8417', undefined)).toEqual({ ok: true });
    expect(checkOrigin('http://evil.example', '127.0.0.1:8417', undefined)).toMatchObject({ ok: false, status: 403 });
    expect(checkOrigin('http://127.0.0.1:9999', '127.0.0.1:8417', undefined)).toMatchObject({ ok: false, status: 403 });
    expect(checkOrigin('null', '127.0.0.1:8417', undefined)).toMatchObject({ ok: false, status: 403 });
    expect(checkOrigin('file:///x', '127.0.0.1:8417', undefined)).toMatchObject({ ok: false, status: 403 });
    expect(checkOrigin('http://127.0.0.1:8417', undefined, undefined)).toMatchObject({ ok: false, status: 403 });
    expect(checkOrigin(undefined, '127.0.0.1:8417', 'cross-site')).toMatchObject({ ok: false, status: 403 });
    expect(checkOrigin(undefined, '127.0.0.1:8417', 'same-site')).toMatchObject({ ok: false, status: 403 });
  });
});

describe('Host check (DNS rebinding)', () => {
  const allowed = allowedHosts('0.0.0.0', ['Rig.LAN'], 'simbox');
  it('passes IP literals (v4, v6 in brackets), localhost, the hostname, HOSTNAME.local and web.hosts, with or without a port', () => {
    for (const h of ['127.0.0.1:8417', '192.168.1.50', '[::1]:8417', '[fe80::1]', 'localhost:8417', 'LOCALHOST', 'simbox:8417', 'simbox.local:8417', 'simbox.local.', 'rig.lan:8417']) {
      expect(checkHost(h, allowed), h).toEqual({ ok: true });
    }
  });
  it('refuses any other name (a hostile name re-pointed here), a missing Host and junk, with the reason', () => {
    for (const h of ['evil.example:8417', 'evil.example', 'simbox.evil.example', '127.0.0.1.evil.example', 'localhost.evil.example', 'rig.lan.evil', '', 'a b', '[::1', undefined]) {
      const v = checkHost(h, allowed);
      expect(v, String(h)).toMatchObject({ ok: false, status: 403 });
    }
    expect(checkHost('evil.example:8417', allowed)).toMatchObject({ reason: expect.stringMatching(/evil\.example.*web\.hosts/) });
  });
  it('the listen host is allowed when it is a name; a wildcard adds nothing', () => {
    expect(allowedHosts('rig-box', [], 'x').has('rig-box')).toBe(true);
    expect([...allowedHosts('::', [], 'x')].sort()).toEqual(['localhost', 'x', 'x.local']);
    expect([...allowedHosts('0.0.0.0', [], 'x.local')].sort()).toEqual(['localhost', 'x.local']);
  });
});

describe('web API routing and authorization', () => {
  const calls: string[] = [];
  let state = 'online';
  let trigger = false;
  const routes = controlRoutes(
    {
      status: () => ({ state }),
      estop: () => calls.push('estop'),
      park: () => calls.push('park'),
      unpark: () => calls.push('unpark'),
      clearEstop: () => (state !== 'estop' ? 'not in e-stop' : trigger ? 'the e-stop trigger is still present' : (calls.push('clear'), undefined)),
    },
    () => {},
  );
  const token = 'the-token-0123456789';
  const req = (headers: Record<string, string>) => ({ headers: { host: 'rig:8417', ...headers } });
  const run = async (method: string, path: string, headers: Record<string, string> = {}) => {
    const f = findRoute(routes, method, path);
    if ('status' in f) return { status: f.status };
    const v = authorize(f.route, req(headers), token);
    if (!v.ok) return { status: v.status };
    return f.route.handle({ rest: f.rest, query: new URLSearchParams(), body: '' });
  };

  it('stopping needs no token; moving needs it; a refused request calls nothing', async () => {
    expect((await run('POST', '/api/estop')).status).toBe(200);
    expect((await run('POST', '/api/park')).status).toBe(200);
    expect(calls).toEqual(['estop', 'park']);
    expect((await run('POST', '/api/unpark')).status).toBe(401);
    expect((await run('POST', '/api/unpark', { authorization: 'Bearer wrong-token-0123456' })).status).toBe(403);
    expect((await run('POST', '/api/clear-estop')).status).toBe(401);
    expect(calls).toEqual(['estop', 'park']);
    expect((await run('POST', '/api/unpark', { authorization: `Bearer ${token}` })).status).toBe(200);
    expect(calls.at(-1)).toBe('unpark');
  });

  it('a cross-origin POST is refused even for e-stop with the token (the page is not another site\'s remote)', async () => {
    const n = calls.length;
    expect((await run('POST', '/api/estop', { origin: 'http://evil.example' })).status).toBe(403);
    expect((await run('POST', '/api/unpark', { origin: 'http://evil.example', authorization: `Bearer ${token}` })).status).toBe(403);
    expect((await run('POST', '/api/park', { origin: 'http://rig:8417' })).status).toBe(200);
    expect(calls.length).toBe(n + 1);
  });

  it('clear-estop: 409 with the reason when not in e-stop or while the trigger is present; re-arms otherwise', async () => {
    const auth = { authorization: `Bearer ${token}` };
    expect(await run('POST', '/api/clear-estop', auth)).toEqual({ status: 409, body: { error: 'not in e-stop' } });
    state = 'estop';
    trigger = true;
    expect(await run('POST', '/api/clear-estop', auth)).toEqual({ status: 409, body: { error: 'the e-stop trigger is still present' } });
    trigger = false;
    expect((await run('POST', '/api/clear-estop', auth)).status).toBe(200);
    expect(calls.at(-1)).toBe('clear');
  });

  it('404 for unknown paths, 405 for a known path with another method; GET status needs nothing', async () => {
    expect((await run('GET', '/api/nope')).status).toBe(404);
    expect((await run('GET', '/api/estop')).status).toBe(405);
    expect(await run('GET', '/api/status', { origin: 'http://evil.example' })).toEqual({ status: 200, body: { state: 'estop' } });
    const prefix: Route[] = [{ method: 'GET', path: '/api/profiles/', token: false, handle: (r) => ({ status: 200, body: r.rest }) }];
    const f = findRoute(prefix, 'GET', '/api/profiles/a.yaml');
    expect('route' in f && f.rest).toBe('a.yaml');
  });
});

describe('path guard', () => {
  const profiles = join(dir, 'profiles');
  mkdirSync(profiles, { recursive: true });
  writeFileSync(join(profiles, 'default.yaml'), 'cue: {}\n');
  writeFileSync(join(dir, 'secret.yaml'), 'x: 1\n');
  symlinkSync(join(dir, 'secret.yaml'), join(profiles, 'link.yaml'));
  mkdirSync(join(profiles, 'sub.yaml'));

  it('allows plain names of the right kind directly inside the folder', async () => {
    expect(pathInside(profiles, 'default.yaml', PROFILE_FILES)).toBe(join(profiles, 'default.yaml'));
    expect(await fileInside(profiles, 'new-car.yml', PROFILE_FILES)).toBe(join(profiles, 'new-car.yml'));
  });

  it('refuses traversal, absolute paths, hidden names, other extensions, links and folders', async () => {
    for (const name of ['../secret.yaml', '..%2Fsecret.yaml', '/etc/passwd.yaml', 'a/b.yaml', 'a\\b.yaml', '.hidden.yaml', '..yaml', 'default.json', 'default.yaml\0.yaml', '', 'rigs/stewart-linear.yaml', '~/x.yaml', 'x.YAML', 'x.Yml', 'x.yaml.bak']) {
      expect(() => pathInside(profiles, name, PROFILE_FILES), name).toThrow(PathRefused);
    }
    await expect(fileInside(profiles, 'link.yaml', PROFILE_FILES)).rejects.toThrow(PathRefused);
    await expect(fileInside(profiles, 'sub.yaml', PROFILE_FILES)).rejects.toThrow(PathRefused);
  });

  it('a profile name passes exactly when the loader would read the file (PROFILE_FILE): x.YAML is refused, not checked and skipped', () => {
    expect(() => pathInside(profiles, 'x.YAML', PROFILE_FILES)).toThrow(/x\.YAML: only \.yaml or \.yml \(lower case/);
    expect(pathInside(profiles, 'LAP.MRREC', RECORDING_FILES)).toBe(join(profiles, 'LAP.MRREC'));
    expect(() => pathInside(profiles, 'lap.svg', RECORDING_FILES)).toThrow(PathRefused);
  });
});

describe('line diff', () => {
  it('keeps common lines and marks removed and added ones in order (checked against an independent edit script)', () => {
    const a = 'a\nb\nc\nd';
    const b = 'a\nc\nx\nd\ne';
    expect(lineDiff(a, b)).toEqual([
      { op: ' ', text: 'a' },
      { op: '-', text: 'b' },
      { op: ' ', text: 'c' },
      { op: '+', text: 'x' },
      { op: ' ', text: 'd' },
      { op: '+', text: 'e' },
    ]);
    expect(lineDiff(a, a).every((d) => d.op === ' ')).toBe(true);
  });
});
