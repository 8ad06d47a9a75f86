import { readFileSync } from 'node:fs';
/**
 * Shared bench helpers: timing percentiles over batches, CPU and memory, and allocation per
 * call. Allocation is measured as heap growth with collection forced before and the young
 * generation large enough (run with --expose-gc --max-semi-space-size=64) that no scavenge
 * runs in between; a scavenge would show as a negative delta, which is reported, not hidden.
 */

export interface Percentiles {
  p50: number;
  p99: number;
  max: number;
}

export function percentiles(values: number[]): Percentiles {
  const s = [...values].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  return { p50: at(0.5), p99: at(0.99), max: s[s.length - 1]! };
}

/** Runs `fn` in `batches` batches of `batch` calls; ns per call of each batch, and wall seconds. */
export function timeBatches(fn: () => void, batch: number, batches: number): { nsPerCall: number[]; seconds: number } {
  const start = performance.now();
  const nsPerCall: number[] = [];
  for (let b = 0; b < batches; b++) {
    const t0 = performance.now();
    for (let i = 0; i < batch; i++) fn();
    nsPerCall.push(((performance.now() - t0) * 1e6) / batch);
  }
  return { nsPerCall, seconds: (performance.now() - start) / 1000 };
}

/**
 * One function's bench: `timeBatches`, then its percentiles and the process's CPU and memory
 * over the same window (taken before any allocation counting that follows).
 */
export function measureBatches(fn: () => void, batch: number, batches: number): { timing: { nsPerCall: number[]; seconds: number }; p: Percentiles; res: ReturnType<typeof resources> } {
  const wall = performance.now();
  const cpu = process.cpuUsage();
  const timing = timeBatches(fn, batch, batches);
  const res = resources(cpu, wall);
  return { timing, p: percentiles(timing.nsPerCall), res };
}

const gc = (globalThis as { gc?: () => void }).gc;

/**
 * Heap growth per call, the smallest of `repeats` windows: JIT compilation and feedback
 * also land on the heap, and a window that happens to include them overstates the code's
 * own allocation. A function that really allocates shows it in every window.
 */
let measuringWarmedUp = false;

export function bytesPerCall(fn: () => void, calls: number, repeats = 5): number | null {
  if (!gc) return null;
  if (!measuringWarmedUp) {
    // The first measurement in a process also counts this function's own optimisation (about 1 B per call over 200k calls, seen with a no-op): spend it on a no-op.
    measuringWarmedUp = true;
    bytesPerCall(() => {}, calls, repeats);
  }
  for (let i = 0; i < 100_000; i++) fn();
  let best = Infinity;
  for (let r = 0; r < repeats; r++) {
    gc();
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < calls; i++) fn();
    const after = process.memoryUsage().heapUsed;
    best = Math.min(best, Math.max(0, (after - before) / calls));
  }
  return Math.round(best * 1000) / 1000;
}

export function resources(cpuStart: NodeJS.CpuUsage, wallStartMs: number) {
  const cpu = process.cpuUsage(cpuStart);
  const wallMs = performance.now() - wallStartMs;
  const mem = process.memoryUsage();
  return {
    cpuPercentOfOneCore: Math.round((((cpu.user + cpu.system) / 1000) / wallMs) * 1000) / 10,
    rssMiB: Math.round(mem.rss / 1048576),
    heapUsedMiB: Math.round(mem.heapUsed / 1048576),
  };
}

/**
 * CPU time the hypervisor took from this VM (/proc/stat's steal, all vCPUs): call once before
 * a run and once after with the first result; the second returns the share of the VM's CPU
 * time stolen meanwhile, in %. A vCPU taken away wakes no thread, however high its priority,
 * so every lateness figure measured on a VM belongs beside this one. null where there is no
 * /proc/stat.
 */
export function vmSteal(): { steal: number; total: number } | null;
export function vmSteal(since: { steal: number; total: number } | null): number | null;
export function vmSteal(since?: { steal: number; total: number } | null) {
  let now: { steal: number; total: number };
  try {
    // cpu  user nice system idle iowait irq softirq steal guest guest_nice (guest is in user)
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
    now = { steal: f[7]!, total: f.reduce((a, b) => a + b, 0) };
  } catch {
    return null;
  }
  if (since === undefined) return now;
  if (since === null || now.total === since.total) return null;
  return round((100 * (now.steal - since.steal)) / (now.total - since.total), 2);
}

export function round(n: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
