import type { Logger } from '../log.js';

/**
 * Hands each telemetry item of a source (GT7 client, F1 listener) to its callbacks and to
 * any async iterators, the same way for every game. A throwing or rejecting callback is
 * logged and never stops the others. Iterators get copies (the item itself is reused by
 * the source); a slow consumer gets the newest: at most `bufferSize` wait, the oldest go.
 */
export class TelemetryFanout<T> {
  private readonly listeners = new Set<(t: T) => void | Promise<void>>();
  private readonly waiters = new Set<() => void>();
  private closed = false;

  constructor(
    private readonly log: Logger,
    private readonly copy: (t: T) => T,
  ) {}

  /** Registers a callback for every item; returns the function that removes it. */
  add(listener: (t: T) => void | Promise<void>): () => void {
    this.listeners.add(listener);
    return () => this.remove(listener);
  }

  remove(listener: (t: T) => void | Promise<void>): void {
    this.listeners.delete(listener);
  }

  publish(t: T): void {
    for (const l of this.listeners) {
      try {
        const r = l(t);
        if (r instanceof Promise) r.catch((err: unknown) => this.log.error({ err }, 'telemetry listener failed'));
      } catch (err) {
        this.log.error({ err }, 'telemetry listener failed');
      }
    }
    this.wake();
  }

  /** Ends every iterator once its queue is drained. */
  close(): void {
    this.closed = true;
    this.wake();
  }

  async *iterate(bufferSize = 256): AsyncGenerator<T> {
    const queue: T[] = [];
    const off = this.add((t) => {
      queue.push(this.copy(t));
      if (queue.length > bufferSize) queue.shift();
    });
    try {
      while (true) {
        while (queue.length > 0) yield queue.shift()!;
        if (this.closed) return;
        await new Promise<void>((resolve) => {
          const wake = () => {
            this.waiters.delete(wake);
            resolve();
          };
          this.waiters.add(wake);
        });
      }
    } finally {
      off();
    }
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }
}
