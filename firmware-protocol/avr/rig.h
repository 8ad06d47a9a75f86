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

void control_init(void);
/* Microseconds since boot, from the control timer (4 µs resolution). */
uint32_t micros_now(void);
/* Every axis within tolerance of `goal` and at rest. */
uint8_t control_at_goal(void);
/* The hardware e-stop input is pressed now. */
uint8_t estop_pressed(void);

void uart_init(void);
uint8_t uart_read(uint8_t *b);
void uart_write(const uint8_t *p, uint8_t n);
uint8_t uart_rx_empty(void);
extern volatile uint8_t uart_dropped;

/* Playout (PROTOCOL.md §7). */
void playout_off(void);
uint8_t playout_on(void);
/* SET_PLAYOUT: returns an ACK result. */
uint8_t playout_configure(uint32_t period_ns, uint16_t delay_us);
/* SETPOINT_TIMED, arrived at micros t. */
void playout_accept(const uint8_t *payload, uint32_t t_us);
/* Empty the queue (core SETPOINT, leaving enabled). */
void playout_flush(void);
/* From the control tick: the playout target at nominal time t_us, if one applies (returns 1). */
uint8_t playout_target(uint32_t t_us, uint16_t *out);
/* Fill PLAYOUT_STATUS and restart its min-lead window. */
void playout_report(rl_playout_report *r);

#endif
