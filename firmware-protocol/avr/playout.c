/*
 * MCU-timed playout, PROTOCOL.md §7.3. Arrivals (main loop) go into a queue; the control
 * tick (interrupt) plays it: at its nominal time t it interpolates between the newest frame
 * whose play time has come (a) and the next (b), or holds a.
 *
 * Times: µs of the control timer, kept ×256 (Q8) in 32 bits so the host period can be
 * corrected by fractions of a µs; they wrap every 16.7 s and are only ever compared as
 * signed differences of times a few seconds apart at most.
 */
#include <avr/interrupt.h>
#include <string.h>

#include "rig.h"

typedef struct {
  uint32_t play; /* Q8 µs */
  uint16_t t[AXES];
} frame_t;

static frame_t q[PLAYOUT_QUEUE];
static volatile uint8_t q_head, q_tail; /* head: next write (main); tail: oldest (tick) */

static volatile uint8_t on;
static uint8_t anchored;
static uint32_t base_p;   /* periodNs as Q8 µs */
static uint32_t per;      /* P, Q8 µs */
static uint32_t delay;    /* D, Q8 µs */
static uint32_t k_a, t_a; /* anchor: tick, Q8 µs */
static uint32_t last_tick;
static int32_t pending;   /* offset still to apply to t_a, Q8 µs */
static int32_t win_min;
static uint16_t win_n;
static uint32_t n_accepted, n_late, n_stale, n_outside, n_overflow;
static int16_t min_lead; /* µs, since the last report */

#define WINDOW 256

uint8_t playout_on(void) { return on; }

void playout_flush(void) {
  uint8_t s = SREG;
  cli();
  q_tail = q_head;
  SREG = s;
}

void playout_off(void) {
  on = 0;
  anchored = 0;
  playout_flush();
}

uint8_t playout_configure(uint32_t period_ns, uint16_t delay_us) {
  if (period_ns == 0) {
    playout_off();
    return RL_RESULT_OK;
  }
  if (period_ns < PLAYOUT_MIN_PERIOD_NS || period_ns > PLAYOUT_MAX_PERIOD_NS || delay_us == 0 || delay_us > PLAYOUT_MAX_DELAY_US) return RL_RESULT_BAD_PAYLOAD;
  on = 0;
  playout_flush();
  base_p = per = (uint32_t)((((uint64_t)period_ns) << 8) / 1000U);
  delay = (uint32_t)delay_us << 8;
  anchored = 0;
  pending = 0;
  win_n = 0;
  win_min = INT32_MAX;
  n_accepted = n_late = n_stale = n_outside = n_overflow = 0;
  min_lead = RL_LEAD_NONE;
  on = 1;
  return RL_RESULT_OK;
}

static void note_lead(int32_t lead_q8) {
  int32_t us = lead_q8 / 256;
  if (us > 32766) us = 32766;
  if (us < -32768) us = -32768;
  if (min_lead == RL_LEAD_NONE || us < min_lead) min_lead = (int16_t)us;
}

static uint8_t push(uint32_t play, const uint8_t *targets) {
  uint8_t h = q_head, n = h + 1 >= PLAYOUT_QUEUE ? 0 : h + 1;
  if (n == q_tail) return 0;
  q[h].play = play;
  for (uint8_t i = 0; i < AXES; i++) {
    uint16_t v = rl_get_u16(targets + 2 * i);
    q[h].t[i] = v < SOFT_MIN_WIRE ? SOFT_MIN_WIRE : v > SOFT_MAX_WIRE ? SOFT_MAX_WIRE : v;
  }
  q_head = n; /* one byte: the tick sees the frame whole or not at all */
  return 1;
}

