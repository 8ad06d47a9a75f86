/// <reference lib="dom" />
import { cpSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { haveSocat } from '../../src/service/pty-rig.js';
import { haveChromium, launchChromium, screenshotDir } from '../helpers/browser.js';
import { buildCli } from '../helpers/cli.js';
import { buildFirmwareHostPrograms } from '../helpers/firmware.js';
import { ServiceRun, monotonicMs } from '../helpers/service-run.js';
import { REPO_ROOT } from '../helpers/shared-data.js';
import { waitFor } from '../helpers/wait.js';

/**
 * The web page in headless Chromium against the real service running the demo pipeline:
 * console simulator → service (`run`, built CLI) → RigLink over a socat pty pair → the C MCU
 * simulator, whose log shows every frame on the wire. Screenshots of each tab are saved
 * (screenshotDir: a temp folder unless MOTION_RIG_SCREENSHOTS names one).
 */
const need = !haveSocat() || !haveChromium();
describe.skipIf(need && process.env.CI !== 'true')('web page (Chromium → service → pty → MCU simulator)', () => {
  let run: ServiceRun;
  let browser: Browser;
  let page: Page;
  let url = '';
  let token = '';
  const shots = screenshotDir();
  const shot = (name: string) => page.screenshot({ path: join(shots, `${name}.png`) });
  /** The token as a person enters it (kept in the page's localStorage). */
  const useToken = async () => {
    await page.fill('#token', token);
    await page.dispatchEvent('#token', 'change');
  };
  const text = (sel: string) => page.textContent(sel).then((t) => t ?? '');
  const inPage = (method: string, path: string, body?: unknown, auth?: string) =>
    page.evaluate(async ([m, p, b, a]) => {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (a) headers.authorization = `Bearer ${a}`;
      const r = await fetch(p as string, { method: m as string, headers, body: b === undefined ? undefined : JSON.stringify(b) });
      return { status: r.status, body: (await r.json()) as { error?: string } };
    }, [method, path, body, auth] as const);

  beforeAll(async () => {
    if (!haveSocat()) throw new Error('socat is required under CI=true (.ci/run installs it)');
    if (!haveChromium()) throw new Error('chromium is required under CI=true (.ci/run installs it)');
    buildCli();
    run = new ServiceRun(buildFirmwareHostPrograms().mcuSim, 'drive:900');
    run.profilesDir = join(run.dir, 'profiles');
    cpSync(join(REPO_ROOT, 'profiles'), run.profilesDir, { recursive: true });
    run.writeConfig('drive:900', false, 'web: { listen: "127.0.0.1:0" }\n');
    await run.start();
    await run.waitState('online', 30_000);
    await waitFor(() => !!(run.status() as { web?: { url: string } } | undefined)?.web, 5000, 'web url in the status');
    url = (run.status() as unknown as { web: { url: string } }).web.url;
    token = readFileSync(join(run.dir, 'web-token'), 'utf8').trim();
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.on('pageerror', (e) => process.stderr.write(`page error: ${e.message}\n`));
    process.stdout.write(`web page screenshots: ${shots}\n`);
  }, 120_000);

  // On a failure, what the service did: its last state changes and log lines.
  afterEach(({ task }) => {
    if (task.result?.state !== 'fail' || !run) return;
    process.stdout.write(`status: ${JSON.stringify(run.status())}\nlast log lines:\n${run.out.split('\n').slice(-25).join('\n')}\n`);
  });

  afterAll(async () => {
    await browser?.close();
    if (run) {
      await run.stop();
      rmSync(run.dir, { recursive: true, force: true });
    }
  });

  it('shows online and live values that change, ≥ 20 frames a second', async () => {
    await page.goto(url);
    await page.waitForFunction(() => document.getElementById('state')?.textContent === 'online', undefined, { timeout: 10_000 });
    const tick = () => text('dd[data-field="tick"]');
    const frames = () => text('dd[data-field="frames written"]');
    const [t0, f0] = [await tick(), await frames()];
    // Live frames the page received over 3 s (a busy machine delays them in bursts; none is dropped).
    const received = () => page.evaluate(() => Number(document.getElementById('conn')!.dataset.frames ?? 0));
    await page.waitForFunction(() => document.getElementById('conn')?.dataset.frames !== undefined, undefined, { timeout: 5000 });
    const n0 = await received();
    const w0 = Date.now();
    await page.waitForTimeout(3000);
    const perSecond = ((await received()) - n0) / ((Date.now() - w0) / 1000);
    expect(await tick()).not.toBe(t0);
    expect(Number(await frames())).toBeGreaterThan(Number(f0));
    expect(await text('dd[data-field="link"]')).toBe('riglink ready');
    expect(await text('dd[data-field="MCU"]')).toContain('enabled');
    process.stdout.write(`live frames the page received: ${perSecond.toFixed(1)} a second\n`);
    expect(perSecond).toBeGreaterThanOrEqual(20);
    await shot('live');
  }, 60_000);

  it('draws the rig and the signals from the live points', async () => {
    await page.goto(`${url}#rig`);
    await page.waitForTimeout(1500);
    expect(await page.locator('#rig-view canvas').count()).toBe(1);
    expect(await page.locator('#actuator-bars .act').count()).toBe(6);
    const bar = () => page.getAttribute('#actuator-bars .act .pos', 'style');
    const b0 = await bar();
    await page.waitForTimeout(1000);
    expect(await bar()).not.toBe(b0);
    await shot('rig');
    await page.goto(`${url}#signals`);
    await page.waitForTimeout(4000);
    expect(await page.locator('#plots .uplot').count()).toBe(9);
    await shot('signals');
  }, 60_000);

  it('refuses what would move the rig or change a file without the token (401), or from another origin (403); nothing changes', async () => {
    await page.goto(url);
    const file = join(run.profilesDir, 'default.yaml');
    const before = readFileSync(file, 'utf8');
    for (const [m, p, b] of [
      ['POST', '/api/unpark', undefined],
      ['POST', '/api/clear-estop', undefined],
      ['POST', '/api/profile/apply', { name: 'default.yaml', text: before.replace(/gain: [\d.]+/, 'gain: 0.01') }],
      ['PUT', '/api/profiles/default.yaml', { text: 'cue: {}\n' }],
      ['POST', '/api/profile/pin', { name: 'default.yaml' }],
    ] as const) {
      const r = await inPage(m, p, b);
      expect(r.status, `${m} ${p}`).toBe(401);
      expect(r.body.error).toContain('token');
    }
    expect((await inPage('POST', '/api/unpark', undefined, 'wrong-token-wrong-token')).status).toBe(403);
    // Another web site's page in the same browser: its Origin is not ours, token or not.
    const cross = await fetch(`${url}api/unpark`, { method: 'POST', headers: { origin: 'http://evil.example', authorization: `Bearer ${token}` } });
    expect(cross.status).toBe(403);
    const crossStop = await fetch(`${url}api/park`, { method: 'POST', headers: { origin: 'http://evil.example' } });
    expect(crossStop.status).toBe(403);
    expect(readFileSync(file, 'utf8')).toBe(before);
    const s = run.status() as unknown as { state: string; parkRequested: boolean };
    // Nothing the refused requests asked for happened (the simulated drive may hold or even
    // reconnect meanwhile on a busy machine: that is not theirs).
    expect(s.state).not.toBe('estop');
    expect(run.states().some((x) => x.cause === 'parkRequest' || x.cause === 'estopCleared')).toBe(false);
    expect(s.parkRequested).toBe(false);
    expect(run.out).toContain('"event":"web-refused"');
    expect(run.out).not.toContain('"event":"web-unpark"');
  }, 30_000);

  it('tuning: an invalid edit shows the error with its line and changes nothing; a valid one is applied through hold and saved (old file kept)', async () => {
    await page.goto(url);
    await useToken();
    await page.goto(`${url}#tuning`);
    const name = 'gt7-example-gr3.yaml'; // the simulator's car: the running profile
    await page.waitForFunction((n) => (document.getElementById('profile-select') as HTMLSelectElement | null)?.value === n, name, { timeout: 10_000 });
    const file = join(run.profilesDir, name);
    const original = readFileSync(file, 'utf8');
    await page.waitForFunction((t) => (document.getElementById('profile-text') as HTMLTextAreaElement | null)?.value === t, original, { timeout: 10_000 });
    const lines = original.split('\n');
    // The example profile's surge gain changes with refits: take the line as the file has it.
    const surgeText = /surge: \{ gain: [0-9.]+ \}/.exec(original)?.[0] ?? 'no surge gain line';
    const surgeLine = lines.findIndex((l) => l.includes(surgeText)) + 1;
    expect(surgeLine).toBeGreaterThan(0);
    const profile = () => (run.status() as unknown as { telemetry: { profile: string } }).telemetry.profile;
    const runningBefore = profile();

    await page.fill('#profile-text', original.replace(surgeText, 'surge: { gain: "lots" }'));
    await page.click('#profile-apply');
    await page.waitForSelector('#profile-errors li[data-line]');
    const errors = await page.locator('#profile-errors li').allTextContents();
    expect(errors.join('\n')).toContain(`line ${surgeLine}: cue.surge.gain`);
    expect(await text('#message')).toMatch(/not applied through hold \(422\)/);
    await shot('tuning-error');
    expect(readFileSync(file, 'utf8')).toBe(original);
    expect(profile()).toBe(runningBefore);
    expect(run.out).not.toContain('"event":"profile-applied"');

    const edited = original.replace(surgeText, 'surge: { gain: 0.05 }');
    await page.fill('#profile-text', edited);
    await page.click('#profile-check');
    await page.waitForSelector('#profile-diff .add');
    expect(await page.locator('#profile-diff .add').allTextContents()).toEqual([`+ ${edited.split('\n')[surgeLine - 1]}`]);
    const statesBefore = run.states().length;
    const stateAtSave = run.status()!.state;
    await page.click('#profile-save');
    await page.waitForFunction(() => document.getElementById('message')?.textContent?.includes('saved'), undefined, { timeout: 10_000 });
    await shot('tuning-saved');
    expect(readFileSync(file, 'utf8')).toBe(edited);
    expect(readFileSync(`${file}.bak`, 'utf8')).toBe(original);
    expect(run.out).toContain('"event":"profile-applied"');
    // Through hold: the worker takes the new profile at engagement 0, then comes back online.
    // (When the drive was holding or parked already, it is applied there: no new hold.)
    if (stateAtSave === 'online') {
      // Failed once in CI (not reproduced): say what the states and the log were, for next time.
      await waitFor(() => run.states().slice(statesBefore).some((s) => s.state === 'hold'), 20_000, 'hold after the save').catch((err: Error) => {
        const events = run.out.split('\n').filter((l) => /"event":"(state|profile-applied|profile-refused|telemetry)/.test(l)).slice(-15);
        throw new Error(`${err.message}; states before ${statesBefore}, now ${JSON.stringify(run.states().slice(statesBefore - 2))}\n${events.join('\n')}`);
      });
    }
    await run.waitState('online', 30_000);
  }, 90_000);

  it('park (no token) parks and keeps it parked; unpark (token) brings it back online', async () => {
    await page.goto(`${url}#live`);
    await useToken();
    await page.click('#park');
    await run.waitState('parked', 20_000);
    expect(run.pty.simLog()).toContain(' rx PARK ');
    await page.waitForTimeout(1500);
    expect(run.status()!.state).toBe('parked');
    expect(await text('dd[data-field="park requested"]')).toBe('yes (unpark to run)');
    expect(run.states().some((x) => x.state === 'parking' && x.cause === 'parkRequest')).toBe(true);
    await page.click('#unpark');
    await run.waitState('online', 30_000);
  }, 90_000);

  it('recordings: start and stop a recording from the page, list it, report the running vs the edited profile with its plot', async () => {
    await page.goto(url);
    await useToken();
    await page.goto(`${url}#recordings`);
    await page.waitForSelector('#rec-state:has-text("folder")');
    await page.click('#rec-start');
    await page.waitForFunction(() => document.getElementById('message')?.textContent?.startsWith('recording rig-'), undefined, { timeout: 5000 });
    await page.waitForTimeout(4000);
    await page.click('#rec-stop');
    await page.waitForFunction(() => /recorded rig-.*: \d+ packets/.test(document.getElementById('message')?.textContent ?? ''), undefined, { timeout: 5000 });
    const packets = Number(/(\d+) packets/.exec(await text('#message'))![1]);
    expect(packets).toBeGreaterThan(150); // ~60 a second for 4 s
    const name = await page.getAttribute('#rec-list tbody button', 'data-recording');
    expect(existsSync(join(run.dir, 'recordings', name!))).toBe(true);
    // B: the Tuning editor's text with a softer surge.
    await page.evaluate(() => {
      const t = document.getElementById('profile-text') as HTMLTextAreaElement;
      t.value = t.value.replace(/surge: \{ gain: [\d.]+ \}/, 'surge: { gain: 0.02 }');
    });
    await page.click('#rec-list tbody button');
    // Once in 17 CI runs the report did not show within 60 s (8 s as a rule): say what the page said then.
    await page.waitForSelector('#report h3', { timeout: 60_000 }).catch(async (e: unknown) => {
      throw new Error(`${String(e)}; the page's message: ${await text('#message')}; its report: ${(await text('#report')).slice(0, 300)}`);
    });
    expect(await text('#report h3')).toMatch(/^score: running [\d.]+ · edited [\d.]+/);
    expect(await text('#report pre')).toContain('B − A');
    expect(await page.locator('#report img').count()).toBe(1);
    await shot('recordings');
  }, 120_000);

  it('clicking E-STOP puts ESTOP on the wire within 100 ms; clear e-stop (token) re-arms once the trigger is gone', async () => {
    await page.goto(`${url}#live`);
    await useToken();
    await run.waitState('online', 30_000);
    // From the click as the page receives it (its event's time, wall clock) to ESTOP in the
    // MCU's log (monotonic, mapped to the wall clock here): the browser driver's own round
    // trips before the click are not the page's latency.
    await page.evaluate(() => document.getElementById('estop')!.addEventListener('pointerdown', () => ((window as unknown as { clickAt: number }).clickAt = performance.timeOrigin + performance.now()), { capture: true }));
    const { t0, at } = await run.estopAfter(() => page.click('#estop'), 'after the page\'s e-stop click');
    const wallMinusMono = Date.now() - monotonicMs();
    const clickAt = await page.evaluate(() => (window as unknown as { clickAt: number }).clickAt);
    const ms = at + wallMinusMono - clickAt;
    await waitFor(() => run.out.includes('"event":"web-estop"'), 2000, 'the service\'s web-estop log line');
    const served = (JSON.parse(run.out.split('\n').find((l) => l.includes('"event":"web-estop"'))!) as { time: number }).time;
    process.stdout.write(`page e-stop press → ESTOP at the MCU: ${ms.toFixed(1)} ms (press → request handled ${(served - clickAt).toFixed(0)} ms; from the driver's call: ${(at - t0).toFixed(1)} ms)\n`);
    expect(ms).toBeLessThan(100);
    await run.waitState('estop', 5000);
    await page.waitForFunction(() => document.getElementById('state')?.textContent === 'estop', undefined, { timeout: 5000 });
    await shot('estop');
    await page.click('#clear-estop');
    await waitFor(() => run.status()?.state !== 'estop', 5000, 'leave e-stop');
    expect(run.pty.simLog()).toContain(' rx CLEAR_ESTOP ');
    await run.waitState('online', 30_000);
    expect(existsSync(join(run.dir, 'web-token'))).toBe(true);
  }, 90_000);
});
