import type { ActuatorLimits, RigSpec, RigType } from '../config/rig-schema.js';

/**
 * A rig description resolved to plain geometry: every anchor explicit, every default
 * filled in. Generators are expanded here and nowhere else.
 */

export type Vec3 = [number, number, number];

/**
 * How an actuator's value follows from its leg vector l = T + R·p − b:
 * - `linear`: a ram along the leg, value = |l| − retractedLength (m of extension);
 * - `vertical`: a ram held vertical (SFX-style corners), value = l_z − retractedLength;
 * - `crank`: a horn of length a on a horizontal shaft at b, a rod of length s to p; value = crank angle α (rad, 0 = horn level, positive up).
 */
export type LegKind = 'linear' | 'vertical' | 'crank';

export interface UsableLimits extends ActuatorLimits {
  park: number;
  /** [min + margin, max − margin]: what reachability and the limiter both allow. */
  low: number;
  high: number;
}

export interface RigGeometry {
  type: RigType;
  name: string;
  homeHeight: number;
  legKind: LegKind;
  base: Vec3[];
  platform: Vec3[];
  /** Crank rigs only (else empty / NaN). */
  hornLength: number;
  rodLength: number;
  hornAngles: number[];
  /** Linear and vertical rigs only (else NaN). */
  retractedLength: number;
  /** Which pose components (x y z roll pitch yaw) the legs follow; the mechanism holds the others. */
  legDof: [boolean, boolean, boolean, boolean, boolean, boolean];
  actuators: UsableLimits;
  yaw: UsableLimits | undefined;
}

/** The limits of actuator i: the legs', or the yaw table's when it is the last actuator. */
export function actuatorLimits(g: RigGeometry, i: number): UsableLimits {
  return g.yaw !== undefined && i === legCountOf(g.type) ? g.yaw : g.actuators;
}

export interface RigProblem {
  path: (string | number)[];
  message: string;
}

const LEG_COUNT: Record<RigType, number> = {
  'stewart-linear': 6,
  'stewart-rotary': 6,
  'three-actuator': 3,
  'two-actuator': 2,
  'four-corner': 4,
};

export function legCountOf(type: RigType): number {
  return LEG_COUNT[type];
}

function usable(limits: ActuatorLimits): UsableLimits {
  const margin = ((limits.max - limits.min) * limits.marginPct) / 100;
  const low = limits.min + margin;
  const high = limits.max - margin;
  return { ...limits, low, high, park: limits.park ?? low };
}

function legKindOf(spec: RigSpec): LegKind {
  switch (spec.type) {
    case 'stewart-linear':
      return 'linear';
    case 'stewart-rotary':
      return 'crank';
    case 'four-corner':
      return 'vertical';
    default:
      return spec.actuator === 'crank' ? 'crank' : 'linear';
  }
}

/** Hexapod anchor angles: leg 2k and 2k+1 share base pair k (centred at k·120°), and reach to the platform pairs either side (centred at k·120° ± 60°). */
function hexapodAngles(spacing: number, forBase: boolean): number[] {
  const out: number[] = [];
  for (let k = 0; k < 3; k++) {
    const centre = (k * 2 * Math.PI) / 3;
    if (forBase) out.push(centre - spacing / 2, centre + spacing / 2);
    else out.push(centre - Math.PI / 3 + spacing / 2, centre + Math.PI / 3 - spacing / 2);
  }
  return out;
}

const onCircle = (r: number, a: number): Vec3 => [r * Math.cos(a), r * Math.sin(a), 0];

/** Pair spacing (rad, about 11°) when a hexapod generator leaves baseSpacing/platformSpacing out. */
const DEFAULT_PAIR_SPACING = 0.2;

