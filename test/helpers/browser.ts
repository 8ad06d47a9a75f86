import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type Browser, chromium } from 'playwright-core';

/**
 * Headless Chromium for the web page tests: Debian's `chromium` (.ci/run installs it) driven
 * by playwright-core, which downloads no browser. WebGL runs on SwiftShader (no GPU needed).
 */
export const CHROMIUM = process.env.MOTION_RIG_CHROMIUM ?? '/usr/bin/chromium';

export function haveChromium(): boolean {
  return existsSync(CHROMIUM);
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--no-sandbox'] });
}

/**
 * Where the tests save their screenshots: MOTION_RIG_SCREENSHOTS when set (the docs' are
 * made with MOTION_RIG_SCREENSHOTS=docs/web), else a temp folder, so a test run never
 * changes the work tree.
 */
export function screenshotDir(): string {
  const dir = process.env.MOTION_RIG_SCREENSHOTS ? resolve(process.env.MOTION_RIG_SCREENSHOTS) : mkdtempSync(join(tmpdir(), 'motion-rig-screens-'));
  mkdirSync(dir, { recursive: true });
  return dir;
}