void playout_accept(const uint8_t *p, uint32_t t_us) {
  uint32_t t = t_us << 8;
  uint32_t k = rl_get_u32(p + 2);
  if (!on || p[1] != AXES) {
    n_outside++;
    return;
  }
  if (!anchored) {
    if (!push(t + delay, p + 6)) {
      n_overflow++;
      return;
    }
    anchored = 1;
    k_a = k;
    t_a = t;
    last_tick = k;
    n_accepted++;
    note_lead((int32_t)delay);
    return;
  }
  int32_t dk = (int32_t)(k - last_tick);
  if (dk <= 0) {
    n_stale++;
    return;
  }
  int32_t ka = (int32_t)(k - k_a);
  if (ka > 60000L || ka < -60000L) { /* minutes away from the anchor at any sane rate */
    n_outside++;
    return;
  }
  uint32_t s = t_a + (uint32_t)((int64_t)ka * per);
  uint32_t play = s + delay;
  int32_t lead = (int32_t)(play - t);
  if (lead > (int32_t)(delay + PLAYOUT_QUEUE * per) || lead < -(100000L << 8)) {
    n_outside++;
    return;
  }
  if (!push(play, p + 6)) {
    n_overflow++;
    return;
  }
  last_tick = k;
  n_accepted++;
  if (lead < 0) n_late++;
  note_lead(lead);
  /* Drift: the least-late frame of each window of 256 sets the anchor's offset and the rate. */
  int32_t e = (int32_t)(t - s);
  if (e < win_min) win_min = e;
  if (++win_n >= WINDOW) {
    t_a = t_a + (uint32_t)((int64_t)(int32_t)(last_tick - k_a) * per);
    k_a = last_tick;
    pending = win_min;
    int32_t np = (int32_t)per + win_min / (4 * WINDOW);
    int32_t lim = (int32_t)(base_p / 50);
    if (np > (int32_t)base_p + lim) np = (int32_t)base_p + lim;
    if (np < (int32_t)base_p - lim) np = (int32_t)base_p - lim;
    per = (uint32_t)np;
    win_n = 0;
    win_min = INT32_MAX;
  }
  if (pending) {
    int32_t stepmax = (int32_t)(per / 100);
    int32_t st = pending > stepmax ? stepmax : pending < -stepmax ? -stepmax : pending;
    t_a += (uint32_t)st;
    pending -= st;
  }
}

uint8_t playout_target(uint32_t t_us, uint16_t *out) {
  uint32_t t = t_us << 8;
  uint8_t tail = q_tail, head = q_head;
  if (tail == head) return 0;
  /* Drop frames older than the newest one whose time has come. */
  for (;;) {
    uint8_t nx = tail + 1 >= PLAYOUT_QUEUE ? 0 : tail + 1;
    if (nx == head || (int32_t)(q[nx].play - t) > 0) break;
    tail = nx;
  }
  q_tail = tail;
  const frame_t *a = &q[tail];
  if ((int32_t)(a->play - t) > 0) return 0; /* the first frame's time has not come */
  uint8_t nx = tail + 1 >= PLAYOUT_QUEUE ? 0 : tail + 1;
  if (nx == head) {
    for (uint8_t i = 0; i < AXES; i++) out[i] = a->t[i];
    return 1;
  }
  const frame_t *b = &q[nx];
  uint32_t num = (t - a->play) >> 8, den = (b->play - a->play) >> 8;
  if (den == 0 || num >= den) {
    for (uint8_t i = 0; i < AXES; i++) out[i] = b->t[i];
    return 1;
  }
  if (den > 65535UL) { /* a gap over 65 ms: scale both */
    num >>= 8;
    den >>= 8;
    if (den == 0) den = 1;
  }
  uint16_t f = (uint16_t)((num << 15) / den); /* Q15: d · f fits in 31 bits */
  for (uint8_t i = 0; i < AXES; i++) {
    int32_t d = (int32_t)b->t[i] - a->t[i];
    out[i] = (uint16_t)((int32_t)a->t[i] + (int32_t)((d * (int32_t)f + 16384L) >> 15));
  }
  return 1;
}

void playout_report(rl_playout_report *r) {
  r->last_tick = last_tick;
  r->accepted = n_accepted;
  r->late = n_late;
  r->stale = n_stale;
  r->outside = n_outside;
  r->overflow = n_overflow;
  r->min_lead_us = min_lead;
  r->rate_adj_ppm = (int16_t)(((int32_t)per - (int32_t)base_p) * 1000000LL / (int32_t)base_p);
  min_lead = RL_LEAD_NONE;
}
