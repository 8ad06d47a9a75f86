import { readFile, readdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { PACKAGE_ROOT } from '../paths.js';

/**
 * The page's files, all from the package (a rig box is often offline: no CDN): web/ (the
 * page itself, plain ES modules) and two libraries from node_modules, found the way Node
 * finds them (so a global or hoisted install works too):
 *   - three.js (WebGL 3D; the rig view): /vendor/three.module.js and the three.core.js it imports;
 *   - uPlot (time-series plots made for thousands of points at 60 fps, ~50 KB): /vendor/uPlot.esm.js, .css.
 * Read once when the server starts, into memory (≈ 1.6 MB): no file I/O per request, and the
 * set of servable paths is fixed then: nothing a URL says can name another file.
 */
export interface Asset {
  type: string;
  body: Buffer;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

export const PAGE_DIR = join(PACKAGE_ROOT, 'web');

export async function loadAssets(pageDir = PAGE_DIR): Promise<Map<string, Asset>> {
  const require = createRequire(import.meta.url);
  const threeDir = dirname(require.resolve('three'));
  const uplotDir = dirname(require.resolve('uplot'));
  const files: [string, string][] = [
    ['/vendor/three.module.js', join(threeDir, 'three.module.js')],
    ['/vendor/three.core.js', join(threeDir, 'three.core.js')],
    ['/vendor/uPlot.esm.js', join(uplotDir, 'uPlot.esm.js')],
    ['/vendor/uPlot.min.css', join(uplotDir, 'uPlot.min.css')],
  ];
  for (const e of await readdir(pageDir, { withFileTypes: true })) {
    if (e.isFile() && TYPES[extname(e.name)]) files.push([`/${e.name}`, join(pageDir, e.name)]);
  }
  const assets = new Map<string, Asset>();
  await Promise.all(
    files.map(async ([url, file]) => {
      assets.set(url, { type: TYPES[extname(file)] ?? 'application/octet-stream', body: await readFile(file) });
    }),
  );
  const index = assets.get('/index.html');
  if (index) assets.set('/', index);
  return assets;
}
