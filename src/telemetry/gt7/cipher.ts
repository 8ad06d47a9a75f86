import { salsa20 } from '@noble/ciphers/salsa.js';
import { type Game, GT7_MAGIC, SEED_OFFSET, formatForLength } from './formats.js';

const KEY_TEXT: Readonly<Record<Game, string>> = {
  gt7: 'Simulator Interface Packet GT7 ver 0.0',
  gtsport: 'Simulator Interface Packet ver 0.0',
};

/** Salsa20 key: the first 32 bytes of the game's interface string. */
export function keyFor(game: Game): Uint8Array {
  return new TextEncoder().encode(KEY_TEXT[game]).slice(0, 32);
}

export type DecryptResult = 'ok' | 'bad-length' | 'bad-magic';

/**
 * Salsa20/20 over the whole datagram, nonce = LE32(seed ^ formatXor) ‖ LE32(seed), seed at
 * 0x40 of the ciphertext. One instance per socket: it keeps its key and nonce buffers so a
 * packet costs no allocation of ours (noble's salsa20 still makes a few small temporaries).
 */
export class PacketCipher {
  readonly game: Game;
  private readonly key: Uint8Array;
  private readonly nonce = new Uint8Array(8);
  private readonly nonceView = new DataView(this.nonce.buffer);

  constructor(game: Game = 'gt7') {
    this.game = game;
    this.key = keyFor(game);
  }

  /**
   * Decrypts `ciphertext` into `out` (same length, may not alias). Returns 'ok' only when the
   * length names a known format and the magic matches; `out` holds garbage otherwise.
   */
  decrypt(ciphertext: Uint8Array, out: Uint8Array): DecryptResult {
    const format = formatForLength(ciphertext.length);
    if (format === undefined || out.length !== ciphertext.length) return 'bad-length';
    const seed =
      (ciphertext[SEED_OFFSET]! |
        (ciphertext[SEED_OFFSET + 1]! << 8) |
        (ciphertext[SEED_OFFSET + 2]! << 16) |
        (ciphertext[SEED_OFFSET + 3]! << 24)) >>>
      0;
    this.nonceView.setUint32(0, (seed ^ format.nonceXor) >>> 0, true);
    this.nonceView.setUint32(4, seed, true);
    salsa20(this.key, this.nonce, ciphertext, out);
    const magic = (out[0]! | (out[1]! << 8) | (out[2]! << 16) | (out[3]! << 24)) >>> 0;
    return magic === GT7_MAGIC ? 'ok' : 'bad-magic';
  }

  /**
   * What the console does: encrypt `plaintext` and put `seed` at 0x40 of the ciphertext, so
   * that bytes 0x40–0x43 decrypt to keystream garbage, exactly as on the wire.
   */
  encrypt(plaintext: Uint8Array, seed: number, out: Uint8Array): void {
    const format = formatForLength(plaintext.length);
    if (format === undefined) throw new RangeError(`no GT7 format is ${plaintext.length} bytes long`);
    if (out.length !== plaintext.length) throw new RangeError('output length must equal input length');
    this.nonceView.setUint32(0, (seed ^ format.nonceXor) >>> 0, true);
    this.nonceView.setUint32(4, seed >>> 0, true);
    salsa20(this.key, this.nonce, plaintext, out);
    out[SEED_OFFSET] = seed & 0xff;
    out[SEED_OFFSET + 1] = (seed >>> 8) & 0xff;
    out[SEED_OFFSET + 2] = (seed >>> 16) & 0xff;
    out[SEED_OFFSET + 3] = (seed >>> 24) & 0xff;
  }
}

/** True when a datagram already looks decrypted (magic in clear at offset 0). */
export function isPlaintext(datagram: Uint8Array): boolean {
  if (datagram.length < 4) return false;
  const magic = (datagram[0]! | (datagram[1]! << 8) | (datagram[2]! << 16) | (datagram[3]! << 24)) >>> 0;
  return magic === GT7_MAGIC;
}

/**
 * A stored datagram as plaintext: itself when the magic is already in clear, else decrypted
 * (into a new buffer) by the first cipher whose key gives the magic. Says why when neither:
 * the length is no GT7 format, or no key fits. For capture files, not the receive path.
 */
export function openDatagram(datagram: Uint8Array, ciphers: readonly PacketCipher[]): Uint8Array | 'bad-length' | 'no-key' {
  if (formatForLength(datagram.length) === undefined) return 'bad-length';
  if (isPlaintext(datagram)) return datagram;
  const out = new Uint8Array(datagram.length);
  return ciphers.some((c) => c.decrypt(datagram, out) === 'ok') ? out : 'no-key';
}
