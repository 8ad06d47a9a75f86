/*
 * RigLink MCU-timed playout (PROTOCOL.md section 7.3): a queue of SETPOINT_TIMED frames
 * played at anchor + delay + (k - k0) * period on the MCU's own clock, with linear
 * interpolation, an accept window, and slow drift correction. Plain C99, no heap, no OS, no
 * floating point, like riglink.c: the simulator uses it and firmware can.
 *
 * Time is the caller's microsecond clock as a wrapping uint32 (micros() on an AVR, the
 * monotonic clock in mcu_sim); only differences are used, so it may wrap. Cost: one 32x32->64
 * multiply per anchor computation and one 64/32 division per interpolated target; on an AVR
 * that is some hundreds of cycles per servo step.
 */
#ifndef RIGLINK_PLAYOUT_H
#define RIGLINK_PLAYOUT_H

#include <stdint.h>

#include "riglink.h"

#ifndef RL_PLAYOUT_QUEUE
#define RL_PLAYOUT_QUEUE 8 /* frames buffered; each costs 8 + 2 * RL_PLAYOUT_MAX_AXES bytes */
#endif
#ifndef RL_PLAYOUT_MAX_AXES
#define RL_PLAYOUT_MAX_AXES RIGLINK_MAX_AXES /* e.g. -DRL_PLAYOUT_MAX_AXES=6 on a 2 KB-RAM MCU */
#endif
#define RL_PLAYOUT_MIN_PERIOD_NS 200000UL    /* 5 kHz */
#define RL_PLAYOUT_MAX_PERIOD_NS 20000000UL  /* 50 Hz */
#define RL_PLAYOUT_MAX_DELAY_US 20000U
#define RL_PLAYOUT_WINDOW 256                /* accepted frames per drift-correction window */
#define RL_PLAYOUT_MAX_PAST_US 100000L       /* a frame later than this is dropped, not played */
#define RL_PLAYOUT_REANCHOR_US 500000L       /* no frame accepted for this long: the next one anchors afresh */

/* floor(d · p_q16 / 65536), exact, in 32-bit operations: d·p = d·hi·65536 + d·lo with
 * hi = p >> 16 (≤ 20,400 µs: the longest period, 2 % slow) and lo < 65536, so d·hi and d·lo
 * both fit 31 bits. The engine's play times within 32,767 ticks of its anchor (~30 s at 1 kHz)
 * and the AVR's 32-bit target use it: the 64-bit product costs ~500 cycles on an AVR.
 * sim/playout_fast_check compares it with the 64-bit form for every d and many periods. */
static inline int32_t rl_mul_q16_near(int16_t d, uint32_t p_q16) {
  int32_t lo = (int32_t)d * (int32_t)(p_q16 & 0xFFFFu);
  /* floor(lo / 65536) without relying on how >> treats negatives, and without a branch: lo is
   * within ±2^31, so lo + 2^31 is a uint32 whose top half is floor(lo / 65536) + 32768 */
  int32_t lo_q16 = (int32_t)(((uint32_t)lo + 0x80000000u) >> 16) - 32768;
  return (int32_t)d * (int32_t)(p_q16 >> 16) + lo_q16;
}

/* What became of an offered SETPOINT_TIMED. */
typedef enum { RL_PO_ACCEPTED = 0, RL_PO_LATE, RL_PO_STALE, RL_PO_OUTSIDE, RL_PO_OVERFLOW } rl_po_verdict;

typedef struct {
  uint32_t tick, arrived;
  uint16_t targets[RL_PLAYOUT_MAX_AXES];
} rl_po_entry;

typedef struct {
  uint8_t axes;
  uint8_t on, anchored, played; /* played: a target has come out since the anchor was set */
  uint16_t delay_us;
  uint32_t period_ns;
  uint32_t p_nom_q16, p_q16; /* host period in MCU microseconds, Q16.16: nominal and corrected */
  uint32_t k_a, t_a;         /* anchor: tick k_a's nominal send time is t_a */
  uint32_t last_accept_us;   /* when a frame was last accepted */
  int32_t pending_us;        /* offset still to be applied to t_a (slewed) */
  int32_t slew_us;           /* at most this much of it per frame: 1 % of the corrected period */
  int32_t win_min1, win_min2; /* min (arrival - corrected s(k)) in this window's halves */
  uint16_t win_n;
  uint8_t head, count;
  rl_po_entry q[RL_PLAYOUT_QUEUE];
  rl_playout_report rep;
} rl_playout;

void rl_playout_init(rl_playout *pl, uint8_t axes);
/* What this engine accepts, for CAPS. */
void rl_playout_caps(rl_caps *caps);
/* SET_PLAYOUT: returns an ACK result (4, unsupported, for more axes than RL_PLAYOUT_MAX_AXES).
 * period_ns 0 turns playout off. Resets counters, queue and anchor. */
uint8_t rl_playout_configure(rl_playout *pl, uint32_t period_ns, uint16_t delay_us);
/* A SETPOINT_TIMED payload (length already checked by the parser) that arrived at now_us. */
rl_po_verdict rl_playout_offer(rl_playout *pl, uint32_t now_us, const uint8_t *payload);
/* The playout target at now_us into out[0, axes): 1 if there is one, 0 if nothing is due yet
 * (the caller keeps its current target). Discards frames that are over. */
int rl_playout_target(rl_playout *pl, uint32_t now_us, uint16_t *out);
/* Empty the queue (hold, leaving enabled, a core SETPOINT); the anchor and lastTick stay. */
void rl_playout_flush(rl_playout *pl);
/* The PLAYOUT_STATUS fields; starts a new min-lead interval. */
void rl_playout_take_report(rl_playout *pl, rl_playout_report *r);

#endif
