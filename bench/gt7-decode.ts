import { PacketCipher } from '../src/telemetry/gt7/cipher.js';
import { VelocityDifferentiator, gt7ToMotionSample } from '../src/telemetry/gt7/motion.js';
import { Gt7Packet, decodePacket, encodePacket } from '../src/telemetry/gt7/packet.js';
import { SyntheticDrive } from '../src/telemetry/gt7/synthetic-drive.js';
import { MotionSample } from '../src/telemetry/motion-sample.js';
import { bytesPerCall, measureBatches, round } from './measure.js';

/**
 * The receive path per packet: Salsa20 decrypt → decode into a reused Gt7Packet → reused
 * MotionSample. Input: 600 distinct encrypted B packets of the synthetic lap.
 * Target (issue 2): ≥ 300,000 packets/s on one core; no allocation after decryption.
 */

const N_DISTINCT = 600;
const cipher = new PacketCipher();
const drive = new SyntheticDrive();
const wire: Uint8Array[] = [];
for (let i = 0; i < N_DISTINCT; i++) {
  const plain = new Uint8Array(316);
  encodePacket(drive.next('B'), plain);
  const ct = new Uint8Array(316);
  cipher.encrypt(plain, (i * 2654435761) >>> 0, ct);
  wire.push(ct);
}
const plainBuf = new Uint8Array(316);
const view = new DataView(plainBuf.buffer);
const packet = new Gt7Packet();
const sample = new MotionSample();
const diff = new VelocityDifferentiator();
let k = 0;

function decryptOnly(): void {
  cipher.decrypt(wire[k++ % N_DISTINCT]!, plainBuf);
}
function decodeAndConvert(): void {
  decodePacket(plainBuf, packet, view);
  gt7ToMotionSample(packet, k++, sample, diff);
}
function fullPath(): void {
  if (cipher.decrypt(wire[k++ % N_DISTINCT]!, plainBuf) !== 'ok') throw new Error('bench data broken');
  decodePacket(plainBuf, packet, view);
  gt7ToMotionSample(packet, k, sample, diff);
}

for (let i = 0; i < 200_000; i++) fullPath(); // warm up the JIT

const BATCH = 10_000;
const BATCHES = 100;
const { timing, res, p } = measureBatches(fullPath, BATCH, BATCHES);

const result = {
  bench: 'gt7-decode',
  what: 'decrypt + decode + MotionSample per packet (format B, 316 bytes), one core',
  packetsPerSecond: Math.round((BATCH * BATCHES) / timing.seconds),
  nsPerPacket: { p50: round(p.p50), p99: round(p.p99), max: round(p.max), over: `${BATCHES} batches of ${BATCH}` },
  targetPacketsPerSecond: 300_000,
  allocatedBytesPerPacket: {
    decryptNobleSalsa20: bytesPerCall(decryptOnly, 50_000),
    decodeAndMotionSample: bytesPerCall(decodeAndConvert, 200_000),
    fullPath: bytesPerCall(fullPath, 50_000),
  },
  ...res,
  node: process.version,
};
console.log(JSON.stringify(result));
