/*
 * Coverage-guided fuzzing of the reference parser with libFuzzer (clang
 * -fsanitize=fuzzer,address,undefined; `make fuzz-libfuzzer`). fuzz.c is the seeded loop
 * that runs everywhere; this one needs clang and finds its own way into the parser's states.
 *
 * One input is a byte stream fed to a fresh parser. Every frame it accepts must pass the
 * independent check (fuzz_check.c), and after the stream a delimiter and one clean frame
 * must parse as that frame: no input leaves the parser stuck. Any failure aborts, which libFuzzer
 * reports with the input that caused it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "riglink.h"

static int initialised;

static int feed(rl_parser *p, const uint8_t *data, size_t n) {
  size_t start = 0;
  int frames = 0;
  for (size_t i = 0; i < n; i++) {
    rl_event e = rl_parser_feed(p, data[i]);
    if (e == RL_FRAME) {
      /* A frame is only ever accepted at its delimiter, from the bytes since the last one. */
      if (data[i] != 0 || !fuzz_check_accepted(&p->frame, data + start, i - start)) abort();
      frames++;
    }
    if (data[i] == 0) start = i + 1;
  }
  return frames;
}

/* Input and tail in one buffer, so a frame that ends at the tail's delimiter is checked against all of its bytes. */
static uint8_t stream[65536 + 1 + RIGLINK_MAX_FRAME];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!initialised) {
    fuzz_check_init();
    initialised = 1;
  }
  if (size > 65536) return 0;
  memcpy(stream, data, size);
  stream[size] = 0;
  const uint8_t payload[4] = {1, 2, 0, 4};
  size_t n = rl_encode(0x24, 0x1234, payload, sizeof payload, stream + size + 1);
  if (n == 0) abort();
  rl_parser p;
  rl_parser_init(&p);
  /* The stream's own last frame may end at the tail's delimiter: the clean frame is the last one. */
  if (feed(&p, stream, size + 1 + n) < 1) abort();
  if (p.frame.type != 0x24 || p.frame.seq != 0x1234 || p.frame.payload_len != 4 || memcmp(p.frame.payload, payload, 4) != 0) abort();
  return 0;
}
