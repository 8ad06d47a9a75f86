import { mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { checkRigLinkBandwidth } from '../../src/output/bandwidth.js';
import { McuState, MessageType } from '../../src/output/riglink/protocol.js';
import { type LinkEvent, SerialLink } from '../../src/output/serial-link.js';
import { writeFrame } from '../../src/output/write-frame.js';
import { LinkLoss, LinkPhase, PlayoutWhy, RigSession } from '../../src/runtime/rig-session.js';
import { SeqlockSlot } from '../../src/runtime/shared-slot.js';
import { Control, FD_NONE, Port } from '../../src/runtime/slots.js';
import { PtyRig, haveSocat } from '../../src/service/pty-rig.js';
import { buildFirmwareHostPrograms } from '../helpers/firmware.js';
import { waitFor } from '../helpers/wait.js';

/**
 * The control side's RigLink session (runtime/rig-session.ts) and the serial port keeper
 * (output/serial-link.ts) against the C MCU simulator over a real pty pair (socat): what a
 * rig's microcontroller on a USB serial cable sees, byte for byte, and what the host makes
 * of an MCU that answers wrongly, reports too few positions, stops reading, or goes away.
 * Ticks run on this thread's event loop at 1 kHz (due ticks are caught up), which is all the
 * session needs: it judges by tick counts.
 */
const socat = haveSocat();
if (!socat && process.env.CI === 'true') throw new Error('socat is required under CI=true (apt-get install -y socat)');
if (!socat) console.warn('socat not installed: serial integration tests skipped (apt-get install -y socat)');

/** This process's open descriptors that are ptys (the link's: nothing else here opens one). */
function ptyDescriptors(): string[] {
  const out: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (target.startsWith('/dev/pts/')) out.push(`${fd} → ${target}`);
    } catch {
      // closed between the listing and the look
    }
  }
  return out;
}

const AXES = 6;
const BAUD = 1_000_000;

class Host {
  readonly slot = new SeqlockSlot(Port.length);
  readonly control = new Int32Array(new SharedArrayBuffer(4 * Control.length));
  readonly port = new Float64Array(Port.length);
  readonly events: LinkEvent[] = [];
  readonly link: SerialLink;
  readonly session: RigSession;
  readonly wire = new Uint16Array(AXES);
  /** Set: sent once at the next tick. */
  command: number | undefined;
  motion = false;
  /** Overrides the setpoints (else: where the MCU says the actuators are). */
  targets: ((k: number) => number) | undefined;
  k = 0;
  lostAtK = -1;
  /** The first sequence number not written before the loss, and why it was lost. */
  lostSeq = -1;
  lostReason = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly t0 = performance.now();
  private readonly sink = { fd: FD_NONE, write: (f: Uint8Array, n: number) => writeFrame(this.sink.fd, f, n) };

  constructor(path: string, playoutDelayMs = 0) {
    // As the control worker does, the lost session is stored and notified; the link's backstop
    // is a minute here, so a drop that waited for it would fail the tests that need a new session.
    this.link = new SerialLink(this.slot, this.control, Control.lostGeneration, { path, baud: BAUD, axes: AXES, feedback: true, lostBackstopMs: 60_000 }, (e) => this.events.push(e));
    this.session = new RigSession(this.sink, { axes: AXES, rateHz: 1000, feedback: true, playoutDelayMs, baud: BAUD });
  }

  async start(): Promise<void> {
    await this.link.start();
    this.timer = setInterval(() => {
      const due = Math.floor(performance.now() - this.t0);
      while (this.k < due) this.tick();
    }, 1);
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.link.close();
  }

  private tick(): void {
    const s = this.session;
    this.slot.read(this.port);
    this.sink.fd = this.port[Port.fd]!;
    s.observe(this.port, this.k);
    if (s.lostNow) {
      this.lostAtK = this.k;
      this.lostSeq = s.nextSeq;
      this.lostReason = s.loss;
      Atomics.store(this.control, Control.lostGeneration, s.generation);
      Atomics.notify(this.control, Control.lostGeneration);
    }
    if (this.command !== undefined && s.linkUp) {
      s.sendCommand(this.command);
      this.command = undefined;
    }
    if (this.targets) this.wire.fill(this.targets(this.k));
    else if (s.positionsKnown) this.wire.set(s.positions);
    s.sendSetpoint(this.motion, this.wire);
    this.k++;
  }
}

