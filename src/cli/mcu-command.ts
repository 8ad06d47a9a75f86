import { closeSync, writeSync } from 'node:fs';
import { FrameParser } from '../output/riglink/parser.js';
import { FrameEncoder, MCU_STATE_NAMES, MessageType, RIGLINK_VERSION, decodeFields } from '../output/riglink/protocol.js';
import { closeTty, openTty, openTtyReadSide, ttyReader } from '../output/tty.js';
import { UsageError, intOption } from './usage.js';

/**
 * `motion-rig mcu --port PATH`: the rig's MCU on its own, without the service (which holds the
 * port while it runs). It says HELLO until the MCU answers (an Arduino resets when its port is
 * opened, and its bootloader waits 1-2 s before the firmware runs), then prints what the MCU's
 * STATUS says, a line each 100 ms: state, faults, positions. It sends HELLO and nothing else.
 * The MCU may move on its own: an Arduino reset by the port's opening boots, and the normal
 * image then homes its step axes and parks (the calibration image does neither). With the calibration image (`make -C firmware-protocol calibrate`)
 * each DC axis's position is its pot's ADC count, 0..1023 (docs/firmware.md, Calibration).
 */
export async function runMcu(v: { port?: string; baud?: string; seconds?: string; json?: boolean }, signal: AbortSignal): Promise<number> {
  if (!v.port) throw new UsageError('mcu needs --port PATH (the rig MCU\'s serial port, e.g. /dev/ttyACM0)');
  const baudRate = intOption('baud', v.baud, 1200, 4_000_000) ?? 500_000;
  const seconds = intOption('seconds', v.seconds, 1, 86_400);
  const fd = await openTty(v.port, { baudRate, hupcl: false });
  let reader: ReturnType<typeof ttyReader>;
  let readFd = -1;
  try {
    readFd = await openTtyReadSide(v.port);
    reader = ttyReader(readFd);
  } catch (err) {
    if (readFd >= 0) closeSync(readFd); // ttyReader refused it (not a tty)
    await closeTty(fd).catch(() => undefined);
    throw err;
  }
  const encoder = new FrameEncoder();
  let hello: { axes: number; firmware: string } | undefined;
  let last: { state: number; faults: number; positions: number[] } | undefined;
  let printedAt = 0;
  let statusCount = 0;
  const show = (s: { state: number; faults: number; positions: number[] }) => {
    const state = MCU_STATE_NAMES[s.state] ?? `state ${s.state}`;
    if (v.json) process.stdout.write(`${JSON.stringify({ state, faults: s.faults, positions: s.positions })}\n`);
    else process.stdout.write(`${state.padEnd(8)} faults 0x${s.faults.toString(16).padStart(4, '0')}  positions ${s.positions.map((p) => String(p).padStart(5)).join(' ')}\n`);
  };
  const parser = new FrameParser({
    frame: (type, _seq, payload) => {
      const f = decodeFields(type, payload);
      if (type === MessageType.HELLO_ACK && !hello) {
        hello = { axes: f.axes as number, firmware: f.firmware as string };
        if (v.json) process.stdout.write(`${JSON.stringify({ firmware: hello.firmware, axes: hello.axes, version: f.version })}\n`);
        else process.stdout.write(`${v.port}: ${hello.firmware}, ${hello.axes} axes, RigLink ${f.version as number}${/ calibrate$/.test(hello.firmware) ? ' (calibration image: DC positions are ADC counts 0..1023)' : ''}\n`);
      } else if (type === MessageType.STATUS && hello) {
        last = f as unknown as { state: number; faults: number; positions: number[] };
        statusCount++;
        const now = performance.now();
        if (now - printedAt >= 100) {
          printedAt = now;
          show(last);
        }
      }
    },
  });
  reader.on('data', (chunk: Buffer) => parser.push(chunk));
  let lostPort: string | undefined;
  reader.on('error', (err: Error) => (lostPort = err.message));
  const sendHello = () => {
    const n = encoder.encode(MessageType.HELLO, 1, [RIGLINK_VERSION]);
    try {
      writeSync(fd, encoder.frame, 0, n);
    } catch {
      // EAGAIN on a full line: the next try goes out
    }
  };
  const started = performance.now();
  let closed = false;
  try {
    sendHello();
    await new Promise<void>((resolve) => {
      if (signal.aborted) return resolve(); // Ctrl-C while the port was opening
      let done = false;
      const finish = () => {
        done = true;
        clearInterval(timer);
        resolve();
      };
      const timer = setInterval(() => {
        const ms = performance.now() - started;
        if (!hello && ms > 10_000) return finish();
        if (!hello) sendHello();
        if (seconds !== undefined && ms >= seconds * 1000) finish();
      }, 500);
      signal.addEventListener('abort', finish, { once: true });
      reader.once('close', () => {
        if (done) return; // our own destroy() below
        closed = true; // unplugged, or the MCU's USB bridge went away
        finish();
      });
    });
  } finally {
    reader.destroy();
    await closeTty(fd).catch(() => undefined);
  }
  if (signal.aborted && !statusCount) {
    process.stderr.write(`${v.port}: interrupted before the MCU's first STATUS\n`);
    return 130;
  }
  if (closed) {
    process.stderr.write(`${v.port}: the port closed${lostPort ? ` (${lostPort})` : ''}\n`);
    return 1;
  }
  if (!hello) {
    process.stderr.write(`${v.port}: no HELLO_ACK within 10 s at ${baudRate} baud (is it the rig's MCU, flashed with RigLink firmware, at this baud?)\n`);
    return 1;
  }
  if (!statusCount) {
    process.stderr.write(`${v.port}: HELLO_ACK but no STATUS\n`);
    return 1;
  }
  if (last && !v.json) show(last);
  return 0;
}
