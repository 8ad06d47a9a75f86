/**
 * GT7 frames to ISO 8855. GT7 car-local is x right, y up, z backward; ISO is x forward,
 * y left, z up. The map (x, y, z)_gt → (−z, −x, y)_iso is a proper rotation (det +1), so
 * it converts angular velocity (a pseudo-vector) the same way as plain vectors.
 * The world frame uses the same map, so the game's y-up world becomes z-up.
 */

/** v_iso = M · v_gt written out; `out` may alias nothing else. */
export function gtToIso(x: number, y: number, z: number, out: Float64Array): Float64Array {
  out[0] = -z;
  out[1] = -x;
  out[2] = y;
  return out;
}

/** Inverse of gtToIso. */
export function isoToGt(x: number, y: number, z: number, out: Float64Array): Float64Array {
  out[0] = -y;
  out[1] = z;
  out[2] = -x;
  return out;
}

/**
 * Rotates v by the unit quaternion (qx, qy, qz, qw), or by its inverse when `inverse`.
 * v' = v + 2w(u×v) + 2u×(u×v), u = (qx, qy, qz) (negated for the inverse).
 */
export function rotateByQuaternion(
  qx: number,
  qy: number,
  qz: number,
  qw: number,
  inverse: boolean,
  vx: number,
  vy: number,
  vz: number,
  out: Float64Array,
): Float64Array {
  const ux = inverse ? -qx : qx;
  const uy = inverse ? -qy : qy;
  const uz = inverse ? -qz : qz;
  const tx = 2 * (uy * vz - uz * vy);
  const ty = 2 * (uz * vx - ux * vz);
  const tz = 2 * (ux * vy - uy * vx);
  out[0] = vx + qw * tx + (uy * tz - uz * ty);
  out[1] = vy + qw * ty + (uz * tx - ux * tz);
  out[2] = vz + qw * tz + (ux * ty - uy * tx);
  return out;
}
