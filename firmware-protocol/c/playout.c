#include "playout.h"

#include <string.h>

/* floor(a · b / 65536) for a signed a: rl_mul_q16_near within 32,767 of the anchor (every
 * frame within ~30 s of it), the 64-bit product otherwise. */
static int64_t mul_q16_wide(int32_t a, uint32_t b_q16) {
  if (a > -32768 && a < 32768) return rl_mul_q16_near((int16_t)a, b_q16);
  int64_t prod = (int64_t)a * (int64_t)b_q16;
  return prod >= 0 ? prod >> 16 : -((-prod + 0xFFFF) >> 16);
}
/* The same in 32 bits: play times, which wrap. */
static int32_t mul_q16(int32_t a, uint32_t b_q16) { return (int32_t)mul_q16_wide(a, b_q16); }

/* Nominal send time of tick k (MCU microseconds, wrapping). */
static uint32_t send_time(const rl_playout *pl, uint32_t k) { return pl->t_a + (uint32_t)mul_q16((int32_t)(k - pl->k_a), pl->p_q16); }
static uint32_t play_time(const rl_playout *pl, uint32_t k) { return send_time(pl, k) + pl->delay_us; }
static uint32_t period_us(const rl_playout *pl) { return pl->p_q16 >> 16; }
/* The offset slews into the anchor at most 1 % of a period per frame. Kept, not computed per
 * frame: a 32-bit division is ~600 cycles on an AVR (5 % of the Mega's CPU at 1 kHz). */
static void set_slew(rl_playout *pl) {
  pl->slew_us = (int32_t)(period_us(pl) / 100u);
  if (pl->slew_us < 1) pl->slew_us = 1;
}

void rl_playout_init(rl_playout *pl, uint8_t axes) {
  memset(pl, 0, sizeof *pl);
  pl->axes = axes;
  pl->rep.min_lead_us = RL_LEAD_NONE;
}

void rl_playout_caps(rl_caps *caps) {
  caps->features = RL_FEATURE_PLAYOUT;
  caps->queue = RL_PLAYOUT_QUEUE;
  caps->min_period_ns = RL_PLAYOUT_MIN_PERIOD_NS;
  caps->max_period_ns = RL_PLAYOUT_MAX_PERIOD_NS;
  caps->max_delay_us = RL_PLAYOUT_MAX_DELAY_US;
}

uint8_t rl_playout_configure(rl_playout *pl, uint32_t period_ns, uint16_t delay_us) {
  if (period_ns != 0 && pl->axes > RL_PLAYOUT_MAX_AXES) return RL_RESULT_UNSUPPORTED;
  if (period_ns != 0 && (period_ns < RL_PLAYOUT_MIN_PERIOD_NS || period_ns > RL_PLAYOUT_MAX_PERIOD_NS || delay_us == 0 || delay_us > RL_PLAYOUT_MAX_DELAY_US))
    return RL_RESULT_BAD_PAYLOAD;
  uint8_t axes = pl->axes;
  rl_playout_init(pl, axes);
  if (period_ns == 0) return RL_RESULT_OK;
  pl->on = 1;
  pl->period_ns = period_ns;
  pl->delay_us = delay_us;
  /* ns -> µs in Q16.16, rounded: period_ns * 65536 / 1000 fits 64 bits easily. */
  pl->p_nom_q16 = pl->p_q16 = (uint32_t)(((uint64_t)period_ns * 65536u + 500u) / 1000u);
  set_slew(pl);
  return RL_RESULT_OK;
}

/* Frames whose successor's play time has come are over. */
static void discard_over(rl_playout *pl, uint32_t now_us) {
  while (pl->count >= 2 && (int32_t)(now_us - play_time(pl, pl->q[(pl->head + 1) % RL_PLAYOUT_QUEUE].tick)) >= 0) {
    pl->head = (uint8_t)((pl->head + 1) % RL_PLAYOUT_QUEUE);
    pl->count--;
  }
}

