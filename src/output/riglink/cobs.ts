/**
 * Consistent Overhead Byte Stuffing: removes every 0x00 from a frame body so 0x00 can
 * delimit frames. Allocation-free: the caller owns both buffers.
 */

/** Encodes src[start, end) into dst from dstStart; returns the encoded length (no delimiter), or -1 if dst is too small. */
export function cobsEncode(src: Uint8Array, start: number, end: number, dst: Uint8Array, dstStart: number): number {
  let codeAt = dstStart;
  let o = dstStart + 1;
  let code = 1;
  const cap = dst.length;
  if (codeAt >= cap) return -1;
  for (let i = start; i < end; i++) {
    const b = src[i]!;
    if (b === 0) {
      dst[codeAt] = code;
      codeAt = o++;
      code = 1;
      if (codeAt >= cap) return -1;
    } else {
      if (o >= cap) return -1;
      dst[o++] = b;
      if (++code === 0xff) {
        dst[codeAt] = code;
        codeAt = o++;
        code = 1;
        if (codeAt >= cap) return -1;
      }
    }
  }
  dst[codeAt] = code;
  return o - dstStart;
}

/** Decodes src[start, end) (no delimiter) into dst from 0; returns the decoded length, or -1 for a bad encoding or too small a dst. */
export function cobsDecode(src: Uint8Array, start: number, end: number, dst: Uint8Array): number {
  let i = start;
  let o = 0;
  const cap = dst.length;
  while (i < end) {
    const code = src[i++]!;
    if (code === 0) return -1;
    for (let k = 1; k < code; k++) {
      if (i >= end || src[i] === 0 || o >= cap) return -1;
      dst[o++] = src[i++]!;
    }
    if (code !== 0xff && i < end) {
      if (o >= cap) return -1;
      dst[o++] = 0;
    }
  }
  return o;
}
