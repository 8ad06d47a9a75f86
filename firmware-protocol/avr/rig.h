/* What the modules of the firmware share: state, targets, positions, the clock. */
#ifndef RIG_H
#define RIG_H

#include <stdint.h>

#include "board.h"
#include "config.h"
#include "riglink.h"

/* RigLink state (RL_STATE_*); written by the main loop with interrupts off, and by the e-stop
 * and control interrupts (estop, fault) which the main loop never overrides. */
extern volatile uint8_t rig_state;
extern volatile uint16_t rig_faults;
extern volatile uint8_t estop_latches; /* e-stops latched so far (wraps); see main.c's CLEAR_ESTOP */
/* The hardware e-stop has cut the outputs (set by its interrupt, cleared by CLEAR_ESTOP). */
extern volatile uint8_t motors_off;
/* Where each axis heads (wire units, already clamped); the control tick follows it within limits. */
extern volatile uint16_t goal[AXES];
/* Measured positions (wire units), updated every tick. */
extern volatile uint16_t position[AXES];
/* Parking speed limits apply (parking, homing). */
extern volatile uint8_t slow;
/* Every step/dir axis has found its home switch. */
extern volatile uint8_t homed;
/* Milliseconds since boot (control ticks). */
extern volatile uint32_t ms_now;

/*
 * Interrupt nesting (GPIOR0, bit-addressable): the control tick's body (~thousands of cycles,
 * interrupts on) must never run inside another handler that re-enabled interrupts: it would
 * suspend that handler's work (a received byte not yet stored while later bytes are, a step
 * edge not yet counted). Each such handler sets its bit while it runs; the tick's stub applies
 * the outputs on time regardless, but when a bit is set it only marks the body pending, and
 * the last handler to leave runs it (tick_deferred()). The ADC handler is the exception: it
 * also re-enables interrupts, but the body does run inside it, so nothing the body writes
 * may be state the handler is part-way through (control.c: the pass state is the handler's).
 */
#define NEST_RX 0
#define NEST_STEP0 1
#define NEST_TICK_PENDING 7
#define NEST_ACTIVE_MASK 0x7F
void tick_deferred(void);
/* The handlers' exits that do this: the receive handler's (uart.c, in assembly) and the step
 * handlers' (control.c: step_nest_leave). */

void control_init(void);
/* Microseconds since boot, from the control timer (4 µs resolution). */
uint32_t micros_now(void);
/* Every axis within tolerance of `goal` and at rest. */
uint8_t control_at_goal(void);
/* The hardware e-stop input is pressed now. */
uint8_t estop_pressed(void);

void uart_init(void);
/* Queues n bytes (waits only while the 64-byte ring is full); uart_tx_poll sends them. */
void uart_write(const uint8_t *p, uint8_t n);
extern volatile uint8_t uart_dropped;
extern volatile uint8_t rx_buf[256];
extern volatile uint8_t rx_head, rx_tail;
#define TX_SIZE 64 /* STATUS and PLAYOUT_STATUS: 54 bytes encoded with 3 axes; more waits in uart_write */
extern uint8_t tx_buf[TX_SIZE];
extern uint8_t tx_head, tx_tail;
/* Inline, as uart_tx_poll: the main loop runs them at every received byte (~19,000 a second
 * at the 1 kHz stream), where a call cost ~6 % of the CPU (bench/firmware --profile). */
static inline __attribute__((always_inline)) uint8_t uart_read(uint8_t *b) {
  uint8_t t = rx_tail;
  if (t == rx_head) return 0;
  *b = rx_buf[t];
  rx_tail = t + 1;
  return 1;
}
/* Sends the next queued byte if the UART can take it; 1 while bytes remain queued. */
static inline __attribute__((always_inline)) uint8_t uart_tx_poll(void) {
  if (tx_head == tx_tail) return 0;
  if (UART_UCSRA & (1 << UDRE0)) {
    UART_UDR = tx_buf[tx_tail % TX_SIZE];
    tx_tail++;
  }
  return tx_head != tx_tail;
}
/* Inline: it runs in the main loop's interrupts-off window before sleeping (main.c). */
static inline uint8_t uart_rx_empty(void) { return rx_head == rx_tail; }

/* Playout (PROTOCOL.md §7) on the shared engine, run in the control tick (playout.c). */
void playout_init(void);
void playout_caps(rl_caps *c);
uint8_t playout_on(void);
void playout_off(void);
/* SET_PLAYOUT: returns an ACK result (waits for the next tick). */
uint8_t playout_configure(uint32_t period_ns, uint16_t delay_us);
/* SETPOINT_TIMED that arrived at micros t_us. */
void playout_accept(const uint8_t *payload, uint8_t len, uint32_t t_us);
/* Empty the queue (core SETPOINT, leaving enabled). */
void playout_flush(void);
/* PLAYOUT_STATUS fields in two steps, so the main loop need not wait for a tick: ask (the next
 * tick takes them, starting a new min-lead interval), then take: 1 once they are there. */
void playout_report_ask(void);
uint8_t playout_report_take(rl_playout_report *r);
/* From the control tick: the playout target at nominal time t_us, if one applies (returns 1). */
uint8_t playout_tick(uint32_t t_us, uint16_t *out);

#endif
