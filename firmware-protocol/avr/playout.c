/*
 * MCU-timed playout (PROTOCOL.md §7) on the shared engine (../c/playout.c), run entirely
 * in the control tick so that no engine call ever needs interrupts off (which would delay
 * the tick). The main loop hands over each SETPOINT_TIMED with its arrival time through a
 * small ring, and SET_PLAYOUT / flush / PLAYOUT_STATUS through a one-slot mailbox that the
 * next tick (≤ 1 ms) answers. The tick offers the arrivals, then asks for the target at its
 * own nominal time (playout_fast.c: the engine's target in 32-bit arithmetic).
 */
#include <avr/sleep.h>
#include <string.h>

#include "playout.h"
#include "playout_fast.h"
#include "rig.h"

static rl_playout engine; /* touched by the tick only (and by main before interrupts are on) */

#define ARRIVALS 8
typedef struct {
  uint32_t t_us;
  uint8_t p[6 + 2 * AXES];
} arrival;
static arrival arr[ARRIVALS];
static volatile uint8_t arr_head, arr_tail;
static uint32_t arr_lost; /* arrivals the ring had no room for (reported as overflow) */

enum { CMD_NONE, CMD_CONFIGURE, CMD_FLUSH, CMD_REPORT };
static volatile uint8_t cmd;
static uint32_t cmd_period;
static uint16_t cmd_delay;
static uint8_t cmd_result;
static rl_playout_report report_box;
static volatile uint8_t on;

/* The next tick answers: sleep until an interrupt meanwhile (SE stays set: main.c). A report
 * asked for and not yet answered is answered first. */
static void wait_answered(void) {
  while (cmd != CMD_NONE) sleep_cpu();
}
static void post(uint8_t c) {
  wait_answered();
  cmd = c;
}
static void command(uint8_t c) {
  post(c);
  wait_answered();
}

void playout_init(void) { rl_playout_init(&engine, AXES); }
void playout_caps(rl_caps *c) { rl_playout_caps(c); }
uint8_t playout_on(void) { return on; }
void playout_off(void) { (void)playout_configure(0, 0); }

uint8_t playout_configure(uint32_t period_ns, uint16_t delay_us) {
  cmd_period = period_ns;
  cmd_delay = delay_us;
  command(CMD_CONFIGURE);
  return cmd_result;
}

void playout_flush(void) {
  if (on) command(CMD_FLUSH);
}

void playout_accept(const uint8_t *payload, uint8_t len, uint32_t t_us) {
  uint8_t h = arr_head, n = (uint8_t)((h + 1) % ARRIVALS);
  if (n == arr_tail) {
    arr_lost++;
    return;
  }
  arr[h].t_us = t_us;
  memcpy(arr[h].p, payload, len < sizeof arr[h].p ? len : sizeof arr[h].p);
  arr_head = n;
}

void playout_report_ask(void) { post(CMD_REPORT); }

uint8_t playout_report_take(rl_playout_report *r) {
  if (cmd != CMD_NONE) return 0;
  __asm__ volatile("" ::: "memory"); /* report_box (not volatile) is read after the tick's answer */
  *r = report_box;
  r->overflow += arr_lost;
  return 1;
}

/* From the tick (interrupts on, main loop suspended): commands, arrivals, then the target. */
uint8_t playout_tick(uint32_t t_us, uint16_t *out) {
  switch (cmd) {
    case CMD_CONFIGURE:
      cmd_result = rl_playout_configure(&engine, cmd_period, cmd_delay);
      arr_tail = arr_head;
      arr_lost = 0;
      on = engine.on;
      break;
    case CMD_FLUSH:
      rl_playout_flush(&engine);
      break;
    case CMD_REPORT:
      rl_playout_take_report(&engine, &report_box);
      break;
  }
  cmd = CMD_NONE;
  while (arr_tail != arr_head) {
    uint8_t t = arr_tail;
    (void)rl_playout_offer(&engine, arr[t].t_us, arr[t].p);
    arr_tail = (uint8_t)((t + 1) % ARRIVALS);
  }
  return on && rl_playout_target_fast(&engine, t_us, out);
}
