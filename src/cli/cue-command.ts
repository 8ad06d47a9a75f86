import { createWriteStream, writeFileSync } from 'node:fs';
import { loadProfileFile } from '../config/profiles.js';
import { runCueing } from '../cueing/offline.js';
import { budgetsFor } from '../runtime/control-loop.js';
import { defaultCueProfile } from '../cueing/profile.js';
import { LOOP_RATE_DEFAULT_HZ, LOOP_RATE_RANGE, isLoopRate } from '../cueing/rate.js';
import { loadRigFile } from '../config/rig-file.js';
import { readMotionFile } from '../telemetry/sample-file.js';
import { svgPlot } from './plot.js';
import { UsageError } from './usage.js';

/**
 * `motion-rig cue --profile FILE --input FILE [--rate 1000] [--format csv] [--plot FILE.svg]`:
 * the cueing chain over a recording or CSV, one CSV row per control tick: t,x,y,z,roll,pitch,yaw
 * (s, m, rad). With `--rig FILE`, each row also carries the actuator values a1..aN after
 * reachability scaling (m of extension or rad of crank; the yaw table last), the chain then
 * limited to the rig's shared budgets as in the service (cue.workspace).
 */
export async function runCue(v: { profile?: string; input?: string; rate?: string; format?: string; plot?: string; out?: string; rig?: string }): Promise<number> {
  if (!v.input) throw new UsageError('cue needs --input FILE (a GT7 or F1 recording or *.lpr, or CSV t,ax,ay,az,p,q,r,steer,speed)');
  if (v.format !== undefined && v.format !== 'csv') throw new UsageError(`--format: only csv is supported (got "${v.format}")`);
  const rate = v.rate === undefined ? LOOP_RATE_DEFAULT_HZ : Number(v.rate);
  if (!isLoopRate(rate)) throw new UsageError(`--rate must be ${LOOP_RATE_RANGE} (got "${v.rate}")`);
  const profile = v.profile ? loadProfileFile(v.profile, rate).cue : defaultCueProfile();
  const rig = v.rig !== undefined ? loadRigFile(v.rig) : undefined;
  const samples = readMotionFile(v.input);
  if (samples.length === 0) {
    process.stderr.write(`${v.input}: no motion samples found\n`);
    return 1;
  }
  const out = v.out ? createWriteStream(v.out) : process.stdout;
  const plot = v.plot ? { t: [] as number[], cols: Array.from({ length: 13 }, () => [] as number[]) } : undefined;
  const plotEvery = Math.max(1, Math.round(rate / 200));
  const actuatorColumns = rig ? Array.from({ length: rig.actuatorCount }, (_, i) => `,a${i + 1}`).join('') : '';
  out.write(`t,x,y,z,roll,pitch,yaw${actuatorColumns}\n`);
  let k = 0;
  let buffer = '';
  let scaledTicks = 0;
  let minScale = 1;
  // With a rig, the channel limits the service would use on it (the rig's shared budgets).
  const chain = runCueing(profile, rate, samples, (t, c) => {
    const p = c.pose;
    buffer += `${t.toFixed(6)},${p[0]!.toFixed(6)},${p[1]!.toFixed(6)},${p[2]!.toFixed(6)},${p[3]!.toFixed(6)},${p[4]!.toFixed(6)},${p[5]!.toFixed(6)}`;
    if (rig) {
      if (!rig.solve(p, 0)) {
        scaledTicks++;
        minScale = Math.min(minScale, rig.scale);
      }
      for (let i = 0; i < rig.actuatorCount; i++) buffer += `,${rig.actuators[i]!.toFixed(6)}`;
    }
    buffer += '\n';
    if (buffer.length > 1 << 16) {
      out.write(buffer);
      buffer = '';
    }
    if (plot && k % plotEvery === 0) {
      plot.t.push(t);
      const s = c.signals;
      [s[0]!, s[1]!, s[2]!, s[3]!, s[4]!, s[5]!, c.tilt[1]!, c.tilt[0]!, p[0]!, p[1]!, p[2]!, p[3]!, p[4]!].forEach((val, i) => plot.cols[i]!.push(val));
    }
    k++;
  }, rig !== undefined ? budgetsFor(rig, profile) : undefined);
  out.write(buffer);
  if (out !== process.stdout) await new Promise<void>((r) => (out as NodeJS.WritableStream).end(r));
  if (plot && v.plot) {
    const deg = (a: number[]) => a.map((r) => (r * 180) / Math.PI);
    const svg = svgPlot(`motion-rig cue: ${v.input} at ${rate} Hz`, plot.t, [
      { title: 'inputs: specific force (fz minus 1 g)', unit: 'm/s²', series: [{ label: 'fx', values: plot.cols[0]!, color: '#c0392b' }, { label: 'fy', values: plot.cols[1]!, color: '#2471a3' }, { label: 'fz', values: plot.cols[2]!, color: '#229954' }] },
      { title: 'inputs: angular velocity', unit: 'rad/s', series: [{ label: 'p', values: plot.cols[3]!, color: '#c0392b' }, { label: 'q', values: plot.cols[4]!, color: '#2471a3' }, { label: 'r', values: plot.cols[5]!, color: '#229954' }] },
      { title: 'tilt coordination and platform roll/pitch', unit: 'deg', series: [{ label: 'tilt pitch', values: deg(plot.cols[6]!), color: '#c0392b' }, { label: 'tilt roll', values: deg(plot.cols[7]!), color: '#2471a3' }, { label: 'pitch', values: deg(plot.cols[12]!), color: '#e59866' }, { label: 'roll', values: deg(plot.cols[11]!), color: '#85c1e9' }] },
      { title: 'translation', unit: 'm', series: [{ label: 'x surge', values: plot.cols[8]!, color: '#c0392b' }, { label: 'y sway', values: plot.cols[9]!, color: '#2471a3' }, { label: 'z heave', values: plot.cols[10]!, color: '#229954' }] },
    ]);
    writeFileSync(v.plot, svg);
  }
  const st = chain.stats;
  const reach = rig ? `; rig ${rig.geometry.name}: ${scaledTicks} ticks scaled toward neutral (smallest scale ${minScale.toFixed(4)})` : '';
  process.stderr.write(`${samples.length} samples → ${k} ticks at ${rate} Hz; spikes filtered ${st.spikes}, inputs rejected ${st.rejectedInputs}${reach}${v.plot ? `; plot ${v.plot}` : ''}\n`);
  return 0;
}
