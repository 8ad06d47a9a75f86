import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServiceConfig } from '../../src/config/service-config.js';
import { loadRigFile } from '../../src/config/rig-file.js';
import { silentLogger } from '../../src/log.js';
import { SeqlockSlot } from '../../src/runtime/shared-slot.js';
import { Status, createSharedBuffers } from '../../src/runtime/slots.js';
import { ConfigWatch } from '../../src/service/config-watch.js';
import { controlRoutes } from '../../src/web/api.js';
import { LiveFeed } from '../../src/web/live.js';
import { profileRoutes } from '../../src/web/profile-api.js';
import { recordingRoutes } from '../../src/web/recordings-api.js';
import type { TelemetryInput } from '../../src/service/telemetry-input.js';
import { MAX_CONNECTIONS, WebServer } from '../../src/web/server.js';
import { REPO_ROOT } from '../helpers/shared-data.js';

/**
 * The web server over real HTTP on loopback with the real routes, a real profiles folder (a
 * copy) and ConfigWatch; the rig controls are recorded instead of reaching a worker (the
 * browser test drives the whole service). Paths are sent raw (node:http), so nothing on the
 * client side normalises a "..".
 */
const dir = mkdtempSync(join(tmpdir(), 'motion-rig-web-server-'));
const profiles = join(dir, 'profiles');
const recordings = join(dir, 'recordings');
const token = 'unit-test-token-0123456789';
const applied: string[] = [];
const calls: string[] = [];
let server: WebServer;
let port = 0;
const buffers = createSharedBuffers();

function http(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown>; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, agent: false, headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => {
        let parsed: Record<string, unknown> = {};
        try {
          parsed = JSON.parse(text) as Record<string, unknown>;
        } catch {
          // not JSON (a page or a script)
        }
        resolve({ status: res.statusCode!, body: parsed, text });
      });
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}
const auth = { authorization: `Bearer ${token}` };

