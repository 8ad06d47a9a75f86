/* feeder: a RigLink host in simulated time (feeder.c says what for and what it leaves out). */
#ifndef AVR_RIG_FEEDER_H
#define AVR_RIG_FEEDER_H

#include <stdint.h>

#include "riglink.h"
#include "sim_avr.h"

typedef struct {
  uint32_t frames_sent;
  int playout_result; /* the ACK result of SET_PLAYOUT */
  /* The firmware's last PLAYOUT_STATUS (its counts and rate estimate), and the smallest
   * minLeadUs of all of them. */
  rl_playout_report fw;
  int16_t min_lead_us;
  /* From the first PLAYOUT_STATUS after the stream's first second (tick HZ): the counts then,
   * and the smallest minLeadUs since; fromTick 0 when the stream never got that far. */
  uint32_t settled_at_tick, accepted_before_settled, late_before_settled;
  int16_t settled_min_lead_us;
  int done; /* all frames sent and a PLAYOUT_STATUS whose lastTick is the last one read */
} feeder_stats;

/* Streams `frames` SETPOINT_TIMED at `hz`, the period `ppm` long in the MCU's time (after
 * the handshake), each up to late_us late. */
void feeder_start(avr_t *avr, uint8_t axes, uint32_t hz, uint32_t late_us, uint32_t frames, double ppm);
/* Each frame the firmware sends. */
void feeder_on_frame(const rl_frame *f);
void feeder_get_stats(feeder_stats *s);
/* All frames sent and a PLAYOUT_STATUS whose lastTick is the last one read. */
int feeder_done(void);

#endif
