import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { McuState, MessageType, RIGLINK_VERSION } from '../../src/output/riglink/protocol.js';
import { PtyRig, haveSocat } from '../../src/service/pty-rig.js';
import { buildFirmwareHostPrograms } from '../helpers/firmware.js';
import { HostEnd } from '../helpers/pty-host-end.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Safety with MCU-timed playout (PROTOCOL.md §7.3), on the MCU simulator over a socat pty:
 * with 20 ms of ramp setpoints queued (the longest delay the simulator accepts), ESTOP and PARK
 * act when they arrive and nothing queued plays after them; the watchdog's hold plays nothing
 * queued before it. The ramp only ever rises, so any queued frame played late would show as a
 * position going up.
 */
const socat = haveSocat();
if (!socat && process.env.CI === 'true') throw new Error('socat is required under CI=true (apt-get install -y socat)');
if (!socat) console.warn('socat not installed: MCU simulator playout tests skipped (apt-get install -y socat)');

const DELAY_US = 20_000;
const le = (v: number, bytes: number) => Array.from({ length: bytes }, (_, i) => Math.floor(v / 256 ** i) & 0xff);

describe.skipIf(!socat)('MCU simulator playout: ESTOP, PARK and the watchdog act at once', () => {
  let mcuSim: string;
  let rig: PtyRig | undefined;
  let host: HostEnd | undefined;
  let stream: NodeJS.Timeout | undefined;
  let seq = 0;
  beforeAll(() => {
    mcuSim = buildFirmwareHostPrograms().mcuSim;
  }, 60_000);
  afterEach(async () => {
    clearInterval(stream);
    host?.close();
    await rig?.stop();
  });

  const reply = async (type: number, sentSeq: number) => {
    await waitFor(() => host!.replies.some((r) => r.fields.ackedSeq === sentSeq || (type === MessageType.HELLO && r.type === MessageType.HELLO_ACK)), 2000, `reply to ${type}`);
    return host!.replies.find((r) => r.fields.ackedSeq === sentSeq || (type === MessageType.HELLO && r.type === MessageType.HELLO_ACK))!;
  };
  const command = async (type: number, payload: number[] = []) => {
    const s = seq++;
    host!.send(type, s, payload);
    return reply(type, s);
  };

  /** HELLO, SET_PLAYOUT (1 kHz, 20 ms), ENABLE, then a rising ramp of SETPOINT_TIMED every ms (tick = ms since start). */
  async function enabledAndStreaming(extra: () => Promise<void> = async () => undefined): Promise<{ stop: () => void; value: () => number }> {
    rig = new PtyRig(mcuSim, ['--axes', '6', '--speed', '4000000'], mkdtempSync(join(tmpdir(), 'motion-rig-playout-')));
    await rig.start();
    host = new HostEnd(rig.host);
    seq = 0;
    await command(MessageType.HELLO, [RIGLINK_VERSION]);
    expect((await command(MessageType.SET_PLAYOUT, [...le(1_000_000, 4), ...le(DELAY_US, 2)])).fields.result).toBe(0);
    await extra();
    expect((await command(MessageType.ENABLE)).fields.result).toBe(0);
    const t0 = performance.now();
    let value = 1000;
    let sending = true;
    stream = setInterval(() => {
      if (!sending) return;
      const tick = Math.floor(performance.now() - t0);
      value = Math.min(60_000, 1000 + 40 * tick);
      host!.timedSetpoint(seq++, tick, value);
    }, 1);
    await waitFor(() => (host!.statuses.at(-1)?.positions[0] ?? 0) > 5000, 3000, 'the ramp being played');
    return { stop: () => (sending = false), value: () => value };
  }

  const simLines = () => rig!.simLog().split('\n');
  const timeOf = (re: RegExp) => Number(simLines().find((l) => re.test(l))!.split(' ')[0]);

  it('ESTOP: state estop when it arrives (same loop pass, not after the 20 ms delay), and no queued frame moves anything after it', async () => {
    await enabledAndStreaming();
    const s = seq++;
    host!.send(MessageType.ESTOP, s);
    await reply(MessageType.ESTOP, s);
    const at = host!.statuses.length;
    await waitFor(() => host!.statuses.length >= at + 8, 2000, '8 STATUS after ESTOP');
    // Logged in the same pass (a descheduled simulator can put a few ms between the two lines); the delay is 20 ms.
    expect(timeOf(/ state estop/) - timeOf(new RegExp(` rx ESTOP ${s}`))).toBeLessThan(10);
    const after = host!.statuses.slice(at + 1).filter((x) => x.state === McuState.estop);
    expect(after.length).toBeGreaterThanOrEqual(6);
    for (const st of after) expect(st.positions).toEqual(after[0]!.positions);
  }, 20_000);

  it('PARK: parking when it arrives, then only toward park, never up the queued ramp', async () => {
    await enabledAndStreaming();
    const s = seq++;
    // Counted before PARK goes out: a quick MCU may report parked before the ACK is read.
    const at = host!.statuses.length;
    host!.send(MessageType.PARK, s);
    await reply(MessageType.PARK, s);
    await waitFor(() => host!.statuses.at(-1)?.state === McuState.parked, 3000, 'parked');
    expect(timeOf(/ state parking/) - timeOf(new RegExp(` rx PARK ${s}`))).toBeLessThan(10);
    const after = host!.statuses.slice(at);
    const from = after.findIndex((x) => x.state === McuState.parking || x.state === McuState.parked);
    expect(from).toBeGreaterThanOrEqual(0);
    const seen = after.slice(from).map((x) => x.positions[0]!);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!).toBeLessThanOrEqual(seen[i - 1]!);
    expect(seen.at(-1)).toBe(0);
  }, 20_000);

  it('watchdog hold (10 ms here, shorter than the 20 ms delay): the frames still queued never play', async () => {
    const { stop } = await enabledAndStreaming(async () => {
      expect((await command(MessageType.SET_WATCHDOG, [...le(10, 2), ...le(2000, 2)])).fields.result).toBe(0);
    });
    stop();
    await waitFor(() => simLines().some((l) => l.endsWith('state holding')), 2000, 'holding');
    const at = host!.statuses.length;
    await waitFor(() => host!.statuses.length >= at + 8, 2000, '8 STATUS while holding');
    const held = host!.statuses.slice(at + 1).filter((x) => x.state === McuState.holding);
    expect(held.length).toBeGreaterThanOrEqual(6);
    for (const st of held) expect(st.positions).toEqual(held[0]!.positions);
    // The last frames arrived less than 20 ms before the hold began: they were queued, and dropped.
    const holdAt = timeOf(/ state holding/);
    const lastRx = simLines().filter((l) => l.includes(' rx SETPOINT_TIMED ')).at(-1)!;
    expect(holdAt - Number(lastRx.split(' ')[0])).toBeLessThan(DELAY_US / 1000);
  }, 20_000);
});
