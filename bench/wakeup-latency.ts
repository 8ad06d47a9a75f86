import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../src/paths.js';
import { vmSteal } from './measure.js';

/**
 * The machine's own timing floor for a 1 kHz loop, measured by a small C program (no Node):
 * how late a sleeping thread wakes (default slack, 1 ns slack, 1 ns slack under SCHED_FIFO) and how late a thread that
 * only spins sees its deadlines. The service's lateness (bench/service) cannot beat these;
 * docs/service.md explains the numbers on the CI VM.
 *   node dist/bench/wakeup-latency.js [--seconds 5]
 */
const i = process.argv.indexOf('--seconds');
const seconds = i > 0 ? Number(process.argv[i + 1]) : 5;
const dir = mkdtempSync(join(tmpdir(), 'motion-rig-wakeup-'));
try {
  const exe = join(dir, 'wakeup-latency');
  const cc = spawnSync('cc', ['-O2', '-std=c99', '-Wall', '-Werror', join(PACKAGE_ROOT, 'bench', 'c', 'wakeup-latency.c'), '-o', exe], { encoding: 'utf8' });
  if (cc.status !== 0) throw new Error(`cc failed: ${cc.stderr}`);
  const results = ['sleep', 'sleep-slack1', 'sleep-fifo', 'spin'].map((mode) => {
    const steal0 = vmSteal();
    const r = spawnSync(exe, [mode, String(seconds)], { encoding: 'utf8' });
    const vmStealPct = vmSteal(steal0);
    // Under SCHED_FIFO only with root or RLIMIT_RTPRIO: say so rather than fail the bench.
    if (r.status === 3 && mode === 'sleep-fifo') return { mode, error: r.stderr.trim() };
    if (r.status !== 0) throw new Error(`${mode}: ${r.stderr}`);
    return { ...(JSON.parse(r.stdout) as object), vmStealPct };
  });
  console.log(JSON.stringify({ bench: 'wakeup-latency', what: 'a C thread on a 1 kHz grid: sleeping (clock_nanosleep, absolute) or spinning; lateness at each deadline', results }));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
