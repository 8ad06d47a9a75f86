/*
 * Why: on the AVR the engine's rl_playout_target() costs up to ~18,000 cycles per call (a
 * 64-bit multiply per play time and a 64-bit division per axis, libgcc soft arithmetic):
 * more than the whole 1 ms tick (16,000 cycles), measured in simavr with 3 axes. This is the
 * same function on the engine's own state with 32-bit operations; sim/playout_fast_check.c
 * compares the two on random timelines (run by test/integration/avr-rig.test.ts).
 */
#include "playout_fast.h"
#include "udiv.h"

/* The engine's play time of tick k while k is within 32,767 of the anchor (its near
 * product); *ok = 0 beyond, and the caller asks the engine. */
static uint32_t play_time(const rl_playout *pl, uint32_t k, uint8_t *ok) {
  int32_t dk = (int32_t)(k - pl->k_a);
  if (dk >= 32768 || dk <= -32768) {
    *ok = 0;
    return 0;
  }
  return pl->t_a + (uint32_t)rl_mul_q16_near((int16_t)dk, pl->p_q16) + pl->delay_us;
}

int rl_playout_target_fast(rl_playout *pl, uint32_t now_us, uint16_t *out) {
  if (!pl->on || pl->count == 0) return 0;
  uint8_t ok = 1;
  /* discard_over(): frames whose successor's play time has come are over. */
  while (pl->count >= 2) {
    uint32_t pb = play_time(pl, pl->q[(pl->head + 1) % RL_PLAYOUT_QUEUE].tick, &ok);
    if (!ok) return rl_playout_target(pl, now_us, out);
    if ((int32_t)(now_us - pb) < 0) break;
    pl->head = (uint8_t)((pl->head + 1) % RL_PLAYOUT_QUEUE);
    pl->count--;
  }
  const rl_po_entry *a = &pl->q[pl->head];
  uint32_t pa = play_time(pl, a->tick, &ok);
  if (!ok) return rl_playout_target(pl, now_us, out);
  if ((int32_t)(now_us - pa) < 0) return 0;
  pl->played = 1; /* as the engine: from now on an early frame is tracked, not stepped to */
  if (pl->count < 2) {
    for (uint8_t i = 0; i < pl->axes; i++) out[i] = a->targets[i];
    return 1;
  }
  const rl_po_entry *b = &pl->q[(pl->head + 1) % RL_PLAYOUT_QUEUE];
  uint32_t start = pa;
  if ((int32_t)(b->arrived - start) > 0) start = b->arrived;
  int32_t el = (int32_t)(now_us - start);
  int32_t span = (int32_t)(play_time(pl, b->tick, &ok) - start);
  if (!ok || span <= 0 || span >= 65536 || el < 0 || el > span) return rl_playout_target(pl, now_us, out);
  /* One division per tick, not one per axis: a Q15 fraction of the segment (el ≤ span, so
   * (el << 15) >> 16 < span, as udiv_q16 needs). */
  uint16_t f = udiv_q16((uint32_t)el << 15, (uint16_t)span); /* 0..32768 */
  for (uint8_t i = 0; i < pl->axes; i++) {
    int32_t d = (int32_t)b->targets[i] - (int32_t)a->targets[i];
    int32_t num = d * (int32_t)f;
    int32_t step = num >= 0 ? (num + 16384) >> 15 : -((-num + 16384) >> 15);
    out[i] = (uint16_t)((int32_t)a->targets[i] + step);
  }
  return 1;
}
