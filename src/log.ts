import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * pino JSON to stdout (or stderr for CLI commands whose stdout is data). One event per state
 * change, never per tick. `PRIORITY` carries the syslog level so journald files each line
 * at the right priority.
 */
const PRIORITY: Record<string, number> = { trace: 7, debug: 7, info: 6, warn: 4, error: 3, fatal: 2 };

export function createLogger(opts: { level?: string; name?: string; destination?: 1 | 2; file?: string } = {}): Logger {
  // A log that cannot be written (a closed terminal, a broken pipe) must not end the process
  // mid-motion: the write error is dropped and the service goes on to park as it should.
  const destination = opts.file !== undefined ? pino.destination({ dest: opts.file, sync: false, mkdir: true }) : pino.destination({ fd: opts.destination ?? 1, sync: false });
  destination.on('error', () => {});
  return pino(
    {
      name: opts.name ?? 'motion-rig',
      level: opts.level ?? process.env.MOTION_RIG_LOG_LEVEL ?? 'info',
      formatters: {
        level: (label) => ({ level: label, PRIORITY: PRIORITY[label] ?? 6 }),
      },
    },
    destination,
  );
}

export const silentLogger: Logger = pino({ level: 'silent' });