beforeAll(async () => {
  cpSync(join(REPO_ROOT, 'profiles'), profiles, { recursive: true });
  writeFileSync(join(dir, 'outside.yaml'), 'secret: 1\n');
  symlinkSync(join(dir, 'outside.yaml'), join(profiles, 'link.yaml'));
  mkdirSync(recordings);
  writeFileSync(join(recordings, 'lap.mrrec'), 'not really a recording');
  writeFileSync(join(recordings, 'notes.txt'), 'x');
  writeFileSync(join(dir, 'secret.mrrec'), 'TOP-SECRET-CONTENT');
  const config = { file: join(dir, 'config.yaml'), profiles: { dir: profiles, default: 'default.yaml' }, loop: { rateHz: 1000 }, web: { recordingsDir: recordings } } as unknown as ServiceConfig;
  const watch = new ConfigWatch(config, [], 'gt7', silentLogger, (p) => applied.push(p.name));
  const rig = loadRigFile(join(REPO_ROOT, 'profiles/rigs/stewart-linear.yaml'));
  const status = () => ({ state: 'online', tick: new SeqlockSlot(buffers.status).values[Status.tick] });
  const routes = [
    ...controlRoutes({ status, estop: () => calls.push('estop'), park: () => calls.push('park'), unpark: () => calls.push('unpark'), clearEstop: () => 'not in e-stop' }, () => {}),
    ...profileRoutes({ dir: profiles, defaultName: 'default.yaml', rateHz: 1000, watch, carId: () => 3321 }),
    ...recordingRoutes({ config, telemetry: { tapRaw: () => undefined } as unknown as TelemetryInput, watch, log: silentLogger }).routes,
  ];
  server = new WebServer({ listen: '127.0.0.1:0', routes, live: new LiveFeed(buffers, rig, 1000, status), token, log: silentLogger });
  await server.start();
  port = Number(new URL(server.url).port);
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('web server', () => {
  it('serves the page and the libraries from memory; nothing else of the package', async () => {
    expect((await http('GET', '/')).text).toContain('<script type="module" src="/app.js">');
    expect((await http('GET', '/vendor/three.module.js')).status).toBe(200);
    expect((await http('GET', '/vendor/uPlot.esm.js')).status).toBe(200);
    for (const p of ['/../package.json', '/%2e%2e/package.json', '/vendor/../../package.json', '/node_modules/three/package.json', '/web/app.js']) expect((await http('GET', p)).status, p).toBe(404);
  });

  it('path traversal through the profile API: nothing outside the profiles folder is read or written', async () => {
    for (const name of ['..%2Fconfig.yaml', '%2e%2e%2foutside.yaml', '..%2F..%2Fetc%2Fpasswd', '%2Fetc%2Fpasswd', 'rigs%2Fstewart-linear.yaml', 'link.yaml', 'rigs']) {
      const r = await http('GET', `/api/profiles/${name}`);
      expect([403, 404], name).toContain(r.status);
      expect(r.text).not.toContain('TOP-SECRET');
    }
    const put = await http('PUT', '/api/profiles/..%2Fevil.yaml', { text: 'cue: {}\n' }, auth);
    expect(put.status).toBe(403);
    for (const name of ['../evil.yaml', '/tmp/evil.yaml', 'link.yaml', 'sub/evil.yaml']) {
      expect((await http('POST', '/api/profile/apply', { name, text: 'cue: {}\n' }, auth)).status, name).toBe(403);
    }
    expect((await http('PUT', '/api/profiles/link.yaml', { text: 'cue: {}\n' }, auth)).status).toBe(403);
    expect(existsSync(join(dir, 'evil.yaml'))).toBe(false);
    expect(readFileSync(join(dir, 'outside.yaml'), 'utf8')).toBe('secret: 1\n');
  });

  it('recordings: only recordings directly in their folder are listed or reported on; a report on one outside is refused', async () => {
    const list = await http('GET', '/api/recordings');
    expect((list.body.files as { name: string }[]).map((f) => f.name)).toEqual(['lap.mrrec']);
    const text = readFileSync(join(profiles, 'default.yaml'), 'utf8');
    for (const recording of ['../secret.mrrec', '/etc/passwd', '%2e%2e/secret.mrrec', 'notes.txt', 'sub/lap.mrrec']) {
      const r = await http('POST', '/api/report', { recording, profile: 'default.yaml', text }, auth);
      expect(r.status, recording).toBe(403);
      expect(r.text).not.toContain('TOP-SECRET');
    }
    expect((await http('POST', '/api/report', { recording: 'lap.mrrec', profile: '../outside.yaml', text }, auth)).status).toBe(403);
    expect((await http('POST', '/api/report', { recording: 'lap.mrrec', profile: 'default.yaml', text })).status).toBe(401);
    expect((await http('POST', '/api/recordings/start')).status).toBe(401);
    expect((await http('POST', '/api/recordings/start', undefined, auth)).body.error).toBe('telemetry is not running');
  });

  it('profile check names the line; an invalid save changes nothing (422); a valid save keeps a .bak and applies', async () => {
    const file = join(profiles, 'gt7-example-gr3.yaml');
    const original = readFileSync(file, 'utf8');
    const line = original.split('\n').findIndex((l) => l.includes('pitch: { gain: 0.6 }')) + 1;
    const broken = original.replace('pitch: { gain: 0.6 }', 'pitch: { gain: "much" }');
    expect((await http('POST', '/api/profile/check', { name: 'gt7-example-gr3.yaml', text: broken })).status).toBe(401);
    const check = await http('POST', '/api/profile/check', { name: 'gt7-example-gr3.yaml', text: broken }, auth);
    expect(check.status).toBe(200);
    expect(check.body.ok).toBe(false);
    expect((check.body.problems as { line: number; key: string }[])[0]).toMatchObject({ line, key: 'cue.pitch.gain' });
    expect((await http('PUT', '/api/profiles/gt7-example-gr3.yaml', { text: broken }, auth)).status).toBe(422);
    expect(readFileSync(file, 'utf8')).toBe(original);
    expect(applied).toEqual([]);
    const good = original.replace('pitch: { gain: 0.6 }', 'pitch: { gain: 0.5 }');
    const saved = await http('PUT', '/api/profiles/gt7-example-gr3.yaml', { text: good }, auth);
    expect(saved.status).toBe(200);
    expect(readFileSync(file, 'utf8')).toBe(good);
    expect(readFileSync(`${file}.bak`, 'utf8')).toBe(original);
    expect(applied).toEqual(['example override (stiffer surge, softer pitch)']);
    expect(readdirSync(profiles).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    // Two saves at once: each has its own temp file, both land (one after the other), none is lost half-way.
    const texts = [0.45, 0.55].map((g) => original.replace('pitch: { gain: 0.6 }', `pitch: { gain: ${g} }`));
    const both = await Promise.all(texts.map((text) => http('PUT', '/api/profiles/gt7-example-gr3.yaml', { text }, auth)));
    expect(both.map((r) => r.status)).toEqual([200, 200]);
    expect(texts).toContain(readFileSync(file, 'utf8'));
    expect(readdirSync(profiles).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('DNS rebinding: a Host that is not a name of this machine gets 403 on every request (page, status, live, e-stop)', async () => {
    const evil = { host: `evil.example:${port}` };
    const before = calls.length;
    for (const [method, path] of [['GET', '/'], ['GET', '/api/status'], ['GET', '/api/live'], ['POST', '/api/estop']] as const) {
      const r = await http(method, path, undefined, evil);
      expect(r.status, `${method} ${path}`).toBe(403);
      expect(r.body.error).toMatch(/evil\.example/);
    }
    expect(calls.length).toBe(before);
    expect((await http('GET', '/api/status', undefined, { host: `localhost:${port}` })).status).toBe(200);
    expect((await http('GET', '/api/status', undefined, { host: `[::1]:${port}` })).status).toBe(200);
  });

  it('bad requests are refused with a reason and hurt nothing: not JSON, a body over 256 KiB, a broken escape, an unknown method', async () => {
    expect((await http('POST', '/api/profile/check', 'not json at all', auth)).status).toBe(400);
    expect((await http('POST', '/api/profile/check', { name: 'default.yaml', text: 'x'.repeat(300 * 1024) }, auth)).status).toBe(413);
    expect((await http('GET', '/api/profiles/%E0%A4%A')).status).toBe(400);
    expect((await http('DELETE', '/api/profiles/default.yaml', undefined, auth)).status).toBe(405);
    const huge = await http('POST', '/api/profile/check', { name: 'default.yaml', text: `cue:\n${'  '.repeat(70)}x: 1\n`.repeat(1) + '['.repeat(5000) }, auth);
    expect(huge.status).toBe(200);
    expect(huge.body.ok).toBe(false);
    expect((await http('GET', '/api/status')).status).toBe(200); // still serving
  });

  it('load: a 256 KiB POST to /api/estop e-stops at once (the body is never read); check needs the token; connections are capped', async () => {
    const before = calls.filter((c) => c === 'estop').length;
    const t0 = performance.now();
    const r = await http('POST', '/api/estop', { junk: 'x'.repeat(256 * 1024) });
    expect(r.status).toBe(200);
    expect(calls.filter((c) => c === 'estop').length).toBe(before + 1);
    expect(performance.now() - t0).toBeLessThan(2000);
    // A body that never ends (a slow client) does not hold the stop back either.
    const slow = await new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/api/park', headers: { 'content-length': String(1024 * 1024) } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', (e) => ((e as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(e)));
      req.write('x'.repeat(2048));
    });
    expect(slow).toBe(200);
    expect(calls.at(-1)).toBe('park');
    expect((await http('POST', '/api/profile/check', { name: 'default.yaml', text: 'x: 1' })).status).toBe(401);
    // 40 idle connections: the server keeps at most 32 (MAX_CONNECTIONS) and closes the rest.
    const sockets = Array.from({ length: 40 }, () => connect(port, '127.0.0.1'));
    const closed = await Promise.all(sockets.map((s) => new Promise<boolean>((resolve) => {
      s.on('error', () => {});
      s.once('close', () => resolve(true));
      setTimeout(() => resolve(false), 500);
    })));
    sockets.forEach((s) => s.destroy());
    await new Promise((r) => setTimeout(r, 200)); // the server sees them go before the next test connects
    expect(closed.filter(Boolean).length).toBeGreaterThanOrEqual(40 - MAX_CONNECTIONS);
    expect(closed.filter(Boolean).length).toBeLessThan(40);
  });

  it('one report at a time: of two sent together, the second is refused (409) while the first runs', async () => {
    const text = readFileSync(join(profiles, 'default.yaml'), 'utf8');
    const body = { recording: 'lap.mrrec', profile: 'default.yaml', text };
    const [a, b] = await Promise.all([http('POST', '/api/report', body, auth), http('POST', '/api/report', body, auth)]);
    expect([a.status, b.status].filter((s) => s === 409)).toHaveLength(1);
    // The first ran (this folder's lap.mrrec is not a real recording: the report says so).
    expect([a, b].find((r) => r.status !== 409)!.status).toBe(422);
  });

  it('pin: a profile runs whatever the car, until unpinned', async () => {
    const r = await http('POST', '/api/profile/pin', { name: 'default.yaml' }, auth);
    expect(r.body).toMatchObject({ running: 'default', pinned: 'default.yaml' });
    expect((await http('POST', '/api/profile/pin', { name: '../x.yaml' }, auth)).status).toBe(404);
    expect((await http('POST', '/api/profile/pin', { name: null }, auth)).body).toMatchObject({ runningFile: 'gt7-example-gr3.yaml', pinned: null });
  });

  it('the live stream sends the status and plot points at ≥ 20 frames a second from the status slot', async () => {
    const slot = new SeqlockSlot(buffers.status);
    const writer = setInterval(() => {
      slot.beginWrite();
      slot.values[Status.tick] = slot.values[Status.tick]! + 5;
      slot.endWrite();
    }, 5);
    const frames: { status: { tick: number }; points: number[][] }[] = [];
    await new Promise<void>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/api/live' }, (res) => {
        expect(res.headers['content-type']).toBe('text/event-stream');
        let buf = '';
        res.on('data', (d: Buffer) => {
          buf += d.toString();
          for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
            const msg = buf.slice(0, i);
            buf = buf.slice(i + 2);
            if (msg.startsWith('data: ')) frames.push(JSON.parse(msg.slice(6)) as (typeof frames)[number]);
          }
        });
        setTimeout(() => {
          req.destroy();
          resolve();
        }, 1000);
      });
      req.on('error', reject);
      req.end();
    });
    clearInterval(writer);
    expect(frames.length).toBeGreaterThanOrEqual(20);
    expect(frames.at(-1)!.status.tick).toBeGreaterThan(frames[0]!.status.tick);
    const points = frames.flatMap((f) => f.points);
    expect(points.length).toBeGreaterThan(50);
    expect(points[0]!.length).toBe(19);
  });
});