describe.skipIf(!socat)('RigLink session over a socat pty pair to the MCU simulator', () => {
  let mcuSim: string;
  let rig: PtyRig | undefined;
  let host: Host | undefined;
  beforeAll(() => {
    mcuSim = buildFirmwareHostPrograms().mcuSim;
  });
  afterEach(async () => {
    await host?.close();
    await rig?.stop();
    host = undefined;
    rig = undefined;
  });

  async function connect(args: string[] = [], playoutDelayMs = 0): Promise<Host> {
    rig = new PtyRig(mcuSim, ['--axes', String(AXES), ...args]);
    await rig.start();
    host = new Host(rig.host, playoutDelayMs);
    await host.start();
    return host;
  }
  const log = () => rig!.simLog();
  const count = (re: RegExp) => log().split('\n').filter((l) => re.test(l)).length;

  it('handshake: HELLO first, HELLO_ACK with the axis count and firmware; STATUS gives positions; then 5 s of SETPOINTs at 1 kHz arrive in order, none corrupt, the MCU follows', async () => {
    const h = await connect();
    await waitFor(() => h.session.positionsKnown, 2000, 'first STATUS');
    expect(h.events.find((e) => e.event === 'hello')).toMatchObject({ firmware: 'riglink-mcu-sim 1.0', axes: AXES });
    expect(h.session.mcu).toBe(McuState.parked);
    expect(log().split('\n').find((l) => / rx /.test(l))).toMatch(/ rx HELLO /);

    expect(checkRigLinkBandwidth(BAUD, 1000, AXES).ok).toBe(true);
    h.command = MessageType.ENABLE;
    await waitFor(() => h.session.mcu === McuState.enabled, 2000, 'MCU enabled');
    const start = h.k;
    h.targets = (k) => Math.round(32768 + 20000 * Math.sin((2 * Math.PI * (k - start)) / 2000));
    h.motion = true;
    await new Promise((r) => setTimeout(r, 5000));
    expect(h.session.phase).toBe(LinkPhase.ready);
    await waitFor(() => count(/ rx SETPOINT /) >= h.session.framesWritten - 3, 2000, 'SETPOINTs logged');
    expect(h.session.writeErrors).toBe(0);
    // The MCU follows: its reported positions track the sine.
    const want = h.targets(h.k - 30);
    expect(Math.abs(h.session.positions[0]! - want)).toBeLessThan(3000);
    await h.close();
    await rig!.stop();
    expect(log()).toMatch(/counters rxFrames \d+ badCrc 0 badCobs 0 truncated 0 oversize 0 unknownType 0 badLength 0 seqGaps 0/);
  }, 30_000);

  it('MCU-timed playout: CAPS, SET_PLAYOUT acked; every frame a SETPOINT_TIMED with the host tick it was made in; the MCU plays them, follows, and reports its clock', async () => {
    // The simulator's playout clock runs 2000 ppm fast, like a resonator that is off.
    const h = await connect(['--clock-ppm', '2000'], 2);
    await waitFor(() => h.session.positionsKnown && h.session.playoutWhy !== PlayoutWhy.negotiating, 2000, 'first STATUS, playout decided');
    expect(h.session.playout).toBe(true);
    expect(h.session.playoutWhy).toBe(PlayoutWhy.none);
    expect(log()).toMatch(/ rx GET_CAPS \d+\n[^]* rx SET_PLAYOUT \d+ period 1000000 ns delay 2000 us result 0\n/);
    h.command = MessageType.ENABLE;
    await waitFor(() => h.session.mcu === McuState.enabled, 2000, 'MCU enabled');
    const start = h.k;
    h.targets = (k) => Math.round(32768 + 20000 * Math.sin((2 * Math.PI * (k - start)) / 2000));
    h.motion = true;
    await new Promise((r) => setTimeout(r, 4000));
    expect(h.session.phase).toBe(LinkPhase.ready);
    expect(h.session.writeErrors).toBe(0);
    const want = h.targets(h.k - 30);
    expect(Math.abs(h.session.positions[0]! - want)).toBeLessThan(3000);
    // Under heavy load this harness's event loop can stall past the MCU's watchdog, and the
    // session starts again (new HELLO, new SET_PLAYOUT, counters from zero): judge the last one.
    // The host's port slot has this session's PLAYOUT_STATUS: frames played, never stale (ticks
    // only go up), never a full queue. This harness catches up due ticks in a burst when its
    // event loop was held up (the service skips them instead): under load a burst's oldest
    // frames can be over 100 ms late and dropped as outside.
    expect(h.port[Port.playoutCount]!).toBeGreaterThan(0);
    expect(h.port[Port.poStale]! + h.port[Port.poOverflow]!).toBe(0);
    expect(h.port[Port.poOutside]!).toBeLessThan(h.port[Port.poAccepted]! / 20 + 1); // 1.35 % seen at load 12
    // Its clock found 2000 ppm fast, once a second of this session has been played (the
    // harness's bursts make it noisy: 317 ppm off seen at load 12, 672 in a CI run on
    // 2026-12-01 that passed 5 of 5 alone; the estimate comes from two half-window minima, and
    // bursts move them. The engine's own tests hold it to 40 ppm without bursts.)
    process.stdout.write(`MCU-timed playout: rateAdjPpm ${h.port[Port.poRateAdjPpm]} after ${h.port[Port.poAccepted]} frames (2000 expected)\n`);
    if (h.port[Port.poAccepted]! > 1000) expect(Math.abs(h.port[Port.poRateAdjPpm]! - 2000)).toBeLessThan(1000);
    await h.close();
    await rig!.stop();
    // Every motion frame of the session at the MCU: SETPOINT_TIMED, ticks consecutive with the
    // sequence numbers, and its targets the sine at exactly that tick (the tick it was made in).
    const lines = log().split('\n');
    // From the session's first timed frame: until SET_PLAYOUT's ACK is back, core SETPOINTs.
    const setPlayout = lines.findLastIndex((l) => l.includes(' rx SET_PLAYOUT '));
    const session = lines.slice(lines.findIndex((l, i) => i > setPlayout && l.includes(' rx SETPOINT_TIMED ')));
    const timed = session.filter((l) => / rx SETPOINT_TIMED \d+ 1 /.test(l)).map((l) => l.split(' ').slice(3));
    expect(timed.length).toBeGreaterThan(100);
    expect(session.filter((l) => / rx SETPOINT /.test(l))).toHaveLength(0);
    for (const [i, f] of timed.entries()) {
      const tick = Number(f[2]);
      for (const t of f.slice(4)) expect(Number(t)).toBe(h.targets(tick));
      if (i > 0) expect(tick - Number(timed[i - 1]![2])).toBe(1);
      expect(['accepted', 'late', 'outside']).toContain(f[3]);
    }
    expect(log()).toMatch(/playout accepted \d+ late \d+ stale 0 outside \d+ overflow 0/);
    expect(log()).toMatch(/unknownType 0 badLength 0 seqGaps 0/);
  }, 30_000);

  it('a core-only MCU: GET_CAPS twice, unanswered (it counts unknown types), and the session runs on core SETPOINT exactly as before', async () => {
    const h = await connect(['--core-only'], 2);
    await waitFor(() => h.session.positionsKnown && h.session.playoutWhy !== PlayoutWhy.negotiating, 2000, 'first STATUS, playout decided');
    expect(h.session.playout).toBe(false);
    expect(h.session.playoutWhy).toBe(PlayoutWhy.noCaps);
    h.command = MessageType.ENABLE;
    await waitFor(() => h.session.mcu === McuState.enabled, 2000, 'MCU enabled');
    const start = h.k;
    h.targets = (k) => Math.round(32768 + 20000 * Math.sin((2 * Math.PI * (k - start)) / 2000));
    h.motion = true;
    await new Promise((r) => setTimeout(r, 2000));
    const want = h.targets(h.k - 30);
    expect(Math.abs(h.session.positions[0]! - want)).toBeLessThan(3000);
    expect(h.port[Port.playoutCount]!).toBe(0);
    await h.close();
    await rig!.stop();
    expect(count(/ rx unknown type 0x31 \(core only\)/)).toBe(2);
    expect(count(/ rx SETPOINT_TIMED /)).toBe(0);
    expect(count(/ rx SETPOINT \d+ 1 /)).toBeGreaterThan(1500);
    // The two GET_CAPS were no frames to it: two gaps of one in its sequence check.
    expect(log()).toMatch(/unknownType 2 badLength 0 seqGaps 2/);
  }, 30_000);

  it('an MCU with another axis count: handshake refused, never ready, no SETPOINT', async () => {
    rig = new PtyRig(mcuSim, ['--axes', '4']);
    await rig.start();
    host = new Host(rig.host);
    await host.start();
    await waitFor(() => host!.session.loss === LinkLoss.helloRefused, 2000, 'handshake refused');
    await new Promise((r) => setTimeout(r, 300));
    expect(count(/ rx SETPOINT /)).toBe(0);
    expect(host.events.some((e) => e.event === 'hello' && e.axes === 4)).toBe(true);
  });

  it('a STATUS with fewer positions than axes is refused: no positions, no SETPOINT, the session ends for want of STATUS', async () => {
    const h = await connect(['--status-axes', '2']);
    await waitFor(() => h.session.loss === LinkLoss.noStatus, 2000, 'no usable STATUS');
    expect(h.events.some((e) => e.event === 'bad-status' && e.positions === 2)).toBe(true);
    expect(count(/ rx SETPOINT /)).toBe(0);
  });

  it('an MCU that stops reading: the session ends within 100 ms, nothing written after that ever arrives, and the new session starts clean', async () => {
    const deaf = join(mkdtempSync(join(tmpdir(), 'motion-rig-deaf-')), 'deaf');
    const h = await connect(['--deaf-file', deaf]);
    await waitFor(() => h.session.positionsKnown, 2000, 'first STATUS');
    h.command = MessageType.ENABLE;
    await waitFor(() => h.session.mcu === McuState.enabled, 2000, 'MCU enabled');
    const framesBefore = h.session.framesWritten;
    writeFileSync(deaf, '');
    const kDeaf = h.k;
    await waitFor(() => h.lostAtK >= 0, 2000, 'session lost');
    const lostAfterMs = h.lostAtK - kDeaf;
    const written = h.session.framesWritten - framesBefore;
    expect([LinkLoss.mcuLagging, LinkLoss.backpressure]).toContain(h.lostReason);
    expect(lostAfterMs).toBeLessThanOrEqual(100 + 5); // + the simulator's 5 ms look at the file
    await new Promise((r) => setTimeout(r, 200));
    rmSync(deaf);
    await waitFor(() => h.session.phase === LinkPhase.ready && h.session.positionsKnown, 5000, 'new session');
    await new Promise((r) => setTimeout(r, 100));
    const lines = log().split('\n');
    const after = lines.slice(lines.findIndex((l) => l.includes('deaf off')));
    const firstHello = after.findIndex((l) => / rx HELLO /.test(l));
    // Everything the MCU read from its backlog was written before the loss.
    const backlog = after.slice(0, firstHello).filter((l) => / rx SETPOINT /.test(l)).map((l) => Number(l.split(' ')[3]));
    for (const seq of backlog) expect(((h.lostSeq - seq + 0x10000) & 0xffff) > 0 && ((h.lostSeq - seq + 0x10000) & 0xffff) < 1000).toBe(true);
    process.stdout.write(`deaf MCU: session lost after ${lostAfterMs} ms (${h.lostReason === LinkLoss.mcuLagging ? 'MCU lagging' : 'backpressure'}); ${written} frames written while it did not read; ${backlog.length} of them reached it afterwards (the rest discarded by the flush)\n`);
  }, 20_000);

  it('unplug (socat killed) → port closed; replug → a new session through a fresh HELLO, the sequence numbers continue', async () => {
    const h = await connect();
    await waitFor(() => h.session.positionsKnown, 2000, 'first STATUS');
    const gen = h.session.generation;
    await rig!.unplug();
    await waitFor(() => h.session.phase !== LinkPhase.ready, 2000, 'link lost');
    await rig!.startSocat();
    await waitFor(() => h.session.generation > gen && h.session.positionsKnown, 10_000, `new session; events ${JSON.stringify(h.events)} phase ${h.session.phase} loss ${h.session.loss} gen ${h.session.generation}`);
    expect(h.session.sessions).toBeGreaterThanOrEqual(2);
    await new Promise((r) => setTimeout(r, 200));
    await h.close();
    // Every session's descriptors closed: none of this process's open files is a pty any more
    // (libuv's tty reopen left one per session behind until ttyReader closed it).
    expect(ptyDescriptors()).toEqual([]);
    await rig!.stop();
    expect(count(/ rx HELLO /)).toBeGreaterThanOrEqual(2);
    // One counter across sessions: the only gaps are across the reopen, and only of frames the
    // host wrote that died with the link (it never starts again from 0).
    const gaps = log().split('\n').filter((l) => l.includes('seq-gap'));
    for (const g of gaps) {
      const [, expected, got] = /expected (\d+) got (\d+)/.exec(g)!.map(Number);
      expect(g).toContain('(after reopen)');
      expect(got! - expected!).toBeGreaterThan(0);
      expect(got! - expected!).toBeLessThan(100);
    }
  }, 30_000);

});

describe('bandwidth check', () => {
  it('refuses a rate whose frames do not fit and names the highest that does', () => {
    // 6 axes: 21-byte frames = 210 bits; 115200 baud × 0.9 / 210 = 493.7 → 493 Hz.
    const r = checkRigLinkBandwidth(115_200, 1000, 6);
    expect(r.ok).toBe(false);
    expect(r.bytesPerFrame).toBe(21);
    expect(r.maxRateHz).toBe(493);
    expect(r.message).toContain('the highest rate that fits is 493 Hz');
    expect(checkRigLinkBandwidth(115_200, 493, 6).ok).toBe(true);
    expect(checkRigLinkBandwidth(115_200, 494, 6).ok).toBe(false);
    expect(checkRigLinkBandwidth(1_000_000, 2000, 16).ok).toBe(true); // 41 B × 2000 × 10 = 820 kbit/s
  });
});
