import { describe, expect, it } from 'vitest';
import { checkBandwidth } from '../../src/output/bandwidth.js';
import { FrameParser } from '../../src/output/riglink/parser.js';
import { MessageType, TimedSetpointEncoder, decodeFields, timedSetpointFrameBytes } from '../../src/output/riglink/protocol.js';
import { LinkPhase, PlayoutWhy, RigSession, type RigSessionOptions } from '../../src/runtime/rig-session.js';
import { Port } from '../../src/runtime/slots.js';

/**
 * The session's side of PROTOCOL.md §7.2, tick by tick against a port slot written by hand
 * (what the serial thread would publish): when it asks GET_CAPS, what it accepts, when it falls
 * back to core SETPOINT, and that SETPOINT_TIMED carries the tick it was made in.
 */

interface Sent {
  type: number;
  seq: number;
  fields: Record<string, unknown>;
}

function rig(opts: Partial<RigSessionOptions> = {}) {
  const sent: Sent[] = [];
  const parser = new FrameParser({ frame: (type, seq, p) => sent.push({ type, seq, fields: decodeFields(type, p) }) });
  const session = new RigSession(
    { write: (f, n) => (parser.push(f.subarray(0, n)), true) },
    { axes: 6, rateHz: 1000, feedback: true, playoutDelayMs: 2, baud: 1_000_000, ...opts },
  );
  const port = new Float64Array(Port.length);
  port[Port.generation] = 1;
  port[Port.fd] = 7;
  let k = 0;
  const tick = (n = 1) => {
    for (let i = 0; i < n; i++) session.observe(port, k++);
  };
  const types = () => sent.map((s) => s.type);
  const helloAck = () => {
    port[Port.helloVersion] = 1;
    port[Port.helloAxes] = 6;
    port[Port.helloCount]! += 1;
  };
  const caps = (features = 1, minPeriodNs = 200_000, maxPeriodNs = 20_000_000, maxDelayUs = 20_000) => {
    port[Port.capsFeatures] = features;
    port[Port.capsMinPeriodNs] = minPeriodNs;
    port[Port.capsMaxPeriodNs] = maxPeriodNs;
    port[Port.capsMaxDelayUs] = maxDelayUs;
    port[Port.capsCount]! += 1;
  };
  const ack = (type: number, seq: number, result = 0) => {
    port[Port.ackType] = type;
    port[Port.ackSeq] = seq;
    port[Port.ackResult] = result;
    port[Port.ackCount]! += 1;
  };
  const status = () => {
    port[Port.statusCount]! += 1;
    port[Port.lastSeq] = session.nextSeq - 1;
  };
  /** HELLO, HELLO_ACK (the session is ready at once), then the GET_CAPS of the next tick. */
  const untilGetCaps = () => {
    tick();
    helloAck();
    tick();
    expect(session.phase).toBe(LinkPhase.ready);
    expect(session.playoutWhy).toBe(PlayoutWhy.negotiating);
    tick();
  };
  return { session, port, sent, types, tick, helloAck, caps, ack, status, untilGetCaps, k: () => k };
}

const wire = new Uint16Array([1, 2, 3, 4, 5, 6]);

