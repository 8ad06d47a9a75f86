import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MessageType, RIGLINK_VERSION } from '../../src/output/riglink/protocol.js';
import { PtyRig, haveSocat } from '../../src/service/pty-rig.js';
import { buildFirmwareHostPrograms } from '../helpers/firmware.js';
import { HostEnd } from '../helpers/pty-host-end.js';
import { waitFor } from '../helpers/wait.js';

/**
 * The MCU simulator's reporting and fault injection (firmware-protocol/c/mcu_sim_faults.c),
 * driven byte by byte from the host end of a socat pty pair with the TypeScript codec: what
 * the host-side tests of sequence continuity, a deaf MCU and a short STATUS stand on.
 */
const socat = haveSocat();
if (!socat && process.env.CI === 'true') throw new Error('socat is required under CI=true (apt-get install -y socat)');
if (!socat) console.warn('socat not installed: MCU simulator fault tests skipped (apt-get install -y socat)');

const AXES = 6;

const lines = (rig: PtyRig) => rig.simLog().split('\n');
const tempDir = () => mkdtempSync(join(tmpdir(), 'motion-rig-mcu-sim-'));

describe.skipIf(!socat)('MCU simulator: reporting and fault injection over a socat pty pair', () => {
  let mcuSim: string;
  beforeAll(() => {
    mcuSim = buildFirmwareHostPrograms().mcuSim;
  }, 60_000);

  /** For one describe block: the simulator (6 axes plus these arguments, given its folder) on a fresh pty pair, and the host end open. */
  function simOnPty(args: (dir: string) => string[] = () => []): { rig: PtyRig; host: HostEnd } {
    const ctx = {} as { rig: PtyRig; host: HostEnd };
    beforeAll(async () => {
      const dir = tempDir();
      ctx.rig = new PtyRig(mcuSim, ['--axes', String(AXES), ...args(dir)], dir);
      await ctx.rig.start();
      ctx.host = new HostEnd(ctx.rig.host);
    });
    afterAll(async () => {
      ctx.host?.close();
      await ctx.rig?.stop();
    });
    return ctx;
  }

  describe('sequence gaps', () => {
    const sim = simOnPty();

    it('seq 5, 6, 8 → exactly one "seq-gap expected 7 got 8"', async () => {
      const { rig, host } = sim;
      for (const seq of [5, 6, 8]) host.setpoint(seq, 1000);
      await waitFor(() => rig.simLog().includes(' rx SETPOINT 8 '), 2000, 'SETPOINT 8 at the MCU');
      const gaps = lines(rig).filter((l) => l.includes('seq-gap'));
      expect(gaps.map((l) => l.replace(/^[\d.]+ /, ''))).toEqual(['seq-gap expected 7 got 8']);
      // The gap line comes before the frame that shows it.
      const log = lines(rig);
      expect(log.findIndex((l) => l.includes('seq-gap'))).toBe(log.findIndex((l) => l.includes(' rx SETPOINT 8 ')) - 1);
    });

    it('the previous seq survives a reopen: a host that does not continue is labelled; the counters line counts all gaps', async () => {
      const { rig } = sim;
      sim.host.close();
      await rig.unplug();
      await waitFor(() => rig.simLog().includes('link down'), 2000, 'link down at the MCU');
      await rig.startSocat();
      await waitFor(() => (rig.simLog().match(/link up/g) ?? []).length === 2, 2000, 'link up again');
      sim.host = new HostEnd(rig.host);
      sim.host.send(MessageType.HELLO, 9, [RIGLINK_VERSION]); // continues: no gap
      sim.host.send(MessageType.GET_COUNTERS, 10);
      await waitFor(() => rig.simLog().includes(' rx GET_COUNTERS 10'), 2000, 'GET_COUNTERS 10');
      sim.host.close();
      await rig.unplug();
      await waitFor(() => (rig.simLog().match(/link down/g) ?? []).length === 2, 2000, 'second link down');
      await rig.startSocat();
      await waitFor(() => (rig.simLog().match(/link up/g) ?? []).length === 3, 2000, 'third link up');
      sim.host = new HostEnd(rig.host);
      sim.host.send(MessageType.HELLO, 0, [RIGLINK_VERSION]); // a host that restarted its counter
      await waitFor(() => rig.simLog().includes(' rx HELLO 0 '), 2000, 'HELLO 0 at the MCU');
      const gaps = lines(rig)
        .filter((l) => l.includes('seq-gap'))
        .map((l) => l.replace(/^[\d.]+ /, ''));
      expect(gaps).toEqual(['seq-gap expected 7 got 8', 'seq-gap expected 11 got 0 (after reopen)']);
      sim.host.close();
      await rig.stop();
      expect(lines(rig).find((l) => l.includes(' counters '))).toMatch(/ seqGaps 2$/);
    });
  });

  describe('--status-axes and --status-lie-file', () => {
    let lie = '';
    const sim = simOnPty((dir) => ['--park', '1000', '--status-axes', '2', '--status-lie-file', (lie = join(dir, 'lie'))]);

    it('HELLO_ACK still says 6 axes; every STATUS carries 2 positions', async () => {
      const { host } = sim;
      host.send(MessageType.HELLO, 1, [RIGLINK_VERSION]);
      await waitFor(() => host.replies.some((r) => r.type === MessageType.HELLO_ACK), 2000, 'HELLO_ACK');
      expect(host.replies.find((r) => r.type === MessageType.HELLO_ACK)!.fields.axes).toBe(AXES);
      await waitFor(() => host.statuses.length >= 5, 2000, 'STATUS frames');
      for (const s of host.statuses) expect(s.positions).toEqual([1000, 1000]);
    });

    it('while the lie file exists, STATUS positions are offset by its value', async () => {
      const { rig, host } = sim;
      writeFileSync(`${lie}.tmp`, '-250\n');
      renameSync(`${lie}.tmp`, lie);
      await waitFor(() => host.statuses.at(-1)!.positions[0] === 750, 2000, 'lying STATUS');
      expect(host.statuses.at(-1)!.positions).toEqual([750, 750]);
      expect(rig.simLog()).toContain('status-lie on -250');
      rmSync(lie);
      await waitFor(() => host.statuses.at(-1)!.positions[0] === 1000, 2000, 'honest STATUS');
      expect(rig.simLog()).toContain('status-lie off');
    });
  });

  describe('--deaf-file', () => {
    let deaf = '';
    const sim = simOnPty((dir) => ['--deaf-file', (deaf = join(dir, 'deaf'))]);

    it('deaf: STATUS keeps coming and the watchdog runs, nothing is read; hearing again, the queued frames are read in order', async () => {
      const { rig, host } = sim;
      host.send(MessageType.HELLO, 1, [RIGLINK_VERSION]);
      host.send(MessageType.ENABLE, 2);
      await waitFor(() => host.replies.some((r) => r.type === MessageType.ACK), 2000, 'ACK to ENABLE');
      host.setpoint(3, 30000);
      await waitFor(() => host.statuses.at(-1)?.state === 1 && host.statuses.at(-1)?.lastSeq === 3, 2000, 'enabled, SETPOINT 3 seen');

      writeFileSync(deaf, '');
      await waitFor(() => rig.simLog().includes('deaf on'), 2000, 'deaf on');
      const logBefore = rig.simLog().length;
      const statusBefore = host.statuses.length;
      // The host goes on streaming every 5 ms, as it would; the MCU hears none of it.
      let seq = 4;
      const deafStart = Date.now();
      while (Date.now() - deafStart < 700) {
        host.setpoint(seq++, 30000);
        await new Promise((r) => setTimeout(r, 5));
      }
      const lastSent = seq - 1;
      const during = host.statuses.slice(statusBefore);
      expect(during.length).toBeGreaterThanOrEqual(20); // 700 ms at one STATUS per 20 ms, with slack for a loaded machine
      expect(during.every((s) => s.lastSeq === 3)).toBe(true);
      // Its watchdog ran on the silence it perceived: holding after 100 ms, parking after 500 ms.
      const states = during.map((s) => s.state);
      expect(states.indexOf(2)).toBeGreaterThanOrEqual(0);
      expect(states.indexOf(3)).toBeGreaterThan(states.indexOf(2));
      const deafLog = rig.simLog().slice(logBefore);
      expect(deafLog).not.toMatch(/ rx /);
      expect(deafLog).toMatch(/state holding[\s\S]*state parking/);

      rmSync(deaf);
      await waitFor(() => rig.simLog().includes(` rx SETPOINT ${lastSent} `), 3000, 'queued SETPOINTs read');
      const afterLog = lines(rig).slice(lines(rig).findIndex((l) => l.endsWith('deaf off')));
      const seqs = afterLog.filter((l) => l.includes(' rx SETPOINT ')).map((l) => Number(l.split(' ')[3]));
      expect(seqs).toEqual(Array.from({ length: lastSent - 3 }, (_, i) => 4 + i));
      expect(rig.simLog()).not.toContain('seq-gap');
      await waitFor(() => host.statuses.at(-1)!.lastSeq === lastSent, 2000, 'STATUS lastSeq caught up');
    }, 20_000);
  });

  it('exits when the process that started it dies (SIGKILL, no chance to clean up): "parent gone", counters, exit 0', async () => {
    const dir = tempDir();
    const log = join(dir, 'parent.log');
    const pidFile = join(dir, 'sim.pid');
    // A shell starts the simulator in the background, notes its pid, then becomes a long sleep.
    const parent = spawn('sh', ['-c', `"$0" --device "$1" --log "$2" & echo $! > "$3"; exec sleep 60`, mcuSim, join(dir, 'no-device'), log, pidFile], {
      stdio: 'ignore',
    });
    await waitFor(() => existsSync(log) && readFileSync(log, 'utf8').includes('state parked'), 3000, 'simulator started');
    const simPid = Number(readFileSync(pidFile, 'utf8'));
    parent.kill('SIGKILL');
    await waitFor(() => readFileSync(log, 'utf8').includes(' counters '), 2000, 'simulator gone after its parent');
    const tail = readFileSync(log, 'utf8').trim().split('\n').slice(-2);
    expect(tail[0]).toMatch(/ parent gone$/);
    expect(tail[1]).toMatch(/ counters rxFrames 0 .* seqGaps 0$/);
    // Gone, or a zombie its new parent has yet to reap.
    const gone = () => !existsSync(`/proc/${simPid}`) || /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${simPid}/stat`, 'utf8'));
    await waitFor(gone, 2000, 'simulator process gone');
  });
});
