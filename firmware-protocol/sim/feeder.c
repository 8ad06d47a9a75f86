/*
 * feeder: a RigLink host in simulated time, for judging the firmware's playout on its own.
 *
 * With a real host on the pty, a frame's lateness is the host's (and this VM's: the service's
 * ticks ran p99 4.4 ms late while simavr took a core, bench/firmware) plus the wire's plus the
 * firmware's. This host has no lateness but what it is told to have, so a late frame the firmware
 * counts is the firmware's (or the wire's) doing. It speaks as the service does: HELLO, SET_PLAYOUT
 * (the period, the 2 ms delay), ENABLE until the firmware is enabled (it refuses until homed),
 * then one SETPOINT_TIMED per period, each handed to the UART `late_us` after its tick, where
 * late_us is drawn uniformly from [0, max_late_us] by a fixed LCG (the same every run unless
 * --feed-seed gives another seed). Targets: a
 * sine above the park position on every axis: by default 2,000 wire units each way over 2 s (the step
 * ram at most ~1,000 steps/s); --feed-swing and --feed-cycle-ms make it fast (28,000 over 1 s
 * keeps a step ram at its 25,000 steps/s limit for most of each stroke, as kerbs would). It reads the firmware's PLAYOUT_STATUS.
 *
 * The counts are also kept from the first second of the stream on (feeder.h: settled). The
 * host's period, in the MCU's time, is `ppm` long (negative: short), 0 by default: a board's
 * clock is off by up to ~0.5 % (a ceramic resonator), and the engine must follow the host.
 * A frame is never handed over before the one ahead of it (delays over a period carry on).
 * Not modelled: a host that skips ticks, or sends bursts longer than its lateness allows.
 */
#include "feeder.h"

#include <math.h>

#include "pty_link.h"
#include "riglink.h"

#define PARK 1966 /* avr/config.h PARK_WIRE */

static feeder_stats fs;
static avr_t *f_avr;
static uint32_t period_us, max_late_us, frames_wanted;
static double swing_wire = 2000, cycle_ms = 2000; /* the targets' sine: amplitude, period */
static FILE *log_file;
static double host_period_ms; /* the host's period in the MCU's (simulated) time: period_us, ppm long */
static uint8_t n_axes;
static int phase; /* 0 say HELLO, 1 SET_PLAYOUT sent, 2 ENABLE sent, 3 streaming, 4 done */
static uint16_t seq;
static uint32_t tick, lcg = 12345u;
static double stream_t0_ms, last_enable_ms = -1e9, last_clear_ms = -1e9;
static uint8_t buf[RIGLINK_MAX_FRAME];

static void send_at(size_t n, double due_ms) { pty_link_inject(buf, n, due_ms); }

void feeder_seed(uint32_t seed) { lcg = seed; }

static uint32_t next_late_us(void) {
  lcg = lcg * 1664525u + 1013904223u;
  return max_late_us ? (lcg >> 8) % (max_late_us + 1) : 0;
}

static avr_cycle_count_t feeder_timer(avr_t *avr, avr_cycle_count_t when, void *param) {
  (void)avr; (void)param;
  double now_ms = when / 16000.0;
  switch (phase) {
    case 0: {
      uint8_t version = 1;
      send_at(rl_encode(RL_HELLO, seq++, &version, 1, buf), now_ms);
      phase = 1;
      break;
    }
    case 2:
      if (now_ms - last_enable_ms >= 50) {
        send_at(rl_encode(RL_ENABLE, seq++, NULL, 0, buf), now_ms);
        last_enable_ms = now_ms;
      }
      break;
    case 3: {
      if (tick == 0) stream_t0_ms = now_ms;
      /* After an e-stop: CLEAR_ESTOP (refused while the pin is pressed), then ENABLE, each at
       * most every 50 ms, as a host would; the frames go on meanwhile. */
      if (fs.estops && fs.state == RL_STATE_ESTOP && now_ms - last_clear_ms >= 50) {
        send_at(rl_encode(RL_CLEAR_ESTOP, seq++, NULL, 0, buf), now_ms);
        last_clear_ms = now_ms;
      } else if (fs.estops && fs.state == RL_STATE_PARKED && now_ms - last_enable_ms >= 50) {
        send_at(rl_encode(RL_ENABLE, seq++, NULL, 0, buf), now_ms);
        last_enable_ms = now_ms;
      }
      double t_ms = stream_t0_ms + tick * host_period_ms;
      uint16_t targets[8];
      for (uint8_t i = 0; i < n_axes; i++) targets[i] = (uint16_t)(PARK + 1000 + swing_wire * (1 + sin(2 * M_PI * (t_ms / cycle_ms + i / 3.0))));
      size_t n = rl_encode_setpoint_timed(seq++, RL_FLAG_MOTION_ACTIVE, tick, n_axes, targets, buf);
      send_at(n, t_ms + next_late_us() / 1000.0);
      fs.frames_sent++;
      if (++tick >= frames_wanted) phase = 4;
      /* The next tick on the host's clock (its period `ppm` off in the MCU's time). */
      avr_cycle_count_t next = (avr_cycle_count_t)((stream_t0_ms + tick * host_period_ms) * 16000.0);
      return next > when ? next : when + 1;
    }
    case 4: /* done once a PLAYOUT_STATUS reports the last tick (feeder_on_frame) */
      break;
  }
  return when + (avr_cycle_count_t)period_us * 16;
}

