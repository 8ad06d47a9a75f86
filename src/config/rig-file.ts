import { z } from 'zod';
import { resolveRig } from '../kinematics/geometry.js';
import { RigKinematics, rigFromSpec } from '../kinematics/rig.js';
import { loadYamlFile } from './load-yaml.js';
import { rigSpecSchema } from './rig-schema.js';

/**
 * The rig schema with its cross-field checks: anchor counts, the keys that apply to the
 * type, and a neutral pose every actuator can reach with margin (reachability scales
 * toward neutral, so neutral must be safe). Problems carry key paths, so the loader names
 * the line.
 */
export const rigSchema = rigSpecSchema.superRefine((spec, ctx) => {
  const resolved = resolveRig(spec);
  for (const p of resolved.problems) ctx.addIssue({ code: 'custom', path: p.path, message: p.message });
  if (!resolved.geometry) return;
  const kin = new RigKinematics(resolved.geometry);
  const unit = resolved.geometry.legKind === 'crank' ? 'rad' : 'm';
  for (let i = 0; i < kin.legCount; i++) {
    const v = kin.neutral[i]!;
    if (!(v >= kin.low[i]! && v <= kin.high[i]!)) {
      ctx.addIssue({
        code: 'custom',
        path: ['homeHeight'],
        message: `at the neutral pose actuator ${i + 1} would be at ${Number.isNaN(v) ? 'an unreachable crank angle (rod too short or too long)' : `${round(v)} ${unit}`}, outside its usable travel ${round(kin.low[i]!)}..${round(kin.high[i]!)} ${unit}`,
      });
    }
  }
});

/** A rig file: `rig:` and nothing else (the service config carries the same key). */
export const rigFileSchema = z.strictObject({ rig: rigSchema });

/** Loads and validates a rig file; throws ConfigError (file:line: key: reason) when it is not usable. */
export function loadRigFile(path: string): RigKinematics {
  return rigFromSpec(loadYamlFile(path, rigFileSchema).rig);
}

const round = (v: number) => Math.round(v * 1e5) / 1e5;
