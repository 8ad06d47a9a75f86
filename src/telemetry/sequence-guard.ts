/**
 * Judges a game's packet counter (GT7 packet id, F1 frame identifier, MotionSample.sequence)
 * so that one packet cannot move the stream: a jump is believed only when the packets after
 * it confirm it.
 *
 * The reference is the last accepted id. A packet within `window` of it is judged at once:
 * ahead is accepted (the ids between are lost), equal is a duplicate, behind is out of order
 * (both dropped). A packet further away either way (a console restart, a stall, a flashback,
 * or a forged or stray packet) becomes the candidate and is dropped; the reference moves only
 * when the next packet continues from the candidate (its id 1..`confirmWithin` ahead, in the
 * same stream). A next packet that does not confirm it drops the candidate for good (counted
 * in `unconfirmed`) and is judged on its own, so one forged id far ahead or far behind costs
 * the genuine stream nothing. A genuine jump costs one packet.
 *
 * Safe because `confirmWithin` ≤ `window`: a packet that continues the reference (1..window
 * ahead) can never also continue a candidate more than `window` ahead of the reference.
 *
 * `stream` is an optional identity beside the id (F1's session UID): a packet of another
 * stream is a candidate whatever its id. Compared with `===`. Pure, allocates nothing.
 */

export const SequenceVerdict = {
  /** Continues the reference: use it. */
  accept: 0,
  /** Confirms the candidate: use it, the stream jumped (restart, stall, rewind). */
  jump: 1,
  duplicate: 2,
  outOfOrder: 3,
  /** Far from the reference: held until the next packet confirms it; drop it for now. */
  candidate: 4,
} as const;
export type SequenceVerdict = (typeof SequenceVerdict)[keyof typeof SequenceVerdict];

export interface SequenceGuardSettings {
  /** The largest step, either way, judged at once (in ids). */
  window: number;
  /** A candidate is confirmed by a packet 1..confirmWithin ids after it (≤ window). */
  confirmWithin: number;
}

/** GT7 sends one id per physics frame at 60 Hz: 1 s, and the next packet or the one after. */
export const GT7_SEQUENCE: SequenceGuardSettings = { window: 60, confirmWithin: 2 };

/**
 * F1 counts game frames, several per packet at send rates below the frame rate (10 Hz at
 * 240 fps: 24). The window and the confirmation span cover that step with room for a loss.
 */
export const F1_SEQUENCE: SequenceGuardSettings = { window: 60, confirmWithin: 30 };

/** Game-neutral (the telemetry watch): F1's span also covers GT7's single steps. */
export const ANY_GAME_SEQUENCE: SequenceGuardSettings = F1_SEQUENCE;

/** What the guard counts; a client passes its own stats object so they are one and the same. */
export interface SequenceCounts {
  /** Ids skipped between accepted packets (not across a jump). */
  lost: number;
  duplicated: number;
  outOfOrder: number;
  /** Candidates the next packet did not confirm: dropped. */
  unconfirmed: number;
}

export class SequenceGuard<S = undefined> {
  /** The last accepted id (NaN before the first). */
  last = NaN;
  private stream: S | undefined;
  private candidate = NaN;
  private candidateStream: S | undefined;

  constructor(
    private readonly settings: SequenceGuardSettings,
    readonly counts: SequenceCounts = { lost: 0, duplicated: 0, outOfOrder: 0, unconfirmed: 0 },
  ) {
    if (!(settings.confirmWithin >= 1 && settings.confirmWithin <= settings.window)) {
      throw new RangeError(`confirmWithin must be 1..window (${settings.window}), got ${settings.confirmWithin}`);
    }
  }

  /** Forget the reference: the next packet is accepted as the first. */
  reset(): void {
    this.last = NaN;
    this.candidate = NaN;
  }

  judge(id: number, stream?: S): SequenceVerdict {
    const counts = this.counts;
    if (this.last !== this.last) {
      this.last = id;
      this.stream = stream;
      return SequenceVerdict.accept;
    }
    if (this.candidate === this.candidate) {
      if (stream === this.candidateStream) {
        const d = id - this.candidate;
        if (d === 0) {
          counts.duplicated++;
          return SequenceVerdict.duplicate;
        }
        if (d > 0 && d <= this.settings.confirmWithin) {
          this.last = id;
          this.stream = stream;
          this.candidate = NaN;
          return SequenceVerdict.jump;
        }
      }
      this.candidate = NaN;
      counts.unconfirmed++;
    }
    const step = id - this.last;
    if (stream !== this.stream || step > this.settings.window || step < -this.settings.window) {
      this.candidate = id;
      this.candidateStream = stream;
      return SequenceVerdict.candidate;
    }
    if (step === 0) {
      counts.duplicated++;
      return SequenceVerdict.duplicate;
    }
    if (step < 0) {
      counts.outOfOrder++;
      return SequenceVerdict.outOfOrder;
    }
    counts.lost += step - 1;
    this.last = id;
    return SequenceVerdict.accept;
  }
}