static void enqueue(rl_playout *pl, uint32_t now_us, uint32_t tick, const uint8_t *payload) {
  rl_po_entry *e = &pl->q[(pl->head + pl->count) % RL_PLAYOUT_QUEUE];
  e->tick = tick;
  e->arrived = now_us;
  for (uint8_t i = 0; i < pl->axes; i++) e->targets[i] = rl_get_u16(payload + 6 + 2 * i);
  pl->count++;
}

/* Drift correction (PROTOCOL.md 7.3). e is measured against the corrected line (the anchor
 * with the pending offset already applied): its minimum over each half window is the
 * least-delayed frames' lateness; the slope between the halves is the rate error, the second
 * half's minimum the offset. The offset is slewed into the anchor, the rate into P. */
static void track(rl_playout *pl, uint32_t tick, int32_t e) {
  int32_t ev = e - pl->pending_us;
  if (pl->win_n < RL_PLAYOUT_WINDOW / 2) {
    if (ev < pl->win_min1) pl->win_min1 = ev;
  } else if (ev < pl->win_min2) pl->win_min2 = ev;
  int32_t max_step = pl->slew_us;
  int32_t step = pl->pending_us > max_step ? max_step : pl->pending_us < -max_step ? -max_step : pl->pending_us;
  pl->t_a += (uint32_t)step;
  pl->pending_us -= step;
  if (++pl->win_n < RL_PLAYOUT_WINDOW) return;
  /* slope in µs per frame, Q16; half the measured rate error goes into P each window. */
  int64_t slope_q16 = ((int64_t)pl->win_min2 - pl->win_min1) * 65536 / (RL_PLAYOUT_WINDOW / 2);
  pl->t_a = send_time(pl, tick);
  pl->k_a = tick;
  int64_t p = (int64_t)pl->p_q16 + slope_q16 / 2;
  int64_t lo = (int64_t)pl->p_nom_q16 - pl->p_nom_q16 / 50, hi = (int64_t)pl->p_nom_q16 + pl->p_nom_q16 / 50;
  pl->p_q16 = (uint32_t)(p < lo ? lo : p > hi ? hi : p);
  set_slew(pl);
  /* The second half's least lateness, carried forward to the window's end by the slope. */
  int64_t offset = (int64_t)pl->win_min2 + ((slope_q16 * (RL_PLAYOUT_WINDOW / 4)) >> 16);
  int64_t pending = (int64_t)pl->pending_us + offset;
  pl->pending_us = (int32_t)(pending < -RL_PLAYOUT_MAX_PAST_US ? -RL_PLAYOUT_MAX_PAST_US : pending > RL_PLAYOUT_MAX_PAST_US ? RL_PLAYOUT_MAX_PAST_US : pending);
  pl->win_min1 = pl->win_min2 = INT32_MAX;
  pl->win_n = 0;
}

