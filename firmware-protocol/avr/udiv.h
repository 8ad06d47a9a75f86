/*
 * n / d for a quotient known to fit 16 bits ((n >> 16) < d), by 16 steps of shift and
 * subtract. On the AVR in assembly, ~13 cycles a step (~220 in all), where libgcc's 32-bit
 * __udivmodsi4 runs 32 steps (~600 cycles) and the C form below compiled to ~35 a step. The
 * control tick divides up to four times (each step ram's period from its speed, the playout
 * segment's fraction): with 3 step axes that was 8 % of the Mega's cycles (avr-rig --profile,
 * 2026-12-01). The quotient's bits shift into x from the right as the numerator's leave it on
 * the left. Checked on the simulated AVR against libgcc's division (sim/udiv_check.c) and on
 * the host (the C form, the same steps).
 */
#ifndef RIG_UDIV_H
#define RIG_UDIV_H

#include <stdint.h>

static inline uint16_t udiv_q16(uint32_t n, uint16_t d) {
  uint16_t r = (uint16_t)(n >> 16), x = (uint16_t)n;
#if defined(__AVR__)
  uint8_t k = 16;
  __asm__("1:\n\t"
          "lsl %A[x]\n\t"
          "rol %B[x]\n\t"          /* carry: the numerator's next bit */
          "rol %A[r]\n\t"
          "rol %B[r]\n\t"          /* r = r << 1 | that bit; carry: r's 17th bit, then r ≥ d */
          "brcs 2f\n\t"
          "cp %A[r], %A[d]\n\t"
          "cpc %B[r], %B[d]\n\t"
          "brcs 3f\n"
          "2:\n\t"
          "sub %A[r], %A[d]\n\t"
          "sbc %B[r], %B[d]\n\t"
          "ori %A[x], 1\n"         /* the quotient bit, where lsl left a 0 */
          "3:\n\t"
          "dec %[k]\n\t"
          "brne 1b\n\t"
          : [x] "+d"(x), [r] "+r"(r), [k] "+r"(k)
          : [d] "r"(d));
#else
  for (uint8_t k = 0; k < 16; k++) {
    uint8_t carry = (uint8_t)(r >> 15);
    r = (uint16_t)((r << 1) | (x >> 15));
    x = (uint16_t)(x << 1);
    if (carry || r >= d) {
      r = (uint16_t)(r - d);
      x |= 1;
    }
  }
#endif
  return x;
}

#endif
