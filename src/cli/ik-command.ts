import { loadRigFile } from '../config/rig-file.js';
import { UsageError } from './usage.js';

/**
 * `motion-rig ik --rig FILE --pose x,y,z,roll,pitch,yaw [--json]`: one inverse-kinematics
 * solve with reachability, for checking a rig file by hand. Pose in m and rad, relative to
 * the neutral pose, ISO 8855 (x forward, y left, z up).
 */
export function runIk(v: { rig?: string; pose?: string; json?: boolean }): number {
  if (!v.rig) throw new UsageError('ik needs --rig FILE');
  if (!v.pose) throw new UsageError('ik needs --pose x,y,z,roll,pitch,yaw (m and rad)');
  const parts = v.pose.split(',').map((s) => s.trim());
  const pose = new Float64Array(parts.map(Number));
  if (parts.length !== 6 || parts.some((s) => s === '') || pose.some((n) => !Number.isFinite(n))) {
    throw new UsageError(`--pose needs six finite numbers x,y,z,roll,pitch,yaw (got "${v.pose}")`);
  }
  const rig = loadRigFile(v.rig);
  const reachable = rig.solve(pose, 0);
  const result = { legs: Array.from(rig.legs), actuators: Array.from(rig.actuators), reachable, scale: rig.scale };
  if (v.json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return 0;
  }
  const g = rig.geometry;
  const unit = g.legKind === 'crank' ? 'rad' : 'm';
  const lines = [`${g.name} (${g.type})`, reachable ? 'pose reachable as asked' : `pose NOT reachable as asked: scaled toward neutral, ${(rig.scale * 100).toFixed(2)} % of it kept`];
  for (let i = 0; i < rig.legCount; i++) {
    lines.push(`  actuator ${i + 1}: ${rig.actuators[i]!.toFixed(6)} ${unit}   leg ${rig.legs[i]!.toFixed(6)} m   usable ${rig.low[i]!.toFixed(4)}..${rig.high[i]!.toFixed(4)}`);
  }
  if (g.yaw) {
    const n = rig.legCount;
    lines.push(`  yaw table:  ${rig.actuators[n]!.toFixed(6)} rad   usable ${rig.low[n]!.toFixed(4)}..${rig.high[n]!.toFixed(4)}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
