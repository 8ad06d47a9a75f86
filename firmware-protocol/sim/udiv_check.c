/*
 * udiv_check: avr/udiv.h's assembly division on the simulated AVR (simavr), against avr-gcc's
 * own division (libgcc's __udivmodsi4). Every divisor 1..65535 with numerators at the edges
 * (0, d - 1, d, the largest allowed) and two pseudo-random ones, and the firmware's own
 * numerator (2,000,000 steps). Prints "ok N" (N divisions checked) or the first mismatch on
 * simavr's console (GPIOR1), then sleeps with interrupts off, which ends the simulation.
 *   make -C firmware-protocol avr && simavr build/udiv_check.elf
 */
#include <avr/interrupt.h>
#include <avr/io.h>
#include <avr/pgmspace.h>
#include <avr/sleep.h>

#include "avr_mcu_section.h"
#include "udiv.h"

AVR_MCU(16000000, "atmega2560");
AVR_MCU_SIMAVR_CONSOLE(&GPIOR1);

static void put(char c) { GPIOR1 = (uint8_t)c; }
/* Strings from flash: simavr loads .data wrongly when the ELF has a .mmcu section (it printed garbage). */
static void put_str_P(const char *s) {
  char c;
  while ((c = (char)pgm_read_byte(s++))) put(c);
}
#define put_str(s) put_str_P(PSTR(s))
static void put_u32(uint32_t v) {
  char b[11];
  uint8_t n = 0;
  do {
    b[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  while (n) put(b[--n]);
}

static uint16_t lcg;
static uint16_t rnd(void) { return lcg = (uint16_t)(lcg * 25173u + 13849u); }

static uint8_t check(uint32_t n, uint16_t d) {
  volatile uint32_t nv = n; /* libgcc's division, not one the compiler folds or strength-reduces */
  volatile uint16_t dv = d;
  uint16_t got = udiv_q16(n, d), want = (uint16_t)(nv / dv);
  if (got == want) return 1;
  put_str("bad ");
  put_u32(n);
  put('/');
  put_u32(d);
  put_str(" got ");
  put_u32(got);
  put_str(" want ");
  put_u32(want);
  put('\r');
  return 0;
}

int main(void) {
  uint32_t count = 0;
  uint8_t ok = 1;
  lcg = 12345; /* set here, not as initialised data (above) */
  for (uint32_t d = 1; d <= 65535 && ok; d++) {
    uint32_t top = ((uint32_t)d << 16) - 1; /* the largest n with (n >> 16) < d */
    uint32_t r1 = ((uint32_t)(rnd() % d) << 16) | rnd(), r2 = ((uint32_t)(rnd() % d) << 16) | rnd();
    uint32_t ns[6] = {0, d - 1, d, top, r1, r2};
    for (uint8_t i = 0; i < 6 && ok; i++, count++) ok = check(ns[i], (uint16_t)d);
    if (d >= 31 && ok) {
      ok = check(2000000UL, (uint16_t)d);
      count++;
    }
  }
  if (ok) {
    put_str("ok ");
    put_u32(count);
    put('\r');
  }
  cli();
  sleep_cpu();
  return 0;
}
