/**
 * A seqlock over a SharedArrayBuffer: one writer thread publishes a block of numbers, any
 * reader copies out a consistent snapshot without locks or waiting for the writer. The
 * writer bumps the counter to odd, writes, bumps it to even; a reader copies and retries
 * when the counter was odd or moved meanwhile. Neither side allocates.
 */
export class SeqlockSlot {
  readonly buffer: SharedArrayBuffer;
  readonly length: number;
  private readonly seq: Int32Array;
  /** The writer's view; readers use read(). */
  readonly values: Float64Array;

  constructor(lengthOrBuffer: number | SharedArrayBuffer) {
    this.buffer = typeof lengthOrBuffer === 'number' ? new SharedArrayBuffer(8 + 8 * lengthOrBuffer) : lengthOrBuffer;
    this.seq = new Int32Array(this.buffer, 0, 1);
    this.values = new Float64Array(this.buffer, 8);
    this.length = this.values.length;
  }

  /** Even when no write is in progress; changes with every write. */
  get version(): number {
    return Atomics.load(this.seq, 0);
  }

  beginWrite(): void {
    Atomics.add(this.seq, 0, 1);
  }

  endWrite(): void {
    Atomics.add(this.seq, 0, 1);
  }

  write(from: Float64Array): void {
    Atomics.add(this.seq, 0, 1);
    this.values.set(from);
    Atomics.add(this.seq, 0, 1);
  }

  /**
   * `out` becomes the newest consistent snapshot, or stays the last one when the writer kept
   * the slot busy (a failed read never leaves `out` torn). `scratch`: a buffer of the same
   * length. Returns whether `out` changed.
   */
  readOrKeep(out: Float64Array, scratch: Float64Array): boolean {
    if (this.read(scratch) < 0) return false;
    out.set(scratch);
    return true;
  }

  /** Copies a consistent snapshot into `out`; returns its version, or −1 if the writer kept it busy (then `out` may be torn). */
  read(out: Float64Array): number {
    for (let attempt = 0; attempt < 64; attempt++) {
      const before = Atomics.load(this.seq, 0);
      if ((before & 1) === 1) continue;
      out.set(this.values);
      if (Atomics.load(this.seq, 0) === before) return before;
    }
    return -1;
  }
}
