import { randomInt } from 'node:crypto';
import { PacketCipher } from '../../src/telemetry/gt7/cipher.js';
import { FORMATS, type Heartbeat } from '../../src/telemetry/gt7/formats.js';
import { encodePacket } from '../../src/telemetry/gt7/packet.js';
import { SyntheticDrive } from '../../src/telemetry/gt7/synthetic-drive.js';

/**
 * Encrypted GT7 datagrams as a console sends them: the synthetic lap through the production
 * encoder and cipher, a fresh seed each. `forge(id)` is what an attacker (or a stray packet)
 * would send: the current frame again under another packet id.
 */
export class Gt7PacketMaker {
  readonly drive = new SyntheticDrive();
  private readonly cipher = new PacketCipher();

  constructor(private readonly format: Heartbeat = 'B') {}

  /** The id of the newest frame. */
  get id(): number {
    return this.drive.packet.packetId;
  }

  /** The next frame, under its own id or under `id` (a console that restarted its count). */
  next(id?: number): Buffer {
    this.drive.next(this.format);
    if (id !== undefined) this.drive.packet.packetId = id;
    return this.seal();
  }

  /** The current frame again under packet id `id`; the drive does not advance. */
  forge(id: number): Buffer {
    const saved = this.drive.packet.packetId;
    this.drive.packet.packetId = id;
    const datagram = this.seal();
    this.drive.packet.packetId = saved;
    return datagram;
  }

  private seal(): Buffer {
    const plain = new Uint8Array(FORMATS[this.format].size);
    encodePacket(this.drive.packet, plain);
    const out = Buffer.alloc(plain.length);
    this.cipher.encrypt(plain, randomInt(0, 0x1_0000_0000), out);
    return out;
  }
}
