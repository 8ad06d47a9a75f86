import { type MotionSample } from '../telemetry/motion-sample.js';
import { MAX_AXES } from '../output/riglink/protocol.js';
import { layout } from './layout.js';

/**
 * The thread contract: what the main thread, the control worker, the serial thread and the
 * e-stop thread share, declared once.
 *
 * - sample slot (main → worker, seqlock): the newest MotionSample plus its receive time;
 * - port slot (serial thread → worker, seqlock): the open port (fd, generation) and what the
 *   MCU said on it (STATUS, HELLO_ACK, bad frames), counted per port generation;
 * - control words (Int32 + Atomics, any thread → worker): e-stop triggers, clear requests,
 *   shutdown, profile version, stop, park request; and worker → serial thread: which session it gave up;
 * - status slot (worker → main, seqlock): state, counters, pose, setpoints;
 * - histograms (worker → main): tick lateness and sample-to-frame latency, µs;
 * - transitions ring (worker → main): every supervisor state change, for its log line.
 */

// ---- sample slot --------------------------------------------------------------------------
export const Sample = layout({
  receiveEpochMs: 1, sequence: 1, ax: 1, ay: 1, az: 1, accelerationSource: 1, gx: 1, gy: 1, gz: 1, hasGravity: 1,
  p: 1, q: 1, r: 1, steer: 1, steerRate: 1, hasSteer: 1, speed: 1, px: 1, py: 1, pz: 1, hasPosition: 1,
  onTrack: 1, paused: 1, loading: 1, replay: 1, carId: 1, receiveTimeNs: 1,
});

/** receiveEpochMs: performance.timeOrigin + performance.now() at receipt (comparable across threads), ms. */
export function packSample(s: MotionSample, receiveEpochMs: number, out: Float64Array): void {
  const L = Sample;
  out[L.receiveEpochMs] = receiveEpochMs;
  out[L.sequence] = s.sequence;
  out[L.ax] = s.ax;
  out[L.ay] = s.ay;
  out[L.az] = s.az;
  out[L.accelerationSource] = s.accelerationSource;
  out[L.gx] = s.gx;
  out[L.gy] = s.gy;
  out[L.gz] = s.gz;
  out[L.hasGravity] = s.hasGravity ? 1 : 0;
  out[L.p] = s.p;
  out[L.q] = s.q;
  out[L.r] = s.r;
  out[L.steer] = s.steer;
  out[L.steerRate] = s.steerRate;
  out[L.hasSteer] = s.hasSteer ? 1 : 0;
  out[L.speed] = s.speed;
  out[L.px] = s.px;
  out[L.py] = s.py;
  out[L.pz] = s.pz;
  out[L.hasPosition] = s.hasPosition ? 1 : 0;
  out[L.onTrack] = s.onTrack ? 1 : 0;
  out[L.paused] = s.paused ? 1 : 0;
  out[L.loading] = s.loading ? 1 : 0;
  out[L.replay] = s.replay ? 1 : 0;
  out[L.carId] = s.carId;
  out[L.receiveTimeNs] = s.receiveTimeNs;
}

/** Returns the receive time (epoch ms) packed with it. */
export function unpackSample(v: Float64Array, s: MotionSample): number {
  const L = Sample;
  s.sequence = v[L.sequence]!;
  s.ax = v[L.ax]!;
  s.ay = v[L.ay]!;
  s.az = v[L.az]!;
  s.accelerationSource = v[L.accelerationSource]!;
  s.gx = v[L.gx]!;
  s.gy = v[L.gy]!;
  s.gz = v[L.gz]!;
  s.hasGravity = v[L.hasGravity] === 1;
  s.p = v[L.p]!;
  s.q = v[L.q]!;
  s.r = v[L.r]!;
  s.steer = v[L.steer]!;
  s.steerRate = v[L.steerRate]!;
  s.hasSteer = v[L.hasSteer] === 1;
  s.speed = v[L.speed]!;
  s.px = v[L.px]!;
  s.py = v[L.py]!;
  s.pz = v[L.pz]!;
  s.hasPosition = v[L.hasPosition] === 1;
  s.onTrack = v[L.onTrack] === 1;
  s.paused = v[L.paused] === 1;
  s.loading = v[L.loading] === 1;
  s.replay = v[L.replay] === 1;
  s.carId = v[L.carId]!;
  s.receiveTimeNs = v[L.receiveTimeNs]!;
  return v[L.receiveEpochMs]!;
}

// ---- port slot (serial thread → worker) ----------------------------------------------------
/**
 * generation: bumped on every open of the port (a new session); fd: the port's descriptor
 * while open, −1 otherwise (−2: the in-process virtual rig). The counters count frames of
 * this generation: the worker notices a new STATUS or HELLO_ACK by a count that moved.
 */
