#include "fuzz_check.h"

#include <string.h>

static uint16_t table[256];

void fuzz_check_init(void) {
  for (int i = 0; i < 256; i++) {
    uint16_t c = (uint16_t)(i << 8);
    for (int b = 0; b < 8; b++) c = (c & 0x8000) ? (uint16_t)((c << 1) ^ 0x1021) : (uint16_t)(c << 1);
    table[i] = c;
  }
}

static uint16_t crc_table(const uint8_t *p, size_t n) {
  uint16_t c = 0xFFFF;
  for (size_t i = 0; i < n; i++) c = (uint16_t)((c << 8) ^ table[((c >> 8) ^ p[i]) & 0xFF]);
  return c;
}

/* The length rules again, from PROTOCOL.md. */
static int length_rule(uint8_t type, const uint8_t *p, size_t n) {
  if (type == 0x01) return n == 1;
  if (type == 0x10) return n >= 2 && p[1] <= 16 && n == (size_t)(2 + 2 * p[1]);
  if (type == 0x20 || type == 0x21 || type == 0x22 || type == 0x23 || type == 0x30) return n == 0;
  if (type == 0x24 || type == 0xA0) return n == 4;
  if (type == 0x81) return n >= 2 && n <= 66;
  if (type == 0x90) return n >= 6 && p[5] <= 16 && n == (size_t)(6 + 2 * p[5]);
  if (type == 0xB0) return n == 24;
  /* Playout extension (section 7). */
  if (type == 0x11) return n >= 6 && p[1] <= 16 && n == (size_t)(6 + 2 * p[1]);
  if (type == 0x25) return n == 6;
  if (type == 0x31) return n == 0;
  if (type == 0x82) return n >= 13 && n <= 32;
  if (type == 0x91) return n == 28;
  return 0;
}

/* COBS written out again (not rl_cobs_encode): the canonical encoding of in[0..n). */
static size_t cobs(const uint8_t *in, size_t n, uint8_t *out) {
  size_t code_at = 0, o = 1;
  uint8_t code = 1;
  for (size_t i = 0; i < n; i++) {
    if (in[i] == 0) {
      out[code_at] = code;
      code_at = o++;
      code = 1;
    } else {
      out[o++] = in[i];
      if (++code == 0xFF) {
        out[code_at] = code;
        code_at = o++;
        code = 1;
      }
    }
  }
  out[code_at] = code;
  return o;
}

size_t fuzz_check_body(const rl_frame *f, uint8_t *body) {
  size_t n = 3u + f->payload_len;
  body[0] = f->type;
  body[1] = (uint8_t)f->seq;
  body[2] = (uint8_t)(f->seq >> 8);
  memcpy(body + 3, f->payload, f->payload_len);
  uint16_t crc = crc_table(body, n);
  body[n] = (uint8_t)crc;
  body[n + 1] = (uint8_t)(crc >> 8);
  return n + 2;
}

int fuzz_check_accepted(const rl_frame *f, const uint8_t *wire, size_t len) {
  uint8_t body[RIGLINK_MAX_BODY], enc[RIGLINK_MAX_ENCODED + 2];
  if (f->payload_len > RIGLINK_MAX_PAYLOAD) return 0;
  size_t bl = fuzz_check_body(f, body);
  /* The CRC on the wire is the one in the decoded body: canonical re-encoding with our own CRC proves it matched. */
  size_t el = cobs(body, bl, enc);
  return el == len && memcmp(enc, wire, el) == 0 && length_rule(f->type, f->payload, f->payload_len);
}
