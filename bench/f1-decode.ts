import { F1MotionState } from '../src/telemetry/f1/motion.js';
import { decodeF1Packet } from '../src/telemetry/f1/packet.js';
import { F1PacketSource } from '../src/telemetry/f1/simulator.js';
import { MotionSample } from '../src/telemetry/motion-sample.js';
import { bytesPerCall, measureBatches, round } from './measure.js';

/**
 * The F1 receive path per motion packet: header dispatch → table-driven decode of all
 * 20 cars and the player data (1341 bytes) → MotionSample. Input: 600 consecutive F1 2018
 * motion packets of the synthetic lap. The decoder builds plain objects (it allocates);
 * the game sends at most 60 motion packets a second, so the figure that matters is the
 * share of a core that costs, printed as cpuAt60HzPercent.
 */

const N_DISTINCT = 600;
const source = new F1PacketSource({ format: 2018 });
const wire: Uint8Array[] = [];
while (wire.length < N_DISTINCT) for (const d of source.next()) if (d.length === 1341) wire.push(d);
const state = new F1MotionState();
const sample = new MotionSample();
let k = 0;

function motionPacket(): void {
  const r = decodeF1Packet(wire[k++ % N_DISTINCT]!);
  if (!r.ok || !state.update(r.packet, k, sample)) throw new Error('bench data broken');
}

for (let i = 0; i < 50_000; i++) motionPacket(); // warm up the JIT

const BATCH = 1_000;
const BATCHES = 100;
const { timing, res, p } = measureBatches(motionPacket, BATCH, BATCHES);

console.log(
  JSON.stringify({
    bench: 'f1-decode',
    what: 'F1 2018 motion packet (1341 bytes): dispatch + decode + MotionSample, one core',
    packetsPerSecond: Math.round((BATCH * BATCHES) / timing.seconds),
    nsPerPacket: { p50: round(p.p50), p99: round(p.p99), max: round(p.max), over: `${BATCHES} batches of ${BATCH}` },
    cpuAt60HzPercent: round((p.p50 * 60) / 1e7, 3),
    // Few calls, so no scavenge runs inside the measurement (one packet makes ~20 KB of objects).
    allocatedBytesPerPacket: bytesPerCall(motionPacket, 200),
    ...res,
    node: process.version,
  }),
);
