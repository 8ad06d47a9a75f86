import { type FSWatcher, existsSync, watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import { readYamlValue } from '../config/load-yaml.js';
import { estopRequested } from '../config/service-config.js';
import { Control } from '../runtime/slots.js';

/**
 * The software e-stop's two triggers, watched on a thread of their own (estop-thread.ts) so
 * that no reload, status write or busy main thread can delay them; each writes a control word
 * the control step reads every tick.
 *
 * - The e-stop file: its existence is the trigger. inotify on the folder (a file watch does
 *   not see a file appear) reacts in about a millisecond. A file created and removed between
 *   two looks still counts: an event for the name with the file absent before and after is a
 *   pulse (Control.estopPulses), which latches the e-stop like a file that stayed; so is every
 *   file seen appearing, which the control step might otherwise never see if it goes before
 *   the next tick. Where
 *   inotify is not available (some network file systems) a 20 ms stat poll stands in, and
 *   then a file shorter than that can be missed.
 * - `safety.estop` in the config file: any value but `false` (or none) is a stop, read with
 *   the same rule as the config loader. A file that does not parse changes nothing: the
 *   trigger keeps the state it had.
 */
export interface EstopWatchOptions {
  file?: string;
  configFile: string;
  /** A `--set safety.estop=…` given at start: fixed for the life of the service. */
  configOverride?: boolean;
}

export type EstopEvent =
  | { event: 'estop-file'; present: boolean; pulse: boolean }
  | { event: 'estop-config'; estop: boolean }
  | { event: 'estop-config-unreadable'; error: string }
  | { event: 'estop-watch-degraded'; dir: string; error: string };

export class EstopWatch {
  private present = false;
  private readonly watchers: FSWatcher[] = [];
  private poll: NodeJS.Timeout | undefined;
  private confirm: NodeJS.Timeout | undefined;

  constructor(
    private readonly control: Int32Array,
    private readonly opts: EstopWatchOptions,
    private readonly onEvent: (e: EstopEvent) => void,
  ) {
    const file = opts.file;
    if (file !== undefined) {
      this.present = existsSync(file);
      Atomics.store(control, Control.estopFile, this.present ? 1 : 0);
      if (!this.watchDir(dirname(file), basename(file), () => this.checkFile(true))) {
        this.poll = setInterval(() => this.checkFile(false), 20);
      }
    }
    if (opts.configOverride !== undefined) Atomics.store(control, Control.estopConfig, opts.configOverride ? 1 : 0);
    else {
      this.readConfigKey(true);
      this.watchDir(dirname(opts.configFile), basename(opts.configFile), () => this.readConfigKey(false));
    }
  }

  get filePresent(): boolean {
    return this.present;
  }

  close(): void {
    clearInterval(this.poll);
    clearTimeout(this.confirm);
    for (const w of this.watchers) w.close();
  }

  private watchDir(dir: string, name: string, onChange: () => void): boolean {
    try {
      const w = watch(dir, (_event, changed) => {
        if (changed === null || changed === name) onChange();
      });
      w.on('error', (err) => {
        w.close();
        this.onEvent({ event: 'estop-watch-degraded', dir, error: err.message });
        if (name === basename(this.opts.file ?? '') && this.poll === undefined) this.poll = setInterval(() => this.checkFile(false), 20);
      });
      this.watchers.push(w);
      return true;
    } catch (err) {
      this.onEvent({ event: 'estop-watch-degraded', dir, error: (err as Error).message });
      return false;
    }
  }

  private checkFile(fromEvent: boolean): void {
    const now = existsSync(this.opts.file!);
    if (now !== this.present) {
      this.present = now;
      Atomics.store(this.control, Control.estopFile, now ? 1 : 0);
      // A file seen is also a pulse: removed again before the control step's next tick (both
      // events handled within a millisecond, the file present at the first look), the word
      // alone would be back at 0 unread, and the stop lost (seen once in CI). The pulse latches.
      if (now) Atomics.add(this.control, Control.estopPulses, 1);
      this.onEvent({ event: 'estop-file', present: now, pulse: false });
    } else if (fromEvent && !now) {
      // Something happened to the name while it was absent before and after: created and removed in between.
      Atomics.add(this.control, Control.estopPulses, 1);
      this.onEvent({ event: 'estop-file', present: false, pulse: true });
    }
  }

  /**
   * A stop takes effect at once. Letting go waits until a second read 150 ms later still says
   * so: an editor that truncates before writing shows an empty file for a moment, and a
   * half-written file must not clear the e-stop.
   */
  private readConfigKey(confirming = false): void {
    const on = this.parseConfigKey();
    if (on === undefined) return;
    const was = Atomics.load(this.control, Control.estopConfig) === 1;
    if (on && !was) {
      Atomics.store(this.control, Control.estopConfig, 1);
      this.onEvent({ event: 'estop-config', estop: true });
    } else if (!on && was) {
      if (!confirming) {
        clearTimeout(this.confirm);
        this.confirm = setTimeout(() => this.readConfigKey(true), 150);
        return;
      }
      Atomics.store(this.control, Control.estopConfig, 0);
      this.onEvent({ event: 'estop-config', estop: false });
    }
  }

  /** The key's value, or undefined when the file cannot be read or does not parse. */
  private parseConfigKey(): boolean | undefined {
    try {
      // Within the loader's limits (size, depth, aliases): a YAML bomb cannot stall this thread.
      return estopRequested(readYamlValue(this.opts.configFile));
    } catch (err) {
      this.onEvent({ event: 'estop-config-unreadable', error: (err as Error).message });
      return undefined;
    }
  }
}
