import { randomBytes } from 'node:crypto';
import { copyFile, open, readFile, readdir, rename, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { ConfigError, formatProblem } from '../config/load-yaml.js';
import { PROFILE_FILE, type ProfileSet, loadProfiles } from '../config/profiles.js';
import type { ConfigWatch } from '../service/config-watch.js';
import type { Reply, Route } from './api.js';
import { lineDiff } from './diff.js';
import { PROFILE_FILES, PathRefused, fileInside } from './path-guard.js';

/**
 * Tuning from the page: read a profile, check an edit (the service's own loader on the whole
 * folder with the edit in place, so an error names the line as `check-config` would), diff it
 * against the file, apply it (through hold: the worker takes a new profile only at engagement
 * 0), save it (atomically: a temp file renamed over the old one, which is kept as NAME.bak),
 * and pin a profile whatever the car. Only plain .yaml/.yml files directly in the profiles
 * folder can be named (path-guard.ts). Reads and writes are asynchronous: the main thread
 * never waits on the disk for them.
 */
export interface ProfileApiOptions {
  dir: string;
  defaultName: string;
  rateHz: number;
  watch: ConfigWatch;
  carId: () => number;
}

interface Problem {
  file: string;
  line: number | null;
  key: string;
  reason: string;
  message: string;
}

export type Checked = { ok: true; set: ProfileSet; before: string } | { ok: false; problems: Problem[]; before: string };

const bad = (status: number, error: string): Reply => ({ status, body: { error } });

/** The profiles folder's files (plain .yaml/.yml files only), read asynchronously. */
async function folderTexts(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.isFile() && PROFILE_FILE.test(e.name)) out.set(e.name, await readFile(join(dir, e.name), 'utf8'));
  }
  return out;
}

/** The folder with `name` replaced by `text`, loaded as the service would load it: the set, or the problems with their lines. PathRefused for a name outside. */
export async function checkProfileEdit(o: Pick<ProfileApiOptions, 'dir' | 'defaultName' | 'rateHz'>, name: string, text: string): Promise<Checked> {
  await fileInside(o.dir, name, PROFILE_FILES);
  const all = await folderTexts(o.dir);
  const before = all.get(name) ?? '';
  all.set(name, text);
  try {
    return { ok: true, set: loadProfiles(o.dir, o.defaultName, o.rateHz, all), before };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const problems = err.problems.map((p) => {
      const q = { ...p, file: basename(p.file) };
      return { file: q.file, line: q.line ?? null, key: q.key, reason: q.reason, message: formatProblem(q) };
    });
    return { ok: false, problems, before };
  }
}

export function profileRoutes(o: ProfileApiOptions): Route[] {
  const texts = () => folderTexts(o.dir);
  const check = (name: string, text: string) => checkProfileEdit(o, name, text);

  const body = (text: string): { name?: unknown; text?: unknown } => {
    try {
      const v = JSON.parse(text) as unknown;
      return typeof v === 'object' && v !== null ? (v as { name?: unknown; text?: unknown }) : {};
    } catch {
      return {};
    }
  };

  const guarded = (f: (b: { name: string; text: string }) => Promise<Reply>) => async (r: { body: string; rest: string }): Promise<Reply> => {
    const b = body(r.body);
    const name = r.rest || b.name;
    if (typeof name !== 'string' || typeof b.text !== 'string') return bad(400, 'give {"name": FILE, "text": YAML}');
    try {
      return await f({ name, text: b.text });
    } catch (err) {
      if (err instanceof PathRefused) return bad(403, err.message);
      throw err;
    }
  };

  const status = () => ({ running: o.watch.profile.name, runningFile: basename(o.watch.profile.file), pinned: o.watch.pinned ?? null });

  return [
    {
      method: 'GET', path: '/api/profiles', token: false, handle: async () => {
        const set = o.watch.profiles;
        const files = [...(await texts()).keys()].sort().map((name) => {
          const p = [set.base, ...set.cars].find((x) => basename(x.file) === name);
          return { name, title: p?.name ?? name, base: name === o.defaultName, gt7CarCodes: p?.gt7CarCodes ?? [], f1TeamIds: p?.f1TeamIds ?? [] };
        });
        return { status: 200, body: { files, carId: o.carId(), ...status() } };
      },
    },
    {
      method: 'GET', path: '/api/profiles/', token: false, handle: async (r) => {
        try {
          const file = await fileInside(o.dir, r.rest, PROFILE_FILES);
          return { status: 200, body: { name: r.rest, text: await readFile(file, 'utf8') } };
        } catch (err) {
          if (err instanceof PathRefused) return bad(403, err.message);
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') return bad(404, `no profile ${r.rest}`);
          throw err;
        }
      },
    },
    {
      method: 'POST', path: '/api/profile/check', token: true, handle: guarded(async ({ name, text }) => {
        const c = await check(name, text);
        return { status: 200, body: { ok: c.ok, problems: c.ok ? [] : c.problems, diff: lineDiff(c.before, text) } };
      }),
    },
    {
      method: 'POST', path: '/api/profile/apply', token: true, handle: guarded(async ({ name, text }) => {
        const c = await check(name, text);
        if (!c.ok) return { status: 422, body: { ok: false, problems: c.problems, error: c.problems[0]?.message } };
        o.watch.useProfiles(c.set, o.carId());
        return { status: 200, body: { ok: true, ...status() } };
      }),
    },
    {
      method: 'PUT', path: '/api/profiles/', token: true, handle: guarded(async ({ name, text }) => {
        const c = await check(name, text);
        if (!c.ok) return { status: 422, body: { ok: false, problems: c.problems, error: c.problems[0]?.message } };
        const file = join(o.dir, name);
        // A temp name of its own (two saves at once never share one), flushed to the disk before
        // the rename: after a power cut the file is the old text or the new, never empty.
        const tmp = join(o.dir, `.${name}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
        const fh = await open(tmp, 'wx', 0o644);
        try {
          await fh.writeFile(text);
          await fh.sync();
        } finally {
          await fh.close();
        }
        try {
          if (c.before !== '') await copyFile(file, `${file}.bak`);
          await rename(tmp, file);
        } catch (err) {
          await rm(tmp, { force: true });
          throw err;
        }
        o.watch.useProfiles(c.set, o.carId());
        return { status: 200, body: { ok: true, saved: name, backup: c.before !== '' ? `${name}.bak` : null, ...status() } };
      }),
    },
    {
      method: 'POST', path: '/api/profile/pin', token: true, handle: async (r) => {
        const name = body(r.body).name;
        if (name !== null && typeof name !== 'string') return bad(400, 'give {"name": FILE} or {"name": null} (by car)');
        if (name !== null && ![o.watch.profiles.base, ...o.watch.profiles.cars].some((p) => basename(p.file) === name)) return bad(404, `no loaded profile ${String(name)}`);
        o.watch.pinned = name ?? undefined;
        o.watch.useProfiles(o.watch.profiles, o.carId());
        return { status: 200, body: { ok: true, ...status() } };
      },
    },
  ];
}
