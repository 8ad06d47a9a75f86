import { lstat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { PROFILE_FILE } from '../config/profiles.js';

/**
 * The only files the page may read or write: plain files directly inside the profiles folder
 * (what the profile loader reads: PROFILE_FILE) or the recordings folder (.mrrec, .lpr). A name is one path segment of
 * ordinary characters: no slash, no backslash, no "..", no leading dot, nothing that resolves
 * elsewhere; an existing entry must be a regular file (a symlink could point anywhere).
 */
export class PathRefused extends Error {}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._ -]{0,127}$/;

/** Which names a folder holds: the one rule its reader uses, and how to say it. */
export interface FileKind {
  pattern: RegExp;
  what: string;
}

/** Exactly the names the profile loader reads (src/config/profiles.ts), so a check never passes a file the loader would skip. */
export const PROFILE_FILES: FileKind = { pattern: PROFILE_FILE, what: '.yaml or .yml (lower case: the loader reads only those)' };
/** readCapture reads either kind by its content; the listing and the report take these names. */
export const RECORDING_FILES: FileKind = { pattern: /\.(mrrec|lpr)$/i, what: '.mrrec or .lpr' };

/** The absolute path of `name` inside `dir`, or PathRefused. */
export function pathInside(dir: string, name: string, kind: FileKind): string {
  if (typeof name !== 'string' || !NAME.test(name) || name.includes('..')) throw new PathRefused(`not a plain file name: ${JSON.stringify(name)}`);
  if (!kind.pattern.test(name)) throw new PathRefused(`${name}: only ${kind.what} files here`);
  const root = resolve(dir);
  const full = resolve(root, name);
  if (dirname(full) !== root || basename(full) !== name) throw new PathRefused(`${name} is not inside ${root}`);
  return full;
}

/** As pathInside, and the entry (if it exists) must be a regular file, not a link or a folder. */
export async function fileInside(dir: string, name: string, kind: FileKind): Promise<string> {
  const full = pathInside(dir, name, kind);
  try {
    const st = await lstat(full);
    if (!st.isFile()) throw new PathRefused(`${name} is not a regular file`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  return full;
}
