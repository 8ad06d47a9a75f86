import { describe, expect, it } from 'vitest';
import { HoldReason, TelemetryWatch } from '../../src/safety/telemetry-watch.js';
import { PacketCipher } from '../../src/telemetry/gt7/cipher.js';
import { VelocityDifferentiator, gt7ToMotionSample } from '../../src/telemetry/gt7/motion.js';
import { Gt7Packet, decodePacket } from '../../src/telemetry/gt7/packet.js';
import { MotionSample } from '../../src/telemetry/motion-sample.js';
import { F1_SEQUENCE, GT7_SEQUENCE, SequenceGuard, SequenceVerdict } from '../../src/telemetry/sequence-guard.js';
import { Gt7PacketMaker } from '../helpers/gt7-packets.js';

const { accept, jump, duplicate, outOfOrder, candidate } = SequenceVerdict;

function judgeAll(guard: SequenceGuard, ids: number[]): number[] {
  return ids.map((id) => guard.judge(id));
}

describe('SequenceGuard: a packet-id jump is believed only when the packets after it confirm it', () => {
  it('one forged id +599 is dropped and counted; the genuine packets after it all pass', () => {
    const g = new SequenceGuard(GT7_SEQUENCE);
    expect(judgeAll(g, [1000, 1001, 1600, 1002, 1003, 1004])).toEqual([accept, accept, candidate, accept, accept, accept]);
    expect(g.last).toBe(1004);
    expect(g.counts).toEqual({ lost: 0, duplicated: 0, outOfOrder: 0, unconfirmed: 1 });
  });

  it('one forged id far behind is dropped and counted the same way', () => {
    const g = new SequenceGuard(GT7_SEQUENCE);
    expect(judgeAll(g, [5000, 5001, 3, 5002, -40000, 5003])).toEqual([accept, accept, candidate, accept, candidate, accept]);
    expect(g.counts.unconfirmed).toBe(2);
  });

  it('a console restart (ids back to small numbers) is accepted from the packet that confirms it', () => {
    const g = new SequenceGuard(GT7_SEQUENCE);
    expect(judgeAll(g, [90_000, 90_001, 1, 2, 3])).toEqual([accept, accept, candidate, jump, accept]);
    expect(g.last).toBe(3);
    expect(g.counts.unconfirmed).toBe(0);
  });

  it('a stall (ids far ahead) is believed when confirmed, also across one lost packet; two lost start a new candidate', () => {
    const g = new SequenceGuard(GT7_SEQUENCE);
    expect(judgeAll(g, [10, 11, 500, 502])).toEqual([accept, accept, candidate, jump]);
    const h = new SequenceGuard(GT7_SEQUENCE);
    expect(judgeAll(h, [10, 11, 500, 503, 504])).toEqual([accept, accept, candidate, candidate, jump]);
    expect(h.counts.unconfirmed).toBe(1);
  });

  it('a repeated candidate is a duplicate and stays the candidate', () => {
    const g = new SequenceGuard(GT7_SEQUENCE);
    expect(judgeAll(g, [10, 900, 900, 901])).toEqual([accept, candidate, duplicate, jump]);
  });

  it('within the window: losses counted, duplicates and reorders dropped as before', () => {
    const g = new SequenceGuard(GT7_SEQUENCE);
    expect(judgeAll(g, [100, 101, 104, 104, 103, 105, 165])).toEqual([accept, accept, accept, duplicate, outOfOrder, accept, accept]);
    expect(g.counts).toEqual({ lost: 2 + 59, duplicated: 1, outOfOrder: 1, unconfirmed: 0 });
    // 61 ahead is beyond the window of 60.
    expect(g.judge(226)).toBe(candidate);
  });

  it('a packet that continues the reference can never confirm a far candidate (confirmWithin ≤ window)', () => {
    for (const settings of [GT7_SEQUENCE, F1_SEQUENCE]) {
      for (let offset = settings.window + 1; offset < 4 * settings.window; offset++) {
        for (const sign of [1, -1]) {
          for (let step = 1; step <= settings.window; step++) {
            const g = new SequenceGuard(settings);
            g.judge(10_000);
            expect(g.judge(10_000 + sign * offset)).toBe(candidate);
            expect(g.judge(10_000 + step)).toBe(accept);
          }
        }
      }
    }
    expect(() => new SequenceGuard({ window: 10, confirmWithin: 11 })).toThrow(RangeError);
  });

  it('another stream (F1 session UID) is a candidate whatever its id, confirmed by its next packet', () => {
    const g = new SequenceGuard<bigint>(F1_SEQUENCE);
    expect([g.judge(400, 1n), g.judge(401, 2n), g.judge(402, 1n)]).toEqual([accept, candidate, accept]);
    expect(g.counts.unconfirmed).toBe(1);
    expect([g.judge(1, 3n), g.judge(2, 3n), g.judge(3, 3n)]).toEqual([candidate, jump, accept]);
    // F1 sends several frames per packet below the game's frame rate: 24 at 10 Hz and 240 fps.
    expect([g.judge(27, 3n), g.judge(51, 3n), g.judge(200, 3n), g.judge(224, 3n)]).toEqual([accept, accept, candidate, jump]);
  });
});

