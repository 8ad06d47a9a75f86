import { type MotionSample } from '../telemetry/motion-sample.js';
import { MAX_AXES } from '../output/riglink/protocol.js';

/**
 * What the main thread and the control worker share, and where each number lives.
 *
 * - sample slot (main → worker, seqlock): the newest MotionSample plus its receive time;
 * - link slot (main → worker, seqlock): serial session and the newest MCU STATUS;
 * - control words (main → worker, Int32 + Atomics): e-stop trigger, clear requests,
 *   shutdown, profile version, stop;
 * - status slot (worker → main, seqlock): state, counters, pose, setpoints;
 * - histograms (worker → main, Int32 + Atomics): tick lateness and sample-to-frame latency, µs.
 */

// ---- sample slot --------------------------------------------------------------------------
export const SAMPLE_SLOT_LENGTH = 27;

/** receiveEpochMs: performance.timeOrigin + performance.now() at receipt (comparable across threads), ms. */
export function packSample(s: MotionSample, receiveEpochMs: number, out: Float64Array): void {
  out[0] = receiveEpochMs;
  out[1] = s.sequence;
  out[2] = s.ax;
  out[3] = s.ay;
  out[4] = s.az;
  out[5] = s.accelerationSource;
  out[6] = s.gx;
  out[7] = s.gy;
  out[8] = s.gz;
  out[9] = s.hasGravity ? 1 : 0;
  out[10] = s.p;
  out[11] = s.q;
  out[12] = s.r;
  out[13] = s.steer;
  out[14] = s.steerRate;
  out[15] = s.hasSteer ? 1 : 0;
  out[16] = s.speed;
  out[17] = s.px;
  out[18] = s.py;
  out[19] = s.pz;
  out[20] = s.hasPosition ? 1 : 0;
  out[21] = s.onTrack ? 1 : 0;
  out[22] = s.paused ? 1 : 0;
  out[23] = s.loading ? 1 : 0;
  out[24] = s.replay ? 1 : 0;
  out[25] = s.carId;
  out[26] = s.receiveTimeNs;
}

/** Returns the receive time (epoch ms) packed with it. */
export function unpackSample(v: Float64Array, s: MotionSample): number {
  s.sequence = v[1]!;
  s.ax = v[2]!;
  s.ay = v[3]!;
  s.az = v[4]!;
  s.accelerationSource = v[5]!;
  s.gx = v[6]!;
  s.gy = v[7]!;
  s.gz = v[8]!;
  s.hasGravity = v[9] === 1;
  s.p = v[10]!;
  s.q = v[11]!;
  s.r = v[12]!;
  s.steer = v[13]!;
  s.steerRate = v[14]!;
  s.hasSteer = v[15] === 1;
  s.speed = v[16]!;
  s.px = v[17]!;
  s.py = v[18]!;
  s.pz = v[19]!;
  s.hasPosition = v[20] === 1;
  s.onTrack = v[21] === 1;
  s.paused = v[22] === 1;
  s.loading = v[23] === 1;
  s.replay = v[24] === 1;
  s.carId = v[25]!;
  s.receiveTimeNs = v[26]!;
  return v[0]!;
}

// ---- link slot ----------------------------------------------------------------------------
export const Link = {
  up: 0,
  generation: 1,
  /** File descriptor the worker writes to; −1 none; −2 the in-process virtual rig. */
  fd: 2,
  /** Mcu.* of the newest STATUS (−1 unknown / no feedback). */
  mcu: 3,
  /** STATUS frames so far (positions valid when > 0). */
  statusCount: 4,
  positions: 5,
} as const;
export const LINK_SLOT_LENGTH = Link.positions + MAX_AXES;
export const FD_VIRTUAL = -2;

// ---- control words ------------------------------------------------------------------------
export const Control = { estop: 0, clearRequests: 1, shutdown: 2, profileVersion: 3, stop: 4, ticking: 5 } as const;
export const CONTROL_LENGTH = 8;

// ---- status slot --------------------------------------------------------------------------
export const Status = {
  tick: 0,
  state: 1,
  cause: 2,
  changes: 3,
  holdReason: 4,
  engagement: 5,
  scale: 6,
  lateTicks: 7,
  skippedTicks: 8,
  maxLatenessUs: 9,
  framesWritten: 10,
  writeErrors: 11,
  commandsSent: 12,
  lastCommand: 13,
  motionActive: 14,
  samples: 15,
  teleports: 16,
  carChanges: 17,
  carId: 18,
  profileApplied: 19,
  rateHz: 20,
  actuatorCount: 21,
  /** Mcu.* as the worker last saw it. */
  mcu: 22,
  pose: 23,
  cue: 29,
  actuators: 35,
  wire: 35 + MAX_AXES,
} as const;
export const STATUS_SLOT_LENGTH = Status.wire + MAX_AXES;

// ---- histograms ---------------------------------------------------------------------------
/** 1 µs buckets up to 20 ms; the last bucket counts everything above. */
export const HISTOGRAM_BUCKETS = 20_001;

/** Percentile (0..100) of a µs histogram, µs; NaN when empty. */
export function histogramPercentile(h: Int32Array, pct: number): number {
  const total = histogramCount(h);
  if (total === 0) return Number.NaN;
  const want = Math.ceil((pct / 100) * total);
  let seen = 0;
  for (let i = 0; i < h.length; i++) {
    seen += h[i]!;
    if (seen >= want) return i;
  }
  return h.length - 1;
}

export function histogramCount(h: Int32Array): number {
  let total = 0;
  for (let i = 0; i < h.length; i++) total += h[i]!;
  return total;
}

// ---- state changes -------------------------------------------------------------------------
/**
 * A ring of supervisor state changes (worker → main), so every change gets its log line even
 * when several happen between two polls: word 0 counts entries written; entry i lives at
 * 1 + (i mod TRANSITION_RING)·4 as [state, cause, hold reason, tick].
 */
export const TRANSITION_RING = 64;

/** Everything the worker needs, passed as workerData (structured clone; SABs are shared). */
export interface SharedBuffers {
  sample: SharedArrayBuffer;
  link: SharedArrayBuffer;
  control: SharedArrayBuffer;
  status: SharedArrayBuffer;
  lateness: SharedArrayBuffer;
  latency: SharedArrayBuffer;
  transitions: SharedArrayBuffer;
}

export function createSharedBuffers(): SharedBuffers {
  return {
    sample: new SharedArrayBuffer(8 + 8 * SAMPLE_SLOT_LENGTH),
    link: new SharedArrayBuffer(8 + 8 * LINK_SLOT_LENGTH),
    control: new SharedArrayBuffer(4 * CONTROL_LENGTH),
    status: new SharedArrayBuffer(8 + 8 * STATUS_SLOT_LENGTH),
    lateness: new SharedArrayBuffer(4 * HISTOGRAM_BUCKETS),
    latency: new SharedArrayBuffer(4 * HISTOGRAM_BUCKETS),
    transitions: new SharedArrayBuffer(4 * (1 + 4 * TRANSITION_RING)),
  };
}
