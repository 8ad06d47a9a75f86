import { setpointFrameBytes } from './riglink/protocol.js';

/**
 * Does a loop rate fit the serial line? A UART byte is 10 bits (start, 8 data, stop), and
 * SETPOINT frames may use 90 % of the line so STATUS, ACKs and retries still fit beside them
 * (the MCU → host direction is separate on a full-duplex UART, but commands share ours).
 */
export const LINE_BUDGET = 0.9;
export const BITS_PER_BYTE = 10;

export interface BandwidthCheck {
  ok: boolean;
  bytesPerFrame: number;
  /** Highest whole loop rate (Hz) whose frames fit. */
  maxRateHz: number;
  message: string;
}

export function checkBandwidth(baud: number, rateHz: number, bytesPerFrame: number): BandwidthCheck {
  const budget = baud * LINE_BUDGET;
  const maxRateHz = Math.floor(budget / (BITS_PER_BYTE * bytesPerFrame));
  const ok = rateHz <= maxRateHz;
  const needed = rateHz * bytesPerFrame * BITS_PER_BYTE;
  const message = ok
    ? `${rateHz} Hz × ${bytesPerFrame} B frames = ${needed} bit/s of ${baud} baud (${Math.round((100 * needed) / baud)} %)`
    : `loop rate ${rateHz} Hz does not fit ${baud} baud: ${bytesPerFrame}-byte frames need ${needed} bit/s, more than 90 % of the line (${Math.floor(budget)} bit/s); the highest rate that fits is ${maxRateHz} Hz (or raise the baud rate)`;
  return { ok, bytesPerFrame, maxRateHz, message };
}

/** The check for RigLink SETPOINT frames with this many axes. */
export function checkRigLinkBandwidth(baud: number, rateHz: number, axes: number): BandwidthCheck {
  return checkBandwidth(baud, rateHz, setpointFrameBytes(axes));
}
