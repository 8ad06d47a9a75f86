/*
 * RigLink firmware for AVR (ATmega2560 / ATmega328P at 16 MHz), plain C on avr-libc, using
 * the reference codec (../c/riglink.c). The main loop reads the UART ring, runs the state
 * machine of PROTOCOL.md §3 and its watchdog, and sends STATUS every 20 ms; the actuators
 * are driven by the control tick (control.c); timed setpoints by playout.c.
 */
#include <avr/interrupt.h>
#include <avr/io.h>
#include <avr/sleep.h>

#include "rig.h"

static rl_parser parser;
static uint16_t tx_seq, last_seq;
static uint16_t hold_ms = HOLD_MS_DEFAULT, park_ms = PARK_MS_DEFAULT;
static uint32_t last_valid_ms, last_status_ms;
static uint8_t out[RIGLINK_MAX_FRAME];
static uint8_t report_asked; /* a STATUS went out; its PLAYOUT_STATUS waits for the tick's counts */

/* Interrupts stay on (turning them off would delay the tick): read until two reads agree. */
static uint32_t millis(void) {
  uint32_t m;
  do m = ms_now;
  while (m != ms_now);
  return m;
}
static uint16_t read_u16(volatile uint16_t *p) {
  uint16_t v;
  do v = *p;
  while (v != *p);
  return v;
}

static void send(uint8_t n) { uart_write(out, n); }

static void set_goal(uint8_t i, uint16_t v) {
  if (v < SOFT_MIN_WIRE) v = SOFT_MIN_WIRE;
  if (v > SOFT_MAX_WIRE) v = SOFT_MAX_WIRE;
  cli();
  goal[i] = v;
  sei();
}
static void goals_here(void) {
  for (uint8_t i = 0; i < AXES; i++) set_goal(i, read_u16(&position[i]));
}

/* What follows a state change the main loop made (set_state, CLEAR_ESTOP): frames queued for
 * playout are dropped unless enabled, and parking runs at park speed. */
static void state_changed(uint8_t s) {
  if (s != RL_STATE_ENABLED) playout_flush();
  slow = (rig_state == RL_STATE_PARKING);
}

/* A state change from the main loop; never leaves estop/fault behind the interrupts' back. */
static uint8_t set_state(uint8_t from_any, uint8_t s) {
  uint8_t ok = 0;
  cli();
  uint8_t cur = rig_state;
  if (from_any || (cur != RL_STATE_ESTOP && cur != RL_STATE_FAULT)) {
    rig_state = s;
    ok = 1;
  }
  sei();
  if (ok) state_changed(s);
  else slow = (rig_state == RL_STATE_PARKING);
  return ok;
}

static uint8_t estop_reported; /* estop_latches as the last STATUS saying estop counted them */

static void handle(const rl_frame *f) {
  const uint8_t *p = f->payload;
  uint8_t result = RL_RESULT_OK;
  uint8_t st = rig_state;
  last_valid_ms = millis();
  last_seq = f->seq;
  switch (f->type) {
    case RL_HELLO:
      playout_off();
      report_asked = 0; /* counts of the playout just ended: not for the new session */
      send(rl_encode_hello_ack(tx_seq++, AXES, FIRMWARE_ID " " BOARD_NAME CALIBRATE_TAG, out));
      return;
    case RL_SETPOINT:
      if (st == RL_STATE_HOLDING) set_state(0, RL_STATE_ENABLED);
      if (rig_state == RL_STATE_ENABLED && p[1] == AXES) {
        playout_flush();
        for (uint8_t i = 0; i < AXES; i++) set_goal(i, rl_get_u16(p + 2 + 2 * i));
      }
      return;
    case RL_SETPOINT_TIMED:
      if (st == RL_STATE_HOLDING) set_state(0, RL_STATE_ENABLED);
      playout_accept(p, f->payload_len, micros_now());
      return;
    case RL_ENABLE:
      if (st == RL_STATE_ESTOP) result = RL_RESULT_ESTOP_LATCHED;
      else if (st == RL_STATE_FAULT || !homed || CALIBRATE) result = RL_RESULT_BAD_STATE;
      else {
        if (st != RL_STATE_ENABLED) goals_here();
        set_state(0, RL_STATE_ENABLED);
      }
      break;
    case RL_PARK:
      if (st == RL_STATE_ESTOP) result = RL_RESULT_ESTOP_LATCHED;
      else if (st == RL_STATE_FAULT) result = RL_RESULT_BAD_STATE;
      else if (st != RL_STATE_PARKED) {
        for (uint8_t i = 0; i < AXES; i++) set_goal(i, PARK_WIRE);
        set_state(0, RL_STATE_PARKING);
      }
      break;
    case RL_ESTOP:
      /* From fault too (PROTOCOL.md §3): a latched fault keeps every output off in estop
       * (control.c tests rig_faults, not the state). */
      if (st != RL_STATE_ESTOP) {
        goals_here(); /* controlled stop where they are; latched */
        cli();
        estop_latches++;
        sei();
        set_state(1, RL_STATE_ESTOP);
      }
      break;
    case RL_CLEAR_ESTOP: {
      /* A fault that came before the e-stop (or during it) is not cleared with it: a fault is
       * left only by a reset (PROTOCOL.md §3), so back to fault with the drives still off;
       * without this a stalled ram or a frozen pot was back in service after a press. And only
       * an e-stop a STATUS has reported is cleared: a press in the instant this CLEAR_ESTOP
       * arrived (a tap, released again) is the host's to see first. All tested in one step:
       * the e-stop's handler or a fault from the tick could otherwise come in between. */
      if (st == RL_STATE_ESTOP) goals_here();
      cli();
      uint8_t ok = rig_state == RL_STATE_ESTOP && !estop_pressed() && estop_latches == estop_reported;
      uint8_t to = rig_faults ? RL_STATE_FAULT : RL_STATE_PARKED;
      if (ok) {
        if (to == RL_STATE_PARKED) {
          motors_off = CALIBRATE;
          if (!CALIBRATE) ENABLE_PORT |= 1 << ENABLE_BIT;
        }
        rig_state = to;
      }
      sei();
      if (ok) state_changed(to);
      else result = RL_RESULT_BAD_STATE;
      break;
    }
    case RL_SET_WATCHDOG:
      if (rl_get_u16(p) == 0 || rl_get_u16(p + 2) < rl_get_u16(p)) result = RL_RESULT_BAD_PAYLOAD;
      else {
        hold_ms = rl_get_u16(p);
        park_ms = rl_get_u16(p + 2);
      }
      break;
    case RL_SET_PLAYOUT:
      result = playout_configure(rl_get_u32(p), rl_get_u16(p + 4));
      if (result == RL_RESULT_OK) report_asked = 0; /* as for HELLO; a refused one changed nothing */
      break;
    case RL_GET_COUNTERS:
      send(rl_encode_counters(tx_seq++, &parser.counters, out));
      return;
    case RL_GET_CAPS: {
      rl_caps c;
      playout_caps(&c);
      send(rl_encode_caps(tx_seq++, &c, out));
      return;
    }
    default:
      return; /* MCU → host types: not for us */
  }
  send(rl_encode_ack(tx_seq++, f->type, f->seq, result, out));
}