void feeder_start(avr_t *avr, uint8_t axes, uint32_t hz, uint32_t late_us, uint32_t frames, double ppm, double swing, double cycle) {
  f_avr = avr;
  swing_wire = swing;
  cycle_ms = cycle;
  n_axes = axes;
  period_us = 1000000u / hz;
  host_period_ms = period_us / 1000.0 * (1.0 + ppm * 1e-6);
  max_late_us = late_us;
  frames_wanted = frames;
  fs.min_lead_us = fs.settled_min_lead_us = RL_LEAD_NONE;
  /* After the firmware's start-up (its UART is on within microseconds; 10 ms is plenty). */
  avr_cycle_timer_register(avr, 16000 * 10, feeder_timer, NULL);
}

/* *m = the smaller of *m and a reported minLeadUs (RL_LEAD_NONE: none reported, on either side). */
static void lead_min(int16_t *m, int16_t lead) {
  if (lead != RL_LEAD_NONE && (*m == RL_LEAD_NONE || lead < *m)) *m = lead;
}

void feeder_on_frame(const rl_frame *f) {
  double now_ms = f_avr->cycle / 16000.0;
  const uint8_t *p = f->payload;
  if (f->type == RL_HELLO_ACK && phase == 1) {
    send_at(rl_encode_set_playout(seq++, period_us * 1000u, 2000, buf), now_ms);
  } else if (f->type == RL_ACK && p[0] == RL_SET_PLAYOUT && phase == 1) {
    fs.playout_result = p[3];
    phase = 2;
  } else if (f->type == RL_STATUS && phase == 2 && p[0] == RL_STATE_ENABLED) {
    phase = 3;
  }
  if (f->type == RL_STATUS) {
    if (phase >= 3 && p[0] != fs.state) {
      fs.state_changes++;
      if (p[0] == RL_STATE_ESTOP) fs.estops++;
      else if (p[0] == RL_STATE_ENABLED && fs.estops) fs.recovered++;
    }
    fs.state = p[0];
    fs.faults = rl_get_u16(p + 1);
  } else if (f->type == RL_PLAYOUT_STATUS && phase >= 3) {
    rl_playout_report *r = &fs.fw;
    rl_decode_playout_status(p, r);
    lead_min(&fs.min_lead_us, r->min_lead_us);
    if (log_file)
      fprintf(log_file, "%.1f %u %u %u %u %d %d %u %u\n", now_ms, (unsigned)r->last_tick, (unsigned)r->accepted, (unsigned)r->late, (unsigned)r->overflow, r->min_lead_us, r->rate_adj_ppm, fs.state, fs.faults);
    /* After the first second of the stream: the step axis has slewed from park to the stream's
     * targets (at up to 25,000 steps/s its edges take the main loop's spare CPU, and frames
     * queued meanwhile; 28 of the first 110 frames were late with a host on time, 2026-12-01). */
    if (phase == 4 && r->last_tick == frames_wanted - 1) fs.done = 1;
    if (fs.settled_at_tick == 0 && tick >= 1000000u / period_us) {
      fs.settled_at_tick = tick;
      fs.late_before_settled = r->late;
      fs.accepted_before_settled = r->accepted;
    } else if (fs.settled_at_tick)
      lead_min(&fs.settled_min_lead_us, r->min_lead_us);
  }
}

void feeder_get_stats(feeder_stats *s) { *s = fs; }

int feeder_done(void) { return fs.done; }

void feeder_log_to(FILE *f) { log_file = f; }