export const Port = layout({
  generation: 1, fd: 1,
  statusCount: 1, mcuState: 1, faults: 1, lastSeq: 1, positions: MAX_AXES,
  /** STATUS frames in a row whose lastSeq did not move (each says what the MCU had read when it sent it). */
  statusStuck: 1,
  helloCount: 1, helloVersion: 1, helloAxes: 1,
  /** STATUS frames refused: a position count other than the rig's axes. */
  badStatus: 1,
  /** Frames the parser dropped (CRC, COBS, length, type). */
  badFrames: 1,
  /** Playout extension (PROTOCOL.md §7): CAPS, the newest ACK, the newest PLAYOUT_STATUS. */
  capsCount: 1, capsFeatures: 1, capsMinPeriodNs: 1, capsMaxPeriodNs: 1, capsMaxDelayUs: 1,
  ackCount: 1, ackType: 1, ackSeq: 1, ackResult: 1,
  playoutCount: 1, poLastTick: 1, poAccepted: 1, poLate: 1, poStale: 1, poOutside: 1, poOverflow: 1, poMinLeadUs: 1, poRateAdjPpm: 1,
});
export const FD_NONE = -1;
export const FD_VIRTUAL = -2;

// ---- control words (Int32, Atomics) -------------------------------------------------------
export const Control = layout({
  /** 1 while the e-stop file exists (e-stop thread). */
  estopFile: 1,
  /** 1 while the config's safety.estop asks for a stop (e-stop thread). */
  estopConfig: 1,
  /** Bumped for an e-stop file seen only between two looks (created and removed): a trigger for one tick. */
  estopPulses: 1,
  clearRequests: 1,
  shutdown: 1,
  profileVersion: 1,
  stop: 1,
  /** The port generation whose session the worker gave up (serial thread flushes, closes, reopens). */
  lostGeneration: 1,
  /** 1 while a park asked for on the web page / API stands (main thread); 0 lets the rig unpark. */
  parkRequest: 1,
});

// ---- status slot (worker → main) ------------------------------------------------------------
export const Status = layout({
  tick: 1, state: 1, cause: 1, changes: 1, holdReason: 1, engagement: 1, scale: 1,
  lateTicks: 1, skippedTicks: 1, maxLatenessUs: 1,
  /** The longest a tick ran (start to the next call of the scheduler), and ticks that ran over half a period. */
  maxTickUs: 1, longTicks: 1,
  framesWritten: 1, writeErrors: 1, commandsSent: 1, lastCommand: 1, motionActive: 1,
  samples: 1, teleports: 1, carChanges: 1, carId: 1, profileApplied: 1, profileErrors: 1,
  rateHz: 1, actuatorCount: 1,
  /** Mcu.* as the worker last saw it. */
  mcu: 1,
  /** LinkPhase.*, LinkLoss.* of the worker's session, and the port generation it is on. */
  linkPhase: 1, linkLoss: 1, linkGeneration: 1, sessions: 1, badStatus: 1, txSeq: 1,
  /** 1: the session sends SETPOINT_TIMED; PlayoutWhy.* otherwise; SET_PLAYOUT re-sends. */
  playout: 1, playoutWhy: 1, playoutReanchors: 1,
  pose: 6, cue: 6, actuators: MAX_AXES, wire: MAX_AXES,
});

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
 * 1 + (i mod TRANSITION_RING)·ENTRY as Transition.*.
 */
export const TRANSITION_RING = 64;
export const Transition = layout({ state: 1, cause: 1, holdReason: 1, tick: 1, linkLoss: 1 });

/** Everything the threads share, passed as workerData (structured clone; SABs are shared). */
export interface SharedBuffers {
  sample: SharedArrayBuffer;
  port: SharedArrayBuffer;
  control: SharedArrayBuffer;
  status: SharedArrayBuffer;
  lateness: SharedArrayBuffer;
  latency: SharedArrayBuffer;
  transitions: SharedArrayBuffer;
}

const seqlockBytes = (n: number) => 8 + 8 * n;

export function createSharedBuffers(): SharedBuffers {
  return {
    sample: new SharedArrayBuffer(seqlockBytes(Sample.length)),
    port: new SharedArrayBuffer(seqlockBytes(Port.length)),
    control: new SharedArrayBuffer(4 * Control.length),
    status: new SharedArrayBuffer(seqlockBytes(Status.length)),
    lateness: new SharedArrayBuffer(4 * HISTOGRAM_BUCKETS),
    latency: new SharedArrayBuffer(4 * HISTOGRAM_BUCKETS),
    transitions: new SharedArrayBuffer(4 * (1 + Transition.length * TRANSITION_RING)),
  };
}
