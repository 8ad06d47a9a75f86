import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PacketCipher, isPlaintext, keyFor, openDatagram } from '../../src/telemetry/gt7/cipher.js';
import { FORMATS, GT7_MAGIC, formatContains, formatForLength } from '../../src/telemetry/gt7/formats.js';
import { readCapture } from '../../src/telemetry/recording.js';
import { dataPath, haveSharedData } from '../helpers/shared-data.js';

describe('GT7 formats', () => {
  it('sizes and nonce constants are those of TELEMETRY-NOTES.md', () => {
    expect([FORMATS.A.size, FORMATS.B.size, FORMATS['~'].size, FORMATS.C.size]).toEqual([296, 316, 344, 368]);
    expect(FORMATS.A.nonceXor).toBe(0xdeadbeaf);
    expect(FORMATS.B.nonceXor).toBe(0xdeadbeef);
    expect(FORMATS['~'].nonceXor).toBe(0x55fabb4f);
    expect(FORMATS.C.nonceXor).toBe(0xdeadbeef);
    expect(formatForLength(316)?.heartbeat).toBe('B');
    expect(formatForLength(368)?.heartbeat).toBe('C');
    expect(formatForLength(300)).toBeUndefined();
  });
  it('supersets: C and ~ contain B; A does not', () => {
    expect(formatContains('C', 'B')).toBe(true);
    expect(formatContains('~', 'B')).toBe(true);
    expect(formatContains('A', 'B')).toBe(false);
    expect(formatContains('B', 'C')).toBe(false);
  });
  it('keys are the first 32 bytes of the interface strings', () => {
    expect(Buffer.from(keyFor('gt7')).toString('latin1')).toBe('Simulator Interface Packet GT7 v');
    expect(Buffer.from(keyFor('gtsport')).toString('latin1')).toBe('Simulator Interface Packet ver 0');
  });
});

describe.skipIf(!haveSharedData)('GT7 decryption on real captures', () => {
  const cipher = new PacketCipher('gt7');

  for (const file of haveSharedData ? readdirSync(dataPath('gt7', 'encrypted-A')) : []) {
    it(`every packet of encrypted-A/${file} decrypts with the magic`, () => {
      const cap = readCapture(dataPath('gt7', 'encrypted-A', file));
      expect(cap.records.length).toBeGreaterThan(50);
      for (const r of cap.records) {
        expect(r.datagram.length).toBe(296);
        expect(isPlaintext(r.datagram)).toBe(false);
        const out = new Uint8Array(r.datagram.length);
        expect(cipher.decrypt(r.datagram, out)).toBe('ok');
        expect(new DataView(out.buffer).getUint32(0, true)).toBe(GT7_MAGIC);
      }
    });
  }

  for (const hb of ['B', 'tilde', 'C']) {
    it(`synthetic ${hb}: decrypts to the matching plaintext outside 0x40–0x43, and re-encrypts exactly`, () => {
      const enc = readCapture(dataPath('gt7', 'synthetic', `synthetic_${hb}_encrypted.lpr`));
      const plain = readCapture(dataPath('gt7', 'synthetic', `synthetic_${hb}_plaintext.lpr`));
      const meta = JSON.parse(readFileSync(dataPath('gt7', 'synthetic', 'synthetic_meta.json'), 'utf8'));
      const seeds: number[] = meta[hb].seeds;
      expect(enc.records.length).toBe(plain.records.length);
      enc.records.forEach((r, i) => {
        const out = new Uint8Array(r.datagram.length);
        expect(cipher.decrypt(r.datagram, out)).toBe('ok');
        const want = plain.records[i]!.datagram;
        expect(Buffer.from(out.subarray(0, 0x40)).equals(Buffer.from(want.subarray(0, 0x40)))).toBe(true);
        expect(Buffer.from(out.subarray(0x44)).equals(Buffer.from(want.subarray(0x44)))).toBe(true);
        // The seed of the meta file sits at 0x40 of the ciphertext.
        expect(new DataView(r.datagram.buffer, r.datagram.byteOffset).getUint32(0x40, true)).toBe(seeds[i]);
        // Our encrypt reproduces the wire bytes from the plaintext and the seed.
        const again = new Uint8Array(want.length);
        cipher.encrypt(want, seeds[i]!, again);
        expect(Buffer.from(again).equals(Buffer.from(r.datagram))).toBe(true);
      });
    });
  }

  it('the wrong key or the wrong format constant fails the magic check', () => {
    const cap = readCapture(dataPath('gt7', 'encrypted-A', 'nurburgring-gp.lpr'));
    const out = new Uint8Array(296);
    expect(new PacketCipher('gtsport').decrypt(cap.records[0]!.datagram, out)).toBe('bad-magic');
    // A B-length packet decrypted with B's constant from A's bytes: pad A's ciphertext.
    const padded = new Uint8Array(316);
    padded.set(cap.records[0]!.datagram);
    expect(cipher.decrypt(padded, new Uint8Array(316))).toBe('bad-magic');
    expect(cipher.decrypt(new Uint8Array(100), new Uint8Array(100))).toBe('bad-length');
  });

  it('openDatagram: plaintext passes through, ciphertext is opened by the key that fits, else says why', () => {
    const enc = readCapture(dataPath('gt7', 'encrypted-A', 'nurburgring-gp.lpr')).records[0]!.datagram;
    const plain = readCapture(dataPath('gt7', 'recordings', 'replay-A.lpr')).records[0]!.datagram;
    expect(openDatagram(plain, [])).toBe(plain);
    const opened = openDatagram(enc, [new PacketCipher('gtsport'), new PacketCipher('gt7')]);
    expect(opened).toBeInstanceOf(Uint8Array);
    expect(isPlaintext(opened as Uint8Array)).toBe(true);
    expect(openDatagram(enc, [new PacketCipher('gtsport')])).toBe('no-key');
    expect(openDatagram(new Uint8Array(100), [cipher])).toBe('bad-length');
  });
});
