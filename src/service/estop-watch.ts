import { type FSWatcher, existsSync, watch } from 'node:fs';
import { basename, dirname } from 'node:path';

/**
 * Watches for an e-stop file: its existence is the trigger. inotify on the folder (a file
 * watch does not see a file appear) reacts in about a millisecond; a 50 ms stat poll backs it
 * up (folders on network file systems, a folder that does not exist yet).
 */
export class EstopFileWatch {
  present: boolean;
  private watcher: FSWatcher | undefined;
  private readonly poll: NodeJS.Timeout;

  constructor(
    readonly file: string,
    private readonly onChange: (present: boolean) => void,
  ) {
    this.present = existsSync(file);
    try {
      this.watcher = watch(dirname(file), (_event, name) => {
        if (name === null || name === basename(file)) this.check();
      });
      this.watcher.on('error', () => {
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch {
      this.watcher = undefined;
    }
    this.poll = setInterval(() => this.check(), 50);
    this.poll.unref();
  }

  check(): void {
    const now = existsSync(this.file);
    if (now === this.present) return;
    this.present = now;
    this.onChange(now);
  }

  close(): void {
    clearInterval(this.poll);
    this.watcher?.close();
  }
}
