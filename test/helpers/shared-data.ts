import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repo root, and ../shared/data beside it (never copied into the repo). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SHARED_DATA = resolve(REPO_ROOT, '..', 'shared', 'data');
export const haveSharedData = existsSync(join(SHARED_DATA, 'README.md'));

if (!haveSharedData) {
  if (process.env.CI === 'true') {
    throw new Error(`CI=true but the real packet data is missing: expected ${SHARED_DATA} (../shared/data beside the repo)`);
  }
  console.warn(`[motion-rig tests] skipping real-data tests: ${SHARED_DATA} not found (clone with ../shared beside the repo)`);
}

export function dataPath(...parts: string[]): string {
  return join(SHARED_DATA, ...parts);
}

export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i]!;
    mb += b[i]!;
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i]! - ma;
    const db = b[i]! - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return sab / Math.sqrt(saa * sbb);
}
