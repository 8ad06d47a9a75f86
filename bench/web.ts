import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { histogramCount, histogramPercentile } from '../src/runtime/slots.js';
import { round } from './measure.js';
import { startBenchService } from './service-start.js';

/**
 * Does the web page slow the rig? The whole service (as bench/service.ts runs it) with its
 * web server on, measured in alternating windows with no page open and with PAGES pages'
 * live streams open (GET /api/live, each read to the end by a separate process, so the
 * readers' own CPU is not counted): tick lateness p50/p99 and late ticks from the worker's
 * histogram, CPU % of one core of the service process, frames the pages received.
 * A browser's drawing runs in the browser (on the phone or PC), not in the service: what a
 * page costs the service is its stream. Target (issue 17): lateness p99 and CPU with three
 * pages within 10 % of none.
 *   node dist/bench/web.js [--seconds 20] [--rounds 2] [--pages 3] [--output riglink|virtual]
 */
const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : def;
};
const seconds = Number(arg('seconds', '20'));
const rounds = Number(arg('rounds', '2'));
const pages = Number(arg('pages', '3'));
const wantOutput = arg('output', 'riglink');

const READER = `
const http = require('node:http');
const n = Number(process.argv[2]);
let frames = 0;
for (let i = 0; i < n; i++) http.get(process.argv[1] + 'api/live', (res) => res.on('data', (d) => { frames += (d.toString().match(/^data: /gm) || []).length; }));
process.on('SIGTERM', () => { process.stdout.write(String(frames)); process.exit(0); });
`;

const dir = mkdtempSync(join(tmpdir(), 'motion-rig-bench-web-'));
const text = (output: string, path: string) => `
source: { type: simulator, simulator: { phases: "drive:100000" } }
loop: { rateHz: 1000 }
rig: profiles/rigs/stewart-linear.yaml
output: { type: ${output}, serial: { path: ${JSON.stringify(path)}, baud: 1000000, lowLatency: false } }
profiles: { dir: profiles }
web: { listen: "127.0.0.1:0", tokenFile: ${JSON.stringify(join(dir, 'web-token'))} }
`;
const { service, pty } = await startBenchService(text, dir, wantOutput);
const url = service.status().web?.url;
if (!url) throw new Error('the web server did not start');
const t0 = Date.now();
while (service.status().state !== 'online' && Date.now() - t0 < 15_000) await new Promise((r) => setTimeout(r, 50));
await new Promise((r) => setTimeout(r, 2000)); // past the engagement ramp

async function window(open: number) {
  const reader = open > 0 ? spawn(process.execPath, ['-e', READER, url!, String(open)], { stdio: ['ignore', 'pipe', 'inherit'] }) : undefined;
  let out = '';
  reader?.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  await new Promise((r) => setTimeout(r, 1000)); // connected and streaming before the window starts
  const { lateness } = service.histograms();
  lateness.fill(0);
  const before = service.status();
  const cpu = process.cpuUsage();
  const wall = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const used = process.cpuUsage(cpu);
  const elapsed = performance.now() - wall;
  const after = service.status();
  if (reader) {
    const exited = new Promise((r) => reader.once('exit', r));
    reader.kill('SIGTERM');
    await exited;
  }
  return {
    pages: open,
    state: after.state,
    ticks: histogramCount(lateness),
    latenessUs: { p50: histogramPercentile(lateness, 50), p99: histogramPercentile(lateness, 99) },
    lateTicks: after.loop.lateTicks - before.loop.lateTicks,
    cpuPercentOfOneCore: round(((used.user + used.system) / 1000 / elapsed) * 100, 1),
    framesReceived: open > 0 ? Number(out) : 0,
  };
}

const windows: Awaited<ReturnType<typeof window>>[] = [];
for (let r = 0; r < rounds; r++) {
  windows.push(await window(0));
  windows.push(await window(pages));
}
await service.stop();
await pty?.stop();
rmSync(dir, { recursive: true, force: true });

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const summary = (open: number) => {
  const w = windows.filter((x) => x.pages === open);
  return { latenessP99Us: round(mean(w.map((x) => x.latenessUs.p99)), 1), cpuPercentOfOneCore: round(mean(w.map((x) => x.cpuPercentOfOneCore)), 1) };
};
const none = summary(0);
const some = summary(pages);
console.log(
  JSON.stringify({
    bench: 'web',
    what: `the service with ${pages} pages' live streams open vs none, ${rounds} alternating rounds of ${seconds} s each, 1000 Hz`,
    output: pty ? 'riglink over socat pty → mcu_sim' : 'in-process virtual rig',
    target: 'lateness p99 and CPU with the pages within 10 % of none',
    none,
    withPages: some,
    ratio: { latenessP99: round(some.latenessP99Us / none.latenessP99Us, 3), cpu: round(some.cpuPercentOfOneCore / none.cpuPercentOfOneCore, 3) },
    framesPerSecondPerPage: round(mean(windows.filter((x) => x.pages > 0).map((x) => x.framesReceived / (seconds + 1) / pages)), 1),
    windows,
    node: process.version,
  }),
);