describe('RigSession: playout negotiation (PROTOCOL.md §7.2)', () => {
  it('CAPS that fit, SET_PLAYOUT acked ok: every setpoint is a SETPOINT_TIMED with the tick it was made in, one sequence counter', () => {
    const r = rig();
    r.untilGetCaps();
    expect(r.types()).toEqual([MessageType.HELLO, MessageType.GET_CAPS]);
    expect(r.session.playout).toBe(false);
    r.caps();
    r.tick();
    const setPlayout = r.sent.at(-1)!;
    expect(setPlayout).toMatchObject({ type: MessageType.SET_PLAYOUT, fields: { periodNs: 1_000_000, delayUs: 2000 } });
    r.ack(MessageType.SET_PLAYOUT, setPlayout.seq);
    r.tick();
    expect(r.session.playout).toBe(true);
    r.status();
    for (let i = 0; i < 5; i++) {
      r.tick();
      r.session.sendSetpoint(true, wire);
    }
    const timed = r.sent.slice(3);
    expect(timed.map((s) => s.type)).toEqual(new Array(5).fill(MessageType.SETPOINT_TIMED));
    expect(timed.map((s) => s.fields.tick)).toEqual([5, 6, 7, 8, 9]); // observe(port, k) then this tick's frame
    expect(r.sent.map((s) => s.seq)).toEqual(r.sent.map((_, i) => i));
    expect(timed[0]!.fields.targets).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('commands do not wait for the negotiation: an ESTOP due at HELLO_ACK is the first frame after HELLO', () => {
    const r = rig();
    r.tick();
    r.helloAck();
    r.tick();
    expect(r.session.sendCommand(MessageType.ESTOP)).toBe(true);
    r.tick();
    expect(r.types()).toEqual([MessageType.HELLO, MessageType.ESTOP, MessageType.GET_CAPS]);
  });

  it('a core-only MCU (no CAPS): ready at HELLO_ACK as before, two GET_CAPS 100 ms apart beside it, then core SETPOINT for good', () => {
    const r = rig();
    r.untilGetCaps();
    for (let i = 0; i < 12; i++) {
      r.status();
      r.tick(20);
    }
    expect(r.types()).toEqual([MessageType.HELLO, MessageType.GET_CAPS, MessageType.GET_CAPS]);
    expect(r.session.phase).toBe(LinkPhase.ready);
    expect(r.session.playoutWhy).toBe(PlayoutWhy.noCaps);
    r.status();
    r.tick();
    r.session.sendSetpoint(true, wire);
    expect(r.sent.at(-1)).toMatchObject({ type: MessageType.SETPOINT, fields: { flags: 1, targets: [1, 2, 3, 4, 5, 6] } });
  });

  it('CAPS without playout, or limits that do not admit this rate or delay: core, and says why', () => {
    for (const [args, why] of [
      [[0], PlayoutWhy.noFeature],
      [[1, 200_000, 20_000_000, 1000], PlayoutWhy.limits], // 1 ms delay at most: we want 2
      [[1, 2_000_000, 20_000_000, 20_000], PlayoutWhy.limits], // 500 Hz at most: we run 1 kHz
    ] as const) {
      const r = rig();
      r.untilGetCaps();
      r.caps(...args);
      r.tick();
      expect(r.session.playoutWhy, JSON.stringify(args)).toBe(why);
      expect(r.types()).not.toContain(MessageType.SET_PLAYOUT);
      expect(r.session.phase).toBe(LinkPhase.ready);
    }
  });

  it('timed frames that do not fit the line: core (6 axes at 115200 baud, 450 Hz fits SETPOINT, not SETPOINT_TIMED)', () => {
    const r = rig({ baud: 115_200, rateHz: 450 });
    r.untilGetCaps();
    r.caps();
    r.tick();
    expect(r.session.playoutWhy).toBe(PlayoutWhy.bandwidth);
  });

  it('SET_PLAYOUT refused, or not acked in 100 ms: core; an ACK for another frame is not the answer', () => {
    const refused = rig();
    refused.untilGetCaps();
    refused.caps();
    refused.tick();
    refused.ack(MessageType.ENABLE, 99);
    refused.tick();
    expect(refused.session.playoutWhy).toBe(PlayoutWhy.negotiating);
    refused.ack(MessageType.SET_PLAYOUT, refused.sent.at(-1)!.seq, 2);
    refused.tick();
    expect(refused.session.playoutWhy).toBe(PlayoutWhy.refused);
    expect(refused.session.playout).toBe(false);

    const silent = rig();
    silent.untilGetCaps();
    silent.caps();
    silent.tick(99);
    expect(silent.session.playoutWhy).toBe(PlayoutWhy.negotiating);
    silent.tick(2);
    expect(silent.session.playoutWhy).toBe(PlayoutWhy.noAck);
  });

  it('playoutDelayMs 0: never asks', () => {
    const r = rig({ playoutDelayMs: 0 });
    r.tick();
    r.helloAck();
    for (let i = 0; i < 15; i++) {
      r.status();
      r.tick(20);
    }
    expect(r.types()).toEqual([MessageType.HELLO]);
    expect(r.session.playoutWhy).toBe(PlayoutWhy.disabled);
  });

  it('an MCU dropping every frame as outside for 5 reports: SET_PLAYOUT again; a new port generation negotiates afresh', () => {
    const r = rig();
    r.untilGetCaps();
    r.caps();
    r.tick();
    r.ack(MessageType.SET_PLAYOUT, r.sent.at(-1)!.seq);
    r.tick();
    expect(r.session.playout).toBe(true);
    r.status();
    // The first report has the frames accepted since SET_PLAYOUT; then 5 where only `outside` grows.
    for (let i = 0; i <= 5; i++) {
      r.port[Port.poOutside] = 20 * i;
      r.port[Port.poAccepted] = 100;
      r.port[Port.playoutCount]! += 1;
      r.status();
      r.tick();
      r.session.sendSetpoint(true, wire);
    }
    expect(r.types().filter((t) => t === MessageType.SET_PLAYOUT)).toHaveLength(2);
    expect(r.session.playoutReanchors).toBe(1);
    // A report where frames were accepted again resets the count.
    r.port[Port.poOutside] = 200;
    r.port[Port.poAccepted] = 150;
    r.port[Port.playoutCount]! += 1;
    r.tick();
    expect(r.session.playoutReanchors).toBe(1);

    r.port[Port.generation] = 2;
    r.tick();
    expect(r.session.playout).toBe(false);
    expect(r.session.phase).toBe(LinkPhase.handshaking);
    expect(r.session.playoutWhy).toBe(PlayoutWhy.disabled);
    expect(r.types().at(-1)).toBe(MessageType.HELLO);
  });
});

describe('RigSession: an MCU that stops playing out', () => {
  it('5 STATUS without a PLAYOUT_STATUS (the MCU reset and forgot SET_PLAYOUT): SET_PLAYOUT again, once', () => {
    const r = rig();
    r.untilGetCaps();
    r.caps();
    r.tick();
    r.ack(MessageType.SET_PLAYOUT, r.sent.at(-1)!.seq);
    r.tick();
    expect(r.session.playout).toBe(true);
    // While it reports: STATUS then PLAYOUT_STATUS, as the simulator sends them.
    for (let i = 0; i < 20; i++) {
      r.status();
      r.tick();
      r.port[Port.playoutCount]! += 1;
      r.tick();
    }
    expect(r.session.playoutReanchors).toBe(0);
    for (let i = 0; i < 5; i++) {
      r.status();
      r.tick(20);
    }
    expect(r.session.playoutReanchors).toBe(1);
    expect(r.types().filter((t) => t === MessageType.SET_PLAYOUT)).toHaveLength(2);
  });
});

describe('SETPOINT_TIMED on the line (PROTOCOL.md §7.4)', () => {
  it('is 13 + 2n bytes at most, and the highest loop rates the spec names follow from it', () => {
    const enc = new TimedSetpointEncoder();
    for (const n of [0, 1, 6, 16]) {
      // COBS adds one byte to any body under 254 bytes, whatever its zeros; plus the delimiter.
      expect(enc.encode(0x0101, 1, 0x01010101, new Uint16Array(n).fill(0x0101), n)).toBe(timedSetpointFrameBytes(n));
      expect(timedSetpointFrameBytes(n)).toBe(13 + 2 * n);
    }
    // 6 axes: 25 bytes = 250 bits; 0.9 × 115200 / 250 = 414.7; 0.9 × 1e6 / 250 = 3600.
    expect(checkBandwidth(115_200, 1, timedSetpointFrameBytes(6)).maxRateHz).toBe(414);
    expect(checkBandwidth(1_000_000, 1, timedSetpointFrameBytes(6)).maxRateHz).toBe(3600);
  });
});
