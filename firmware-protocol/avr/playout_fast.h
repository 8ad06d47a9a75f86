/* rl_playout_target() of the shared engine (../c/playout.c) in 32-bit arithmetic, for the AVR. */
#ifndef PLAYOUT_FAST_H
#define PLAYOUT_FAST_H
#include "playout.h"
/* Same contract as rl_playout_target(), the same frames discarded, targets within 1 wire
 * unit of it (2 where consecutive frames differ by 32768 or more): the segment's fraction is
 * taken once in Q15 instead of a 64-bit division per axis.
 * Falls back to rl_playout_target() outside its 32-bit range (a tick 32768 periods from the
 * anchor, or a segment over 65 ms). */
int rl_playout_target_fast(rl_playout *pl, uint32_t now_us, uint16_t *out);
#endif
