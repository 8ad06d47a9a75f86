import { lstat } from 'node:fs/promises';
import { basename, dirname, extname, resolve } from 'node:path';

/**
 * The only files the page may read or write: plain files directly inside the profiles folder
 * (.yaml, .yml) or the recordings folder (.mrrec, .lpr, .svg). A name is one path segment of
 * ordinary characters: no slash, no backslash, no "..", no leading dot, nothing that resolves
 * elsewhere; an existing entry must be a regular file (a symlink could point anywhere).
 */
export class PathRefused extends Error {}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._ -]{0,127}$/;

/** The absolute path of `name` inside `dir`, or PathRefused. */
export function pathInside(dir: string, name: string, extensions: readonly string[]): string {
  if (typeof name !== 'string' || !NAME.test(name) || name.includes('..')) throw new PathRefused(`not a plain file name: ${JSON.stringify(name)}`);
  if (!extensions.includes(extname(name).toLowerCase())) throw new PathRefused(`${name}: only ${extensions.join(', ')} files here`);
  const root = resolve(dir);
  const full = resolve(root, name);
  if (dirname(full) !== root || basename(full) !== name) throw new PathRefused(`${name} is not inside ${root}`);
  return full;
}

/** As pathInside, and the entry (if it exists) must be a regular file, not a link or a folder. */
export async function fileInside(dir: string, name: string, extensions: readonly string[]): Promise<string> {
  const full = pathInside(dir, name, extensions);
  try {
    const st = await lstat(full);
    if (!st.isFile()) throw new PathRefused(`${name} is not a regular file`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  return full;
}

export const PROFILE_EXTENSIONS = ['.yaml', '.yml'] as const;
export const RECORDING_EXTENSIONS = ['.mrrec', '.lpr'] as const;
