/**
 * The pose rotation R = Rz(yaw)·Ry(pitch)·Rx(roll) (ARCHITECTURE.md §2), row-major into
 * out[0..8]. Angles are read from pose[index + 3..5] so no double crosses a call
 * (docs/cueing.md, "hot path").
 */
export function rotationFromPose(pose: Float64Array, index: number, out: Float64Array): void {
  const roll = pose[index + 3]!;
  const pitch = pose[index + 4]!;
  const yaw = pose[index + 5]!;
  const cr = Math.cos(roll);
  const sr = Math.sin(roll);
  const cp = Math.cos(pitch);
  const sp = Math.sin(pitch);
  const cy = Math.cos(yaw);
  const sy = Math.sin(yaw);
  out[0] = cy * cp;
  out[1] = cy * sp * sr - sy * cr;
  out[2] = cy * sp * cr + sy * sr;
  out[3] = sy * cp;
  out[4] = sy * sp * sr + cy * cr;
  out[5] = sy * sp * cr - cy * sr;
  out[6] = -sp;
  out[7] = cp * sr;
  out[8] = cp * cr;
}