/** Real packets through the production decrypt, decode and conversion, as the client does. */
class SampleMaker {
  readonly packets = new Gt7PacketMaker('B');
  private readonly cipher = new PacketCipher();
  private readonly plain = new Uint8Array(316);
  private readonly packet = new Gt7Packet();
  private readonly diff = new VelocityDifferentiator();

  sample(datagram: Buffer): MotionSample {
    expect(this.cipher.decrypt(datagram, this.plain)).toBe('ok');
    decodePacket(this.plain, this.packet);
    return gt7ToMotionSample(this.packet, 0, new MotionSample(), this.diff);
  }
}

const RATE = 1000;
const TICKS_PER_PACKET = 1000 / 60;

/** Runs the watch at 1 kHz over `samples` (one per 1/60 s); returns the hold reason of every tick. */
function watchOver(samples: MotionSample[]): number[] {
  const watch = new TelemetryWatch(RATE);
  const reasons: number[] = [];
  let next = 0;
  for (let k = 0; next < samples.length || k < (samples.length + 1) * TICKS_PER_PACKET; k++) {
    while (next < samples.length && next * TICKS_PER_PACKET <= k) watch.sample(samples[next++]!, k);
    reasons.push(watch.evaluate(k));
  }
  return reasons;
}

describe('TelemetryWatch: one stray sequence number neither holds the rig nor freshens a stale stream', () => {
  it('a forged +599 between genuine packets: never stale', () => {
    const m = new SampleMaker();
    const samples: MotionSample[] = [];
    for (let i = 0; i < 120; i++) {
      samples.push(m.sample(m.packets.next()));
      if (i === 60) samples.push(m.sample(m.packets.forge(m.packets.id + 599)));
    }
    const reasons = watchOver(samples);
    // After the first sample and the settle time, the drive is followed throughout.
    expect(reasons.slice(300).filter((r) => r !== HoldReason.none)).toEqual([]);
  });

  it('a frozen packet id is stale even when one stray id arrives in between', () => {
    const m = new SampleMaker();
    const samples: MotionSample[] = [];
    for (let i = 0; i < 30; i++) samples.push(m.sample(m.packets.next()));
    const frozenId = m.packets.id;
    // The console keeps sending the same packet (id stands still); a stray far id arrives once.
    for (let i = 0; i < 30; i++) samples.push(m.sample(m.packets.forge(i === 3 ? frozenId + 5000 : frozenId)));
    const reasons = watchOver(samples);
    const lastAdvanceTick = Math.ceil(29 * TICKS_PER_PACKET);
    // Stale from 100 ms (the default staleMs) after the last genuine advance, without a break.
    expect(reasons.slice(lastAdvanceTick + 100, reasons.length).every((r) => r === HoldReason.stale)).toBe(true);
    expect(reasons[lastAdvanceTick + 99]).not.toBe(HoldReason.stale);
  });

  it('a console restart (ids back to 1) is followed after one packet: never stale', () => {
    const m = new SampleMaker();
    const samples: MotionSample[] = [];
    for (let i = 0; i < 60; i++) samples.push(m.sample(m.packets.next()));
    for (let i = 1; i <= 60; i++) samples.push(m.sample(m.packets.next(i)));
    const reasons = watchOver(samples);
    expect(reasons.slice(300).includes(HoldReason.stale)).toBe(false);
  });
});
