import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './shared-data.js';

/** The built CLI, for end-to-end tests that run it as a rig owner would. */
export const CLI = join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');

/** timeoutMs: kill the run after this long (none by default). */
export function runCli(args: string[], timeoutMs?: number) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 256 * 1024 * 1024 });
}

/** The test command builds first; a direct `vitest` run needs a build too. Call from beforeAll. */
export function buildCli(): void {
  const r = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: REPO_ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`build failed: ${r.stdout}${r.stderr}`);
}