/** Platform anchors of the small rigs, in actuator order (left before right, front before rear). */
function smallRigPlatform(spec: RigSpec, problems: RigProblem[]): Vec3[] | undefined {
  const need = (key: 'length' | 'width' | 'actuatorX'): number | undefined => {
    const v = spec[key];
    if (v === undefined) problems.push({ path: [key], message: `required to generate the ${spec.type} anchors when "platform" is not given` });
    return v;
  };
  if (spec.type === 'four-corner') {
    const l = need('length');
    const w = need('width');
    if (l === undefined || w === undefined) return undefined;
    return [
      [l / 2, w / 2, 0],
      [l / 2, -w / 2, 0],
      [-l / 2, w / 2, 0],
      [-l / 2, -w / 2, 0],
    ];
  }
  if (spec.type === 'three-actuator') {
    const l = need('length');
    const w = need('width');
    if (l === undefined || w === undefined) return undefined;
    const pairX = spec.pair === 'front' ? l / 2 : -l / 2;
    return [
      [pairX, w / 2, 0],
      [pairX, -w / 2, 0],
      [-pairX, 0, 0],
    ];
  }
  const x = need('actuatorX');
  const w = need('width');
  if (x === undefined || w === undefined) return undefined;
  return [
    [x, w / 2, 0],
    [x, -w / 2, 0],
  ];
}

/**
 * Expands a validated rig spec to geometry. Returns problems (with key paths) instead of
 * throwing, so the config loader can point at the line.
 */
