/* feeder: a RigLink host in simulated time (feeder.c says what for and what it leaves out). */
#ifndef AVR_RIG_FEEDER_H
#define AVR_RIG_FEEDER_H

#include <stdint.h>
#include <stdio.h>

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
  /* The last STATUS's state and faults, and how often the state changed from streaming on. */
  uint8_t state;
  uint16_t faults;
  uint32_t state_changes;
  /* E-stops seen while streaming (avr-rig --feed-estop-every-ms presses the pin), and how many
   * times the firmware came back to enabled after one (this host sends CLEAR_ESTOP, then ENABLE). */
  uint32_t estops, recovered;
  int done; /* all frames sent and a PLAYOUT_STATUS whose lastTick is the last one read */
} feeder_stats;

/* Streams `frames` SETPOINT_TIMED at `hz`, the period `ppm` long in the MCU's time (after
 * the handshake), each up to late_us late; targets a sine `swing` wire units each way about
 * park + 1,000 + swing, one cycle per `cycle_ms`. */
void feeder_start(avr_t *avr, uint8_t axes, uint32_t hz, uint32_t late_us, uint32_t frames, double ppm, double swing, double cycle_ms);
/* Before feeder_start: the lateness draw's seed (12345 unless set), for another draw than the tests'. */
void feeder_seed(uint32_t seed);
/* Each frame the firmware sends. */
void feeder_on_frame(const rl_frame *f);
void feeder_get_stats(feeder_stats *s);
/* All frames sent and a PLAYOUT_STATUS whose lastTick is the last one read. */
int feeder_done(void);
/* Each PLAYOUT_STATUS from streaming on, a line to f: simulated ms, lastTick, accepted, late,
 * overflow, minLeadUs, rateAdjPpm, and the last STATUS's state and faults. */
void feeder_log_to(FILE *f);

#endif