rl_po_verdict rl_playout_offer(rl_playout *pl, uint32_t now_us, const uint8_t *payload) {
  rl_playout_report *r = &pl->rep;
  if (!pl->on || payload[1] != pl->axes) {
    r->outside++;
    return RL_PO_OUTSIDE;
  }
  uint32_t tick = rl_get_u32(payload + 2);
  int32_t e;
  if (pl->anchored && (int32_t)(now_us - pl->last_accept_us) > RL_PLAYOUT_REANCHOR_US) pl->anchored = 0;
  if (!pl->anchored) {
    /* A new anchor puts a new time line under every tick: what is queued (over for 500 ms, or
     * from before a SET_PLAYOUT) would land anywhere on it, even out of order. */
    pl->count = 0;
    pl->played = 0;
    pl->anchored = 1;
    pl->k_a = tick;
    pl->t_a = now_us;
    pl->pending_us = 0;
    pl->win_min1 = pl->win_min2 = INT32_MAX;
    pl->win_n = 0;
    e = 0;
  } else {
    if ((int32_t)(tick - r->last_tick) <= 0) {
      r->stale++;
      return RL_PO_STALE;
    }
    /* In 64 bits: a wild tick must fail the window, not overflow into it. */
    int64_t off = mul_q16_wide((int32_t)(tick - pl->k_a), pl->p_q16);
    int64_t e64 = (int64_t)(int32_t)(now_us - pl->t_a) - off;
    /* The anchor frame may itself have come late (it sat in a buffer with the ones after it):
     * until anything has played, the next tick (or the one after) arriving before its nominal
     * time moves the anchor earlier at once. Nothing has played, so nothing steps. */
    if (!pl->played && e64 < 0 && (int32_t)(tick - r->last_tick) <= 2) {
      pl->t_a += (uint32_t)(int32_t)e64;
      e64 = 0;
    }
    int64_t lead = (int64_t)pl->delay_us - e64;
    if (lead > (int64_t)pl->delay_us + (int64_t)RL_PLAYOUT_QUEUE * period_us(pl) || lead < -RL_PLAYOUT_MAX_PAST_US) {
      r->outside++;
      return RL_PO_OUTSIDE;
    }
    discard_over(pl, now_us);
    if (pl->count == RL_PLAYOUT_QUEUE) {
      r->overflow++;
      return RL_PO_OVERFLOW;
    }
    e = (int32_t)e64;
  }
  pl->last_accept_us = now_us;
  enqueue(pl, now_us, tick, payload);
  r->last_tick = tick;
  r->accepted++;
  int32_t lead = (int32_t)pl->delay_us - e;
  int16_t lead16 = (int16_t)(lead < -32768 ? -32768 : lead > 32766 ? 32766 : lead);
  if (r->min_lead_us == RL_LEAD_NONE || lead16 < r->min_lead_us) r->min_lead_us = lead16;
  track(pl, tick, e);
  if (lead < 0) {
    r->late++;
    return RL_PO_LATE;
  }
  return RL_PO_ACCEPTED;
}

int rl_playout_target(rl_playout *pl, uint32_t now_us, uint16_t *out) {
  if (!pl->on || pl->count == 0) return 0;
  discard_over(pl, now_us);
  const rl_po_entry *a = &pl->q[pl->head];
  int32_t el = (int32_t)(now_us - play_time(pl, a->tick));
  if (el < 0) return 0;
  pl->played = 1;
  if (pl->count < 2) {
    for (uint8_t i = 0; i < pl->axes; i++) out[i] = a->targets[i];
    return 1;
  }
  /* From a's point to b's. If b arrived after a's play time, the output held a's target until
   * then: the segment starts there, so b is still reached exactly at its play time. */
  const rl_po_entry *b = &pl->q[(pl->head + 1) % RL_PLAYOUT_QUEUE];
  uint32_t start = play_time(pl, a->tick);
  if ((int32_t)(b->arrived - start) > 0) start = b->arrived;
  el = (int32_t)(now_us - start);
  int32_t span = (int32_t)(play_time(pl, b->tick) - start);
  for (uint8_t i = 0; i < pl->axes; i++) {
    int64_t num = (int64_t)((int32_t)b->targets[i] - (int32_t)a->targets[i]) * el;
    int64_t step = (num >= 0 ? num + span / 2 : num - span / 2) / span; /* round half away from zero */
    out[i] = (uint16_t)((int32_t)a->targets[i] + (int32_t)step);
  }
  return 1;
}

void rl_playout_flush(rl_playout *pl) { pl->count = 0; }

void rl_playout_take_report(rl_playout *pl, rl_playout_report *r) {
  *r = pl->rep;
  int64_t ppm = pl->p_nom_q16 ? ((int64_t)pl->p_q16 - (int64_t)pl->p_nom_q16) * 1000000 / (int64_t)pl->p_nom_q16 : 0;
  r->rate_adj_ppm = (int16_t)(ppm < -32767 ? -32767 : ppm > 32767 ? 32767 : ppm);
  pl->rep.min_lead_us = RL_LEAD_NONE;
}
