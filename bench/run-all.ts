import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Runs each benchmark in its own process (clean heap, flags for allocation counting). */
const here = dirname(fileURLToPath(import.meta.url));
const benches = ['gt7-decode.js', 'f1-decode.js', 'cueing.js', 'kinematics.js', 'budgets.js', 'reconstruction.js', 'riglink.js', 'control-tick.js', 'clock.js', 'wakeup-latency.js', 'service.js', 'web.js', 'relay.js', 'report.js', 'fit.js', 'firmware.js'];
let failed = 0;
for (const b of benches) {
  const r = spawnSync(process.execPath, ['--expose-gc', '--max-semi-space-size=64', join(here, b)], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) failed++;
}
process.exitCode = failed ? 1 : 0;
