import { closeSync, openSync, writeSync } from 'node:fs';
import { FrameParser } from '../src/output/riglink/parser.js';
import { SetpointEncoder, TimedSetpointEncoder } from '../src/output/riglink/protocol.js';
import { bytesPerCall, percentiles, resources, round, timeBatches } from './measure.js';

/**
 * The per-tick output path: encode one 6-axis SETPOINT (CRC + COBS into a reused buffer)
 * and write it with writeSync to a file descriptor (/dev/null here: the serial tests cover
 * a real pty). Also the host's parser on a stream of frames, and the playout extension's
 * SETPOINT_TIMED encode (the per-tick frame when the MCU has playout). Target: zero
 * allocation per tick.
 */
const AXES = 6;
const enc = new SetpointEncoder();
const targets = new Uint16Array(AXES);
const fd = openSync('/dev/null', 'w');
let seq = 0;
const encodeOnly = () => {
  for (let i = 0; i < AXES; i++) targets[i] = (seq * 37 + i * 1000) & 0xffff;
  enc.encode(seq++ & 0xffff, 1, targets, AXES);
};
const encodeAndWrite = () => {
  for (let i = 0; i < AXES; i++) targets[i] = (seq * 37 + i * 1000) & 0xffff;
  const n = enc.encode(seq++ & 0xffff, 1, targets, AXES);
  writeSync(fd, enc.frame, 0, n);
};
const timed = new TimedSetpointEncoder();
let tick = 0; // the service's tick index: a small integer for its first 24 days at 1 kHz (the u32 wrap is in the unit tests)
const encodeTimed = () => {
  for (let i = 0; i < AXES; i++) targets[i] = (seq * 37 + i * 1000) & 0xffff;
  timed.encode(seq++ & 0xffff, 1, tick++, targets, AXES);
};
const stream = new Uint8Array(64 * 1024);
let filled = 0;
while (filled + 32 < stream.length) {
  const n = enc.encode(filled & 0xffff, 1, targets, AXES);
  stream.set(enc.frame.subarray(0, n), filled);
  filled += n;
}
let frames = 0;
const parser = new FrameParser({ frame: () => frames++ });
const parseChunk = () => parser.push(stream.subarray(0, filled));

for (let i = 0; i < 200_000; i++) encodeAndWrite();
const wall = performance.now();
const cpu = process.cpuUsage();
const e = percentiles(timeBatches(encodeOnly, 1000, 1000).nsPerCall);
const w = percentiles(timeBatches(encodeAndWrite, 1000, 500).nsPerCall);
const t = percentiles(timeBatches(encodeTimed, 1000, 1000).nsPerCall);
const framesPerChunk = (() => {
  const before = frames;
  parseChunk();
  return frames - before;
})();
const p = percentiles(timeBatches(parseChunk, 1, 300).nsPerCall);
console.log(
  JSON.stringify({
    bench: 'riglink',
    what: '6-axis SETPOINT: encode (CRC + COBS into a reused buffer), encode + writeSync to /dev/null; SETPOINT_TIMED encode; host parser over 64 KiB of frames',
    nsPerEncode: { p50: round(e.p50), p99: round(e.p99), max: round(e.max) },
    nsPerEncodeAndWrite: { p50: round(w.p50), p99: round(w.p99), max: round(w.max) },
    nsPerTimedEncode: { p50: round(t.p50), p99: round(t.p99), max: round(t.max) },
    nsPerParsedFrame: round(p.p50 / framesPerChunk),
    allocatedBytesPerEncode: bytesPerCall(encodeOnly, 200_000),
    allocatedBytesPerEncodeAndWrite: bytesPerCall(encodeAndWrite, 100_000),
    allocatedBytesPerTimedEncode: bytesPerCall(encodeTimed, 200_000),
    ...resources(cpu, wall),
    node: process.version,
  }),
);
closeSync(fd);
