/*
 * Seeded random fuzzing of the reference parser (no libFuzzer needed; run under
 * -fsanitize=address,undefined by the Makefile's fuzz target).
 *
 *   fuzz [iterations] [seed]
 *
 * Two kinds of input: random byte streams, and valid frames with 1-3 mutations (bit flips,
 * byte replacements, insertions, deletions). Every frame the parser accepts is checked
 * again by code that shares nothing with it (fuzz_check.c). An accept that fails the check
 * is a false accept. Mutated frames
 * that still pass are CRC-16 collisions (valid frames by the spec, expected about once in
 * 65536 multi-byte corruptions); single-bit flips must never pass. Prints JSON; exit 1 on
 * any false accept or an accepted single-bit flip.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "riglink.h"

static uint64_t state;
static uint32_t next(void) {
  state ^= state << 13;
  state ^= state >> 7;
  state ^= state << 17;
  return (uint32_t)(state >> 11);
}

static const uint8_t TYPES[] = {0x01, 0x10, 0x20, 0x21, 0x22, 0x23, 0x24, 0x30, 0x81, 0x90, 0xA0, 0xB0, 0x11, 0x25, 0x31, 0x82, 0x91};

static size_t random_valid_frame(uint8_t *out, uint8_t *body, size_t *body_len) {
  uint8_t type = TYPES[next() % sizeof TYPES];
  uint8_t payload[RIGLINK_MAX_PAYLOAD];
  size_t n = 0;
  switch (type) {
    case 0x01: n = 1; break;
    case 0x10: { uint8_t k = (uint8_t)(next() % 17); payload[1] = k; n = 2 + 2u * k; break; }
    case 0x24: case 0xA0: n = 4; break;
    case 0x81: n = 2 + next() % 65; break;
    case 0x90: { uint8_t k = (uint8_t)(next() % 17); payload[5] = k; n = 6 + 2u * k; break; }
    case 0xB0: n = 24; break;
    case 0x11: { uint8_t k = (uint8_t)(next() % 17); payload[1] = k; n = 6 + 2u * k; break; }
    case 0x25: n = 6; break;
    case 0x82: n = 13 + next() % 20; break;
    case 0x91: n = 28; break;
    default: n = 0;
  }
  for (size_t i = 0; i < n; i++) {
    if (((type == 0x10 || type == 0x11) && i == 1) || (type == 0x90 && i == 5)) continue;
    payload[i] = (next() & 3) == 0 ? 0 : (uint8_t)next(); /* plenty of zero bytes for COBS */
  }
  uint16_t seq = (uint16_t)next();
  body[0] = type;
  rl_put_u16(body + 1, seq);
  memcpy(body + 3, payload, n);
  rl_put_u16(body + 3 + n, rl_crc16(body, 3 + n));
  *body_len = n + 5;
  return rl_encode(type, seq, payload, n, out);
}

static unsigned long accepted, false_accepts, collisions, single_bit_accepts, frames_fed;

/* Feeds bytes; checks every accepted frame; returns the number accepted. original: body expected for a clean frame, or NULL. */
static int feed_and_check(rl_parser *p, const uint8_t *wire, size_t n, const uint8_t *original, size_t original_len, int single_bit) {
  size_t start = 0;
  int got = 0;
  for (size_t i = 0; i < n; i++) {
    rl_event e = rl_parser_feed(p, wire[i]);
    if (wire[i] == 0) {
      if (e == RL_FRAME) {
        got++;
        accepted++;
        const rl_frame *f = &p->frame;
        uint8_t body[RIGLINK_MAX_BODY];
        if (!fuzz_check_accepted(f, wire + start, i - start)) false_accepts++;
        else if (original && (fuzz_check_body(f, body) != original_len || memcmp(body, original, original_len) != 0)) {
          collisions++;
          if (single_bit) single_bit_accepts++;
        }
      }
      start = i + 1;
    }
  }
  return got;
}

int main(int argc, char **argv) {
  unsigned long iterations = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000UL;
  state = argc > 2 ? strtoull(argv[2], NULL, 10) : 0x9E3779B97F4A7C15ULL;
  if (state == 0) state = 1;
  fuzz_check_init();
  rl_parser p;
  rl_parser_init(&p);
  static uint8_t wire[4 * RIGLINK_MAX_FRAME + 600];
  uint8_t body[RIGLINK_MAX_BODY];
  size_t body_len;
  unsigned long random_streams = 0, mutated = 0, single_bits = 0;
  for (unsigned long it = 0; it < iterations; it++) {
    if (it & 1) {
      /* Random stream, sometimes with delimiters sprinkled in. */
      size_t n = next() % 400;
      for (size_t i = 0; i < n; i++) wire[i] = (next() % 8 == 0) ? 0 : (uint8_t)next();
      wire[n++] = 0;
      feed_and_check(&p, wire, n, NULL, 0, 0);
      random_streams++;
    } else {
      size_t n = random_valid_frame(wire, body, &body_len);
      frames_fed++;
      int kind = (int)(next() % 4);
      int single = 0;
      if (kind == 0) {
        size_t at = next() % (n - 1); /* keep the delimiter */
        uint8_t bit = (uint8_t)(1u << (next() % 8));
        wire[at] ^= bit;
        single = 1;
        single_bits++;
      } else {
        int m = 1 + (int)(next() % 3);
        for (int k = 0; k < m; k++) {
          int op = (int)(next() % 3);
          size_t at = next() % (n - 1);
          if (op == 0) wire[at] = (uint8_t)next();
          else if (op == 1 && n < sizeof wire - 1) { memmove(wire + at + 1, wire + at, n - at); wire[at] = (uint8_t)next(); n++; }
          else if (op == 2 && n > 2) { memmove(wire + at, wire + at + 1, n - at - 1); n--; }
        }
      }
      mutated++;
      /* A mutation may have put a 0x00 inside; end with one so the parser is in sync for the next input. */
      if (wire[n - 1] != 0) wire[n++] = 0;
      feed_and_check(&p, wire, n, body, body_len, single);
    }
  }
  /* Clean frames after all that: the parser must still take them. */
  int clean_ok = 1;
  for (int k = 0; k < 1000; k++) {
    size_t n = random_valid_frame(wire, body, &body_len);
    unsigned long before = collisions;
    if (feed_and_check(&p, wire, n, body, body_len, 0) != 1 || collisions != before) clean_ok = 0;
  }
  printf("{\"iterations\":%lu,\"randomStreams\":%lu,\"mutatedFrames\":%lu,\"singleBitFlips\":%lu,\"accepted\":%lu,\"falseAccepts\":%lu,"
         "\"crcCollisions\":%lu,\"singleBitAccepts\":%lu,\"cleanFramesAfter\":%s,\"counters\":{\"rxFrames\":%u,\"badCrc\":%u,\"badCobs\":%u,\"truncated\":%u,"
         "\"oversize\":%u,\"unknownType\":%u,\"badLength\":%u}}\n",
         iterations, random_streams, mutated, single_bits, accepted, false_accepts, collisions, single_bit_accepts, clean_ok ? "true" : "false", p.counters.rx_frames,
         p.counters.bad_crc, p.counters.bad_cobs, p.counters.truncated, p.counters.oversize, p.counters.unknown_type, p.counters.bad_length);
  return (false_accepts || single_bit_accepts || !clean_ok) ? 1 : 0;
}