static void send_status(void) {
  uint16_t pos[AXES];
  for (uint8_t i = 0; i < AXES; i++) pos[i] = read_u16(&position[i]);
  cli();
  uint8_t st = rig_state, latches = estop_latches; /* together: a latch after this is not reported */
  sei();
  if (st == RL_STATE_ESTOP) estop_reported = latches;
  uint16_t faults = read_u16(&rig_faults);
  if (uart_dropped) faults |= FAULT_RX_OVERRUN;
  send(rl_encode_status(tx_seq++, st, faults, last_seq, AXES, pos, out));
  if (playout_on()) {
    playout_report_ask();
    report_asked = 1;
  }
}

/* PLAYOUT_STATUS follows its STATUS as soon as the next tick has taken the engine's counts
 * (within 1 ms). Waiting for that tick in send_status held received frames in the ring for up
 * to 1 ms every 20 ms. */
static void report_if_taken(void) {
  rl_playout_report r;
  if (report_asked && playout_report_take(&r)) {
    report_asked = 0;
    send(rl_encode_playout_status(tx_seq++, &r, out));
  }
}

/* STATUS every STATUS_MS, also from inside the byte loop: at 1 kHz with 3 axes the main loop
 * has ~10 % of the CPU to spare, so a burst of frames (a host tick that ran late, then caught
 * up) took it 100-200 ms to work through, and a STATUS checked only after the loop came that
 * late: the host gives a session up after 200 ms without one (19 sessions in 15 s of the
 * firmware bench, 2026-12-01). */
static void status_if_due(void) {
  report_if_taken();
  uint32_t now = millis();
  if (now - last_status_ms >= STATUS_MS) {
    /* On a 20 ms grid, so STATUS averages 50 Hz: counted from `now`, each interval took the
     * check's own lateness as well (49.94 Hz measured). A whole period behind: no burst. */
    last_status_ms += STATUS_MS;
    if (now - last_status_ms >= STATUS_MS) last_status_ms = now;
    send_status();
  }
}

int main(void) {
  rl_parser_init(&parser);
  playout_init();
  control_init();
  uart_init();
  set_sleep_mode(SLEEP_MODE_IDLE);
  sleep_enable(); /* once: SE stays set, so the sleep below needs no read-modify-write of SMCR */
  sei();
  uint8_t last_ms = 0xFF;
  for (;;) {
    uint8_t b;
    while (uart_read(&b)) {
      (void)uart_tx_poll();
      if (rl_parser_feed(&parser, b) == RL_FRAME) {
        handle(&parser.frame);
        status_if_due();
      }
    }
    /* What follows runs on millisecond time: once per millisecond, not at each wake-up (every
     * received byte wakes the loop: at the 1 kHz stream that was ~19 passes per frame). */
    uint8_t ms = (uint8_t)ms_now; /* one byte: read in one instruction */
    if (ms != last_ms) {
      last_ms = ms;
      uint32_t now = millis();
      uint8_t st = rig_state;
      uint32_t silent = now - last_valid_ms;
      /* Watchdog: hold, then a controlled park. */
      if (st == RL_STATE_ENABLED && silent > hold_ms) {
        goals_here();
        set_state(0, RL_STATE_HOLDING);
      } else if (st == RL_STATE_HOLDING && silent > park_ms) {
        for (uint8_t i = 0; i < AXES; i++) set_goal(i, PARK_WIRE);
        set_state(0, RL_STATE_PARKING);
      } else if (st == RL_STATE_PARKING && homed && control_at_goal()) {
        set_state(0, RL_STATE_PARKED);
      }
      status_if_due();
    }
    if (uart_tx_poll()) continue; /* bytes to send: come back for them instead of sleeping */
    /* Sleep until the next interrupt (a byte, a tick), unless a byte came meanwhile. The test
     * runs with interrupts off (a byte stored between it and the sleep would wait for the next
     * interrupt), so it is kept to 5 instructions: this window was the control tick's longest
     * wait (a call to uart_rx_empty() and a read-modify-write of SMCR: ~26 cycles). SEI lets
     * the SLEEP after it run before any pending interrupt, which then wakes it at once. */
    cli();
    if (uart_rx_empty()) __asm__ volatile("sei\n\tsleep" ::: "memory");
    sei();
  }
}