export function resolveRig(spec: RigSpec): { geometry: RigGeometry; problems: [] } | { geometry: undefined; problems: RigProblem[] } {
  const problems: RigProblem[] = [];
  const n = LEG_COUNT[spec.type];
  const kind = legKindOf(spec);
  const isHexapod = spec.type === 'stewart-linear' || spec.type === 'stewart-rotary';
  const hexapodBaseAngles = isHexapod ? hexapodAngles(spec.baseSpacing ?? DEFAULT_PAIR_SPACING, true) : [];

  if (spec.actuator !== undefined && isHexapod) problems.push({ path: ['actuator'], message: `not used by ${spec.type} (the type fixes the actuator)` });
  if (spec.actuator === 'crank' && spec.type === 'four-corner') problems.push({ path: ['actuator'], message: 'four-corner rigs use vertical linear actuators' });
  if (kind === 'crank') {
    if (spec.hornLength === undefined) problems.push({ path: ['hornLength'], message: 'required for crank actuators' });
    if (spec.rodLength === undefined) problems.push({ path: ['rodLength'], message: 'required for crank actuators' });
    if (spec.retractedLength !== undefined) problems.push({ path: ['retractedLength'], message: 'only for linear actuators' });
  } else {
    for (const key of ['hornLength', 'rodLength', 'hornAngles'] as const) {
      if (spec[key] !== undefined) problems.push({ path: [key], message: 'only for crank actuators' });
    }
  }
  for (const key of ['baseRadius', 'platformRadius', 'baseSpacing', 'platformSpacing'] as const) {
    if (!isHexapod && spec[key] !== undefined) problems.push({ path: [key], message: `a hexapod generator; not used by ${spec.type}` });
  }
  for (const key of ['length', 'width', 'actuatorX'] as const) {
    if (isHexapod && spec[key] !== undefined) problems.push({ path: [key], message: `not used by ${spec.type} (use baseRadius/platformRadius or explicit anchors)` });
  }

  // Platform anchors.
  let platform: Vec3[] | undefined;
  if (spec.platform) {
    if (spec.platform.length !== n) problems.push({ path: ['platform'], message: `${spec.type} needs ${n} anchors, got ${spec.platform.length}` });
    else platform = spec.platform.map((p) => [...p] as Vec3);
  } else if (isHexapod) {
    if (spec.platformRadius === undefined) problems.push({ path: ['platformRadius'], message: 'required when "platform" anchors are not given' });
    else platform = hexapodAngles(spec.platformSpacing ?? DEFAULT_PAIR_SPACING, false).map((a) => onCircle(spec.platformRadius!, a));
  } else {
    platform = smallRigPlatform(spec, problems);
  }

  // Horn angles (crank rigs), needed before generated crank pivots.
  let hornAngles: number[] = [];
  if (kind === 'crank') {
    if (spec.hornAngles) {
      if (spec.hornAngles.length !== n) problems.push({ path: ['hornAngles'], message: `${spec.type} needs ${n} horn angles, got ${spec.hornAngles.length}` });
      else hornAngles = [...spec.hornAngles];
    } else if (isHexapod) {
      // Tangential horns, each turned toward the platform pair its leg reaches for.
      hornAngles = hexapodBaseAngles.map((a, i) => (i % 2 === 0 ? a - Math.PI / 2 : a + Math.PI / 2));
      if (spec.base) problems.push({ path: ['hornAngles'], message: 'required with explicit "base" anchors (the horn directions depend on them)' });
    } else {
      hornAngles = new Array<number>(n).fill(0);
    }
  }

  // Base anchors.
  let base: Vec3[] | undefined;
  if (spec.base) {
    if (spec.base.length !== n) problems.push({ path: ['base'], message: `${spec.type} needs ${n} anchors, got ${spec.base.length}` });
    else base = spec.base.map((b) => [...b] as Vec3);
  } else if (isHexapod) {
    if (spec.baseRadius === undefined) problems.push({ path: ['baseRadius'], message: 'required when "base" anchors are not given' });
    else base = hexapodBaseAngles.map((a) => onCircle(spec.baseRadius!, a));
  } else if (platform) {
    // Small rigs: actuators stand under their platform anchors; a crank's shaft sits one horn length back so its rod is vertical with the horn level.
    const a = kind === 'crank' ? (spec.hornLength ?? 0) : 0;
    base = platform.map((p, i) => [p[0] - a * Math.cos(hornAngles[i] ?? 0), p[1] - a * Math.sin(hornAngles[i] ?? 0), 0]);
  }

  const actuators = usable(spec.actuators);
  const yaw = spec.yaw ? usable(spec.yaw) : undefined;
  for (const [key, lim] of [['actuators', actuators], ['yaw', yaw]] as const) {
    if (lim && !(lim.park >= lim.low && lim.park <= lim.high)) {
      problems.push({ path: [key, 'park'], message: `park ${lim.park} is outside the usable travel ${round(lim.low)}..${round(lim.high)} (min/max less ${lim.marginPct}% margin)` });
    }
  }

  if (problems.length > 0 || !base || !platform) return { geometry: undefined, problems };

  // Linear rigs: by default the neutral pose sits at mid-travel (mean over the legs, since every ram is the same model).
  let retractedLength = Number.NaN;
  if (kind !== 'crank') {
    if (spec.retractedLength !== undefined) retractedLength = spec.retractedLength;
    else {
      const mid = (actuators.min + actuators.max) / 2;
      let sum = 0;
      for (let i = 0; i < n; i++) {
        const l: Vec3 = [platform[i]![0] - base[i]![0], platform[i]![1] - base[i]![1], spec.homeHeight + platform[i]![2] - base[i]![2]];
        sum += kind === 'vertical' ? l[2] : Math.sqrt(l[0] * l[0] + l[1] * l[1] + l[2] * l[2]);
      }
      retractedLength = sum / n - mid;
    }
  }

  const legDof: RigGeometry['legDof'] = isHexapod
    ? [true, true, true, true, true, true]
    : spec.type === 'two-actuator'
      ? [false, false, false, true, true, false]
      : [false, false, true, true, true, false];
  if (yaw) legDof[5] = false;

  return {
    problems: [],
    geometry: {
      type: spec.type,
      name: spec.name ?? spec.type,
      homeHeight: spec.homeHeight,
      legKind: kind,
      base,
      platform,
      hornLength: spec.hornLength ?? Number.NaN,
      rodLength: spec.rodLength ?? Number.NaN,
      hornAngles,
      retractedLength,
      legDof,
      actuators,
      yaw,
    },
  };
}

const round = (v: number) => Math.round(v * 1e6) / 1e6;
