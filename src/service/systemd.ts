import { execFile } from 'node:child_process';
import type { Logger } from '../log.js';

/**
 * sd_notify without a native module. Node has no unix datagram sockets, and the prebuilt
 * npm options either need a compiler at install (sd-notify, unix-dgram: node-gyp) or are
 * unmaintained, so this runs systemd's own `systemd-notify` (in every systemd install).
 * The unit sets NotifyAccess=all because the message comes from that child process; since
 * systemd 246 `systemd-notify` waits (a barrier) until the manager has read the message, so
 * the child cannot exit before systemd attributes it to our unit. A handful of messages per
 * minute (READY, WATCHDOG every WatchdogSec/2, STOPPING) make the spawn cost irrelevant.
 * Without NOTIFY_SOCKET (not under systemd) everything here is a no-op.
 */
export class SystemdNotifier {
  readonly enabled = Boolean(process.env.NOTIFY_SOCKET);
  /** WatchdogSec/2 in ms, or 0 when systemd asked for no watchdog. */
  readonly watchdogIntervalMs: number;
  private failed = false;

  constructor(private readonly log: Logger) {
    const usec = Number(process.env.WATCHDOG_USEC);
    const pidOk = process.env.WATCHDOG_PID === undefined || Number(process.env.WATCHDOG_PID) === process.pid;
    this.watchdogIntervalMs = this.enabled && usec > 0 && pidOk ? usec / 2000 : 0;
  }

  notify(...assignments: string[]): void {
    if (!this.enabled) return;
    execFile('systemd-notify', [`--pid=${process.pid}`, ...assignments], { timeout: 5000 }, (err) => {
      if (err && !this.failed) {
        this.failed = true;
        this.log.error({ event: 'sd-notify-failed', err: err.message }, 'systemd-notify failed; READY/WATCHDOG will not reach systemd');
      }
    });
  }
}
