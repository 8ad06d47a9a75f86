import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkRigLinkBandwidth } from '../../src/output/bandwidth.js';
import { AckResult } from '../../src/output/riglink/protocol.js';
import { type McuStateName } from '../../src/output/riglink/protocol.js';
import { SerialLink } from '../../src/output/serial-link.js';
import { buildFirmwareHostPrograms } from '../helpers/firmware.js';
import { PtyRig, haveSocat } from '../../src/service/pty-rig.js';
import { waitFor } from '../helpers/wait.js';

/**
 * The host's serial link against the C MCU simulator over a real pty pair (socat): what a
 * rig's microcontroller on a USB serial cable sees, byte for byte.
 */
const socat = haveSocat();
if (!socat && process.env.CI === 'true') throw new Error('socat is required under CI=true (apt-get install -y socat)');
if (!socat) console.warn('socat not installed: serial integration tests skipped (apt-get install -y socat)');

const AXES = 6;
const BAUD = 1_000_000;

describe.skipIf(!socat)('RigLink over a socat pty pair to the MCU simulator', () => {
  let rig: PtyRig;
  let link: SerialLink;
  const states: McuStateName[] = [];

  beforeAll(async () => {
    const { mcuSim } = buildFirmwareHostPrograms();
    rig = new PtyRig(mcuSim, ['--axes', String(AXES)]);
    await rig.start();
    link = new SerialLink({ path: rig.host, baud: BAUD, axes: AXES });
    link.onStatus((s) => {
      if (states[states.length - 1] !== s.state) states.push(s.state);
    });
    await link.start();
  }, 30_000);

  afterAll(async () => {
    await link?.close();
    await rig?.stop();
  });

  const waitState = (s: McuStateName, ms = 2000) => waitFor(() => link.status.state === s, ms, `MCU state ${s}`);

  it('handshake: HELLO_ACK with the axis count and firmware name; STATUS flows', async () => {
    expect(link.state).toBe('ready');
    expect(link.firmware).toBe('riglink-mcu-sim 1.0');
    await waitFor(() => link.counters.statusFrames >= 3, 1000, 'STATUS frames');
    expect(link.status.state).toBe('parked');
  });

  it('ENABLE, then 10 s of SETPOINTs at 1000 Hz: every frame arrives, none corrupt, positions follow', async () => {
    expect(checkRigLinkBandwidth(BAUD, 1000, AXES).ok).toBe(true);
    expect(await link.enable()).toBe(AckResult.ok);
    await waitState('enabled');
    const targets = new Uint16Array(AXES);
    const start = performance.now();
    let sent = 0;
    const firstSeq = link.counters.setpointsWritten;
    // A 1 kHz grid driven from the event loop: each wake-up sends the frames that are due.
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const due = Math.min(10_000, Math.floor(performance.now() - start));
        while (sent < due) {
          const phase = (2 * Math.PI * sent) / 2000;
          for (let i = 0; i < AXES; i++) targets[i] = Math.round(32768 + 20000 * Math.sin(phase + i));
          expect(link.writeSetpoint(targets, true)).toBe(true);
          sent++;
        }
        if (sent >= 10_000) {
          clearInterval(timer);
          resolve();
        }
      }, 1);
    });
    const seconds = (performance.now() - start) / 1000;
    expect(sent).toBe(10_000);
    expect(seconds).toBeLessThan(12);
    expect(link.counters.setpointsWritten - firstSeq).toBe(10_000);
    expect(link.counters.writeErrors).toBe(0);
    // The simulator's positions follow the last targets (bounded speed: give it a moment).
    const last = Array.from(targets);
    await waitFor(() => link.status.positions.every((p, i) => Math.abs(p - last[i]!) <= 1), 2000, 'positions reach targets');
    // Every SETPOINT seen by the MCU, in order, with no gap.
    await new Promise((r) => setTimeout(r, 100));
    const seqs = rig
      .simLog()
      .split('\n')
      .filter((l) => l.includes(' rx SETPOINT '))
      .map((l) => Number(l.split(' ')[3]));
    expect(seqs.length).toBe(10_000);
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBe((seqs[i - 1]! + 1) & 0xffff);
    expect(link.counters.badCrc + link.counters.badCobs + link.counters.truncated + link.counters.oversize).toBe(0);
  }, 30_000);

  it('watchdog: host silence → holding after 100 ms, controlled park after 500 ms', async () => {
    // Stream until a STATUS sent well after streaming began reports enabled (an older one may still say
    // holding from the previous test's silence), then fall silent: t0 is the last frame written.
    const targets = new Uint16Array(AXES).fill(32768);
    const streamStart = performance.now();
    while (!(link.status.state === 'enabled' && link.status.receivedAt - streamStart > 60)) {
      link.writeSetpoint(targets, true);
      await new Promise((r) => setTimeout(r, 2));
    }
    link.writeSetpoint(targets, true);
    const t0 = performance.now();
    let holdingAt = 0;
    let parkingAt = 0;
    const off = link.onStatus((s) => {
      if (s.state === 'holding' && !holdingAt) holdingAt = performance.now() - t0;
      if (s.state === 'parking' && !parkingAt) parkingAt = performance.now() - t0;
    });
    await waitState('parked', 3000);
    off();
    // STATUS comes every 20 ms, so each state is seen up to 20 ms after the MCU enters it, plus scheduling on a loaded CI machine.
    expect(holdingAt).toBeGreaterThanOrEqual(100);
    expect(holdingAt).toBeLessThan(200);
    expect(parkingAt).toBeGreaterThanOrEqual(500);
    expect(parkingAt).toBeLessThan(620);
  });

  it('PARK: acknowledged, moves to park and reports parked', async () => {
    expect(await link.enable()).toBe(AckResult.ok);
    await waitState('enabled');
    const targets = new Uint16Array(AXES).fill(50000);
    for (let i = 0; i < 50; i++) {
      link.writeSetpoint(targets, true);
      await new Promise((r) => setTimeout(r, 2));
    }
    expect(await link.park()).toBe(AckResult.ok);
    await waitState('parked', 3000);
    expect(Array.from(link.status.positions)).toEqual(new Array(AXES).fill(0));
  });

  it('ESTOP latches: ENABLE is refused until CLEAR_ESTOP', async () => {
    expect(await link.enable()).toBe(AckResult.ok);
    expect(await link.estop()).toBe(AckResult.ok);
    await waitState('estop');
    expect(await link.enable()).toBe(AckResult.estopLatched);
    await new Promise((r) => setTimeout(r, 600)); // the watchdog does not unlatch it either
    expect(link.status.state).toBe('estop');
    expect(await link.clearEstop()).toBe(AckResult.ok);
    await waitState('parked');
    expect(await link.enable()).toBe(AckResult.ok);
    await waitState('enabled');
  });

  it('unplug (socat killed) → link lost; replug → reconnect and a fresh handshake, MCU not moving on its own', async () => {
    const reconnectsBefore = link.counters.reconnects;
    await rig.unplug();
    await waitFor(() => link.state === 'lost', 1000, 'link lost');
    expect(link.writeSetpoint(new Uint16Array(AXES), true)).toBe(false);
    await new Promise((r) => setTimeout(r, 300));
    await rig.startSocat();
    expect(await link.waitReady(5000)).toBe(true);
    expect(link.counters.reconnects).toBeGreaterThan(reconnectsBefore);
    // The MCU's watchdog parked it while the cable was out; it waits for ENABLE.
    await waitFor(() => link.status.state === 'parked' || link.status.state === 'parking', 2000, 'MCU parked after the outage');
    expect(rig.simLog()).toMatch(/link down[\s\S]*link up/);
  }, 20_000);
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
