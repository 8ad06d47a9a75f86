/*
 * Calibration and limits, per driver kind, in one place (docs/firmware.md: how to measure
 * them on a rig). Wire units: 0..65535 over the actuator's travel (PROTOCOL.md §2).
 * Values here match the simulated plant of sim/avr_rig.c and test/fixtures/rigs/avr-rig.yaml.
 */
#ifndef CONFIG_H
#define CONFIG_H

#define FIRMWARE_ID "riglink-avr 1.0"
/* The calibration image (make calibrate): never drives anything (drive enable low, every duty 0,
 * no homing, ENABLE refused) and reports each DC axis's pot as its ADC count, 0..1023, in
 * STATUS, for POT_ADC_MIN / POT_ADC_MAX below (docs/firmware.md, Calibration). HELLO_ACK
 * ends in " calibrate". */
#ifndef CALIBRATE
#define CALIBRATE 0
#endif
#if CALIBRATE
#define CALIBRATE_TAG " calibrate"
#else
#define CALIBRATE_TAG ""
#endif
#define BAUD 500000UL             /* UBRR 3 with U2X at 16 MHz: exact (docs/firmware.md: why not 1 M) */
#define TICK_HZ 1000              /* control tick (servo rate) */
#define STATUS_MS 20
#define HOLD_MS_DEFAULT 100
#define PARK_MS_DEFAULT 500

/* Park position of every axis, wire units: 3 % of travel, what a rig file with
 * marginPct: 3 and no `park` key parks at (min + margin). */
#define PARK_WIRE 1966
/* Hard limits: every target is clamped into these, whoever sent it. */
#define SOFT_MIN_WIRE 655         /* 1 % */
#define SOFT_MAX_WIRE 64880       /* 99 % */

/* Firmware's own speed limits (the host's rig file stays below them), wire units per second. */
#define DC_VMAX_WIRE_S 131070L    /* 2 travel/s */
#define PARK_VMAX_WIRE_S 16384L   /* 0.25 travel/s while parking */

/* DC + pot. ADC counts (10 bit, AVcc reference) at the two ends of travel. */
#define POT_ADC_MIN 102           /* 0.5 V */
#define POT_ADC_MAX 921           /* 4.5 V */
#define POT_LOST_LO 20            /* below / above these the wiper is taken as disconnected */
#define POT_LOST_HI 1003
#define POT_LOST_TICKS 5
#define PWM_TOP 799               /* Timer1 fast PWM, 16 MHz / 800 = 20 kHz */
#define PWM_CLAMP 720             /* 90 % duty at most */
/* PI + velocity feed-forward + a little velocity damping, Q8 (see control.c for units). */
#define DC_KP_Q8 64               /* PWM counts per wire unit of error: 0.25 (20 % duty per 1/10 travel) */
#define DC_KI_Q8 1                /* integrator gain per wire unit·tick */
#define DC_I_DEADBAND 60          /* no integration within this error (stiction would make it hunt) */
#define DC_KFF_Q8 1040            /* counts per wire/ms of reference speed: 1/(3 travel/s) */
#define DC_KD_Q8 900              /* counts per wire/ms of measured speed (damping) */
#define DC_I_LIMIT 150            /* integrator clamp, PWM counts */
/* Stall, or feedback that stopped following the ram (a pot whose coupling slipped, a floating
 * wiper that holds a mid-scale value): |duty| above STALL_DUTY in one direction for STALL_TICKS
 * while the reading moves less than STALL_MOVE_WIRE. STALL_TICKS must exceed the time the
 * ram needs to cover STALL_MOVE_WIRE at STALL_DUTY under its heaviest load (here: the plant at
 * 50 % duty covers 300 wire units in ~20 ms); the longer it is, the farther a ram with a frozen
 * reading runs first (in simavr, at 300 ticks: 21,467 wire units, a third of the travel). */
#define STALL_DUTY 400            /* |duty| above this ... */
#define STALL_TICKS 60            /* ... for this long ... */
#define STALL_MOVE_WIRE 300       /* ... moving less than this: stall fault */
#define DC_PARKED_TOL 400         /* at park when within this */

/* Step/dir. */
#define STEPS_TRAVEL 10000L       /* steps over the whole travel (wire 0..65535) */
#define STEP_VMAX 25000L          /* steps/s */
#define STEP_AMAX 250000L         /* steps/s² */
#define STEP_VMIN 200L            /* creep speed near the target, steps/s */
#define STEP_KP 40L               /* steps/s per step of distance to the goal (1/s) */
#define STEP_PARK_VMAX 2500L      /* steps/s while parking */
#define HOME_V 2000L              /* homing speed, steps/s, toward the switch (negative) */
#define HOME_MAX_STEPS 13000L     /* no switch within this: homing fault */

/* STATUS faults bits (firmware-defined, PROTOCOL.md §2); bits 8..11: the axis that faulted. */
#define FAULT_FEEDBACK 0x0001
#define FAULT_STALL 0x0002
#define FAULT_HOME 0x0004
#define FAULT_RX_OVERRUN 0x0010   /* not a state change: the RX ring overflowed (bytes dropped) */

#endif
