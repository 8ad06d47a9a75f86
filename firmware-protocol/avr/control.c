/*
 * The control tick (Timer2, 1 kHz) and the actuator drivers.
 *
 * Timing: the tick first applies the outputs it computed on the previous tick (PWM duty,
 * direction) and toggles the test point, so the instant an actuator's command changes sits
 * on the timer's grid, late only by the interrupt latency; then it re-enables interrupts
 * (the UART receiver and the step timers must not wait ~1,000 cycles behind it) and computes
 * the next outputs. The UART receive interrupt and the step interrupts re-enable interrupts
 * within a few cycles (uart.c, ISR_NOBLOCK), so nothing holds the tick off for long.
 *
 * DC + pot: ADC runs free through the pots (its own interrupt), the tick takes the latest
 * reading per pot, a reference follows `goal` within DC_VMAX, PI + speed feed-forward +
 * damping gives the duty, clamped to ±PWM_CLAMP and to the soft limits. Pot out of range
 * (disconnected wiper pulled to a rail) or no movement under high duty → fault, motor off.
 *
 * Step/dir: each axis has a 16-bit timer in CTC mode that sets its STEP pin in hardware at
 * each compare match, so every step's rising edge is exact; the one compare interrupt per
 * step counts it, ends the pulse (a forced compare in clear mode) and loads the next period.
 * The tick runs a velocity profile (STEP_AMAX, STEP_VMAX) from the counted position toward
 * the goal. At boot every step axis homes toward its switch (active low) at HOME_V; the step
 * interrupt catches the switch at the pulse that closed it, and that step is position 0.
 */
#include <avr/interrupt.h>
#include <avr/io.h>

#include "rig.h"
#include "udiv.h"

volatile uint8_t rig_state = RL_STATE_PARKING; /* homing, then at park */
volatile uint16_t rig_faults;
volatile uint8_t motors_off;
volatile uint16_t goal[AXES];
volatile uint16_t position[AXES];
volatile uint8_t slow = 1;
volatile uint8_t homed;
volatile uint32_t ms_now;

uint8_t estop_pressed(void) { return !(ESTOP_PIN & (1 << ESTOP_BIT)); }

/* Without disabling interrupts (that would delay the tick): read until the tick count is
 * the same before and after the counter. Called from the main loop only. */
uint32_t micros_now(void) {
  uint32_t ms;
  uint8_t t, wrapped;
  do {
    ms = ms_now;
    t = TCNT2;
    wrapped = (TIFR2 & (1 << OCF2A)) && t < 125; /* the counter wrapped, the tick not yet taken */
  } while (ms != ms_now);
  return (ms + wrapped) * 1000UL + (uint32_t)t * 4UL;
}

static void fault(uint16_t bits, uint8_t axis);

/* ---------- DC + pot ---------- */
/* Outputs for the next tick, written by the tick's first instructions (the stub below). */
volatile uint16_t out_ocr[3];
/* Timer1's TCCR1A as the tick's vector writes it: fast PWM (WGM 14), and a channel's output
 * connected only while its duty is above 0. At OCR1x = 0, fast PWM still puts a one-clock
 * spike on the pin every period (datasheet, "Fast PWM Mode"); disconnected, the pin is its
 * PORT bit, low. */
#define TCCR1A_OFF (N_DC > 0 ? 1 << WGM11 : 0)
volatile uint8_t out_tccr1a = TCCR1A_OFF, out_tccr1a_keep = TCCR1A_OFF; /* after and before the vector's OCR writes */
#if N_DC > 0
/* The body's outputs for the next tick, as dc_set_out leaves them; committed to out_* in one
 * step at the body's end (tick_compute), never half-written for a vector that comes early. */
static uint16_t ocr_next[3];
static uint8_t dir_next;
static uint8_t com_next = TCCR1A_OFF;
/* Per channel, not 1 << (7 - 2i): a shift by a variable is a loop on an AVR. */
static const uint8_t com_bit[3] = {1 << 7, 1 << 5, 1 << 3}; /* COM1A1, COM1B1, COM1C1 */
#endif
volatile uint8_t out_dir;
#if N_DC > 0
typedef struct {
  int32_t ref;      /* reference, wire units × 16 */
  int16_t vref;     /* reference speed, wire units × 16 per tick */
  int32_t integ;    /* integrator, PWM counts × 256 */
  uint16_t hist[4]; /* positions of the last 4 ticks (speed estimate) */
  uint8_t hi;
  uint8_t lost;     /* ticks the pot has been out of range */
  uint8_t primed;   /* ref and hist start from the first real reading */
  uint16_t stall_ticks, stall_from;
  int8_t stall_sign; /* the direction of the drive being timed */
} dc_axis;
static dc_axis dc[N_DC];
/* ADC: each tick starts one pass over the pots, 2 conversions each (104 µs apiece), summed
 * and scaled ×2 to a 12-bit value (the pot's noise dithers); the pass ends before the next tick
 * as a rule (one that overruns is left to end: adc_start_pass).
 * A conversion at a rail makes the whole pair read that rail (0 or 0xFFFF): summed with the
 * other one, taken while the wiper still followed the ram, it is a valid-looking position far
 * from the ram (a wiper lost between the two at park, pulled to 5 V: 37,847 wire units, and
 * the PI drove the ram at -90 % for a tick toward it: it ran 170-174 wire units in simavr,
 * issue 16). The rail check took the handler's longest from 108 to 130 cycles, the two slots
 * below to 161 (avr-rig --isr-stats 1, bench/firmware).
 * Two slots per pot: the handler writes the one the tick is not pointed at, then points it
 * there (one byte, atomic). The tick body runs inside the handler, so a 16-bit store it came
 * between would read as the new high byte with the old low one, twice alike (0x0000 over a
 * valid reading tore to 0x00LL, which passes the rail check; review of issue 16's ADC fix).
 * Interrupts off around the store did it too, but moved the tick's jitter p99.99 from 12 to 16
 * cycles. */
static volatile uint16_t adc_block[N_DC][2];
static volatile uint8_t adc_slot[N_DC];
static uint16_t adc_sum;
static uint8_t adc_ch, adc_n;
static uint8_t adc_rail; /* this pair: 1 a conversion below POT_LOST_LO, 2 above POT_LOST_HI */
static volatile uint8_t adc_ready; /* a whole pass has completed since boot */
static volatile uint8_t adc_busy;  /* a pass is running: its state (adc_ch, _n, _sum, _rail) is the handler's alone */

/* Not a nesting handler, so the tick's body can run inside it, anywhere: the pass state above
 * is therefore the handler's alone, and the tick only starts a pass that has ended (adc_busy).
 * The tick used to reset that state itself: when a pass ran late and its last conversion's
 * handler was interrupted by the tick between loading adc_ch and storing adc_ch + 1, the stale
 * store moved adc_ch past the pots, and the next pair was written to adc_block[N_DC], which is
 * the low half of dc[0].ref: the reference jumped 2,880 wire units and the ram ran at -90 %
 * during the Uno's boot park (simavr, the host talking while the firmware parked; issue 16). */
ISR(ADC_vect, ISR_NOBLOCK) {
  uint16_t v = ADC;
  adc_sum += v;
  if (v < POT_LOST_LO) adc_rail = 1;
  else if (v > POT_LOST_HI) adc_rail = 2;
  if (++adc_n >= 2) {
    uint8_t k = adc_slot[adc_ch] ^ 1;
    adc_block[adc_ch][k] = adc_rail == 1 ? 0 : adc_rail == 2 ? 0xFFFF : adc_sum * 2;
    adc_slot[adc_ch] = k; /* after the store: both are volatile, so it stays after */
    adc_rail = 0;
    adc_sum = 0;
    adc_n = 0;
    if (++adc_ch >= N_DC) { /* pass done: the next tick starts another */
      adc_ch = 0;
      adc_ready = 1;
      __asm__ volatile("" ::: "memory"); /* the pass state's stores (not volatile) come before */
      adc_busy = 0; /* last: from here the tick may start the next pass */
      return;
    }
    ADMUX = (1 << REFS0) | adc_ch;
  }
  ADCSRA |= 1 << ADSC;
}

/* A pass still running (it overran the tick) is left to end; the next tick starts one, and
 * this tick's readings are one tick old. While idle no conversion runs, so no handler can
 * come between these writes. */
static void adc_start_pass(void) {
  if (adc_busy) return;
  adc_busy = 1;
  ADMUX = 1 << REFS0;
  ADCSRA |= 1 << ADSC;
}

/* 4-sample sum → wire units, by multiplication (a 32-bit division costs ~600 cycles). */
#define POT_SCALE_Q8 ((uint32_t)(65535.0 * 256 / (4.0 * (POT_ADC_MAX - POT_ADC_MIN)) + 0.5))
static uint16_t pot_to_wire(uint16_t s) {
  if (s <= 4 * POT_ADC_MIN) return 0;
  if (s >= 4 * POT_ADC_MAX) return 65535;
  return (uint16_t)(((uint32_t)(s - 4 * POT_ADC_MIN) * POT_SCALE_Q8) >> 8);
}

static void dc_set_out(uint8_t i, int16_t duty) {
  uint16_t mag = duty < 0 ? (uint16_t)-duty : (uint16_t)duty;
  ocr_next[i] = mag;
  com_next = mag ? com_next | com_bit[i] : com_next & ~com_bit[i];
#if defined(__AVR_ATmega2560__)
  uint8_t m = 1 << DIR_BIT(i);
#else
  uint8_t m = 1 << i;
#endif
  dir_next = duty < 0 ? (dir_next | m) : (dir_next & ~m);
}

static int32_t clamp32(int32_t v, int32_t lo, int32_t hi) { return v < lo ? lo : v > hi ? hi : v; }

#define DC_VMAX_Q4 ((int32_t)(DC_VMAX_WIRE_S * 16 / TICK_HZ))
#define PARK_VMAX_Q4 ((int32_t)(PARK_VMAX_WIRE_S * 16 / TICK_HZ))

/* Reference follows goal at most vmax (a rate limiter: the host shapes the motion), then
 * PI (integrating outside a deadband) + reference-speed feed-forward − measured-speed damping. */
static void dc_compute(uint8_t i, uint8_t off) {
  dc_axis *a = &dc[i];
  if (!adc_ready) { /* the first tick after boot: no reading yet, motor off */
    dc_set_out(i, 0);
    return;
  }
  uint16_t raw = adc_block[i][adc_slot[i]]; /* the handler, if it runs meanwhile, writes the other slot */
#if CALIBRATE
  /* the pair's sum back to one 10-bit count, rounded; a rail reading (outside POT_LOST_LO..HI,
   * 0 or 0xFFFF) as 0 or 1023 */
  position[i] = raw == 0xFFFF ? 1023 : (uint16_t)((raw + 2) >> 2);
  dc_set_out(i, 0);
  return;
#endif
  /* Out of range: the wiper at a rail (no ram gets there: POT_LOST_* lie outside the travel),
   * in either conversion of the pair (adc_rail above). The fault waits POT_LOST_TICKS (a noise
   * spike is no fault), but the motor is never driven on such a reading, and it is not taken
   * as the position: the PI would run the ram toward the far end at full duty meanwhile
   * (measured in simavr: 565 wire units from park in those 5 ticks, before this). The
   * reference, integrator and speed history keep their last good values, so a single spike
   * costs one tick of coasting. */
  if (raw < 4 * POT_LOST_LO || raw > 4 * POT_LOST_HI) {
    if (++a->lost >= POT_LOST_TICKS) fault(FAULT_FEEDBACK, i);
    a->stall_ticks = 0;
    dc_set_out(i, 0);
    return;
  }
  a->lost = 0;
  uint16_t pos = pot_to_wire(raw);
  position[i] = pos;
  if (!a->primed) {
    /* Start the reference where the ram is: from 0 it would drive the ram toward the end at
     * full duty at power-up (it did, before the simavr Uno test caught it), not at park speed. */
    a->primed = 1;
    a->ref = (int32_t)pos * 16;
    for (uint8_t k = 0; k < 4; k++) a->hist[k] = pos;
  }
  a->hist[a->hi & 3] = pos;
  a->hi++;
  int16_t vmeas = (int16_t)(((int32_t)pos - (int32_t)a->hist[a->hi & 3]) >> 2); /* wire per tick, over 4 ticks */
  if (off || rig_faults) { /* a latched fault: off in fault and in an estop entered from it */
    a->ref = (int32_t)pos * 16;
    a->vref = 0;
    a->integ = 0;
    a->stall_ticks = 0;
    dc_set_out(i, 0);
    return;
  }
  int32_t vmax = slow ? PARK_VMAX_Q4 : DC_VMAX_Q4;
  int32_t d = (int32_t)goal[i] * 16 - a->ref;
  int32_t step = clamp32(d, -vmax, vmax);
  a->ref += step;
  a->vref = (int16_t)step;
  int32_t e = (a->ref >> 4) - pos;
  if (e > DC_I_DEADBAND || e < -DC_I_DEADBAND)
    a->integ = clamp32(a->integ + e * DC_KI_Q8, -(int32_t)DC_I_LIMIT * 256, (int32_t)DC_I_LIMIT * 256);
  int32_t u = (e * DC_KP_Q8 + a->integ + (((int32_t)a->vref * DC_KFF_Q8) >> 4) - (int32_t)vmeas * DC_KD_Q8) >> 8;
  u = clamp32(u, -PWM_CLAMP, PWM_CLAMP);
  /* Soft limits: beyond one, drive back inward only. */
  if ((pos < SOFT_MIN_WIRE && u < 0) || (pos > SOFT_MAX_WIRE && u > 0)) u = 0;
  dc_set_out(i, (int16_t)u);
  /* Stall: high duty and no movement for STALL_TICKS. */
  if (u > STALL_DUTY || u < -STALL_DUTY) {
    int8_t sign = u > 0 ? 1 : -1;
    if (sign != a->stall_sign) a->stall_ticks = 0; /* a reversal: the ram's net travel says nothing */
    a->stall_sign = sign;
    if (a->stall_ticks == 0) a->stall_from = pos;
    if (++a->stall_ticks >= STALL_TICKS) {
      int32_t moved = (int32_t)pos - a->stall_from;
      if (moved < STALL_MOVE_WIRE && moved > -STALL_MOVE_WIRE) fault(FAULT_STALL, i);
      a->stall_ticks = 0;
    }
  } else a->stall_ticks = 0;
}
#endif

/* Vector of a nesting handler (rig.h): mark, re-enable interrupts, then the handler proper. */
#pragma GCC diagnostic ignored "-Wmisspelled-isr"
#define NESTING_VECTOR(vect, bit, body)                                                                                  \
  void body(void) __attribute__((signal, used, externally_visible));                                                    \
  ISR(vect, ISR_NAKED) { __asm__ volatile("sbi %0, %1\n\tsei\n\tjmp " #body "\n\t" ::"I"(_SFR_IO_ADDR(GPIOR0)), "I"(bit)); }

/* ---------- step/dir ---------- */
#if defined(__AVR_ATmega2560__)
/* Timers 3, 4, 5 (step slots 0, 1, 2): CTC at clock/8, OCnA set on match (below). */
#define STEP_TIMER_RUN(n) ((1 << WGM##n##2) | (1 << CS##n##1))
#define STEP_COM_SET(n) ((1 << COM##n##A1) | (1 << COM##n##A0))
#define STEP_COM_CLEAR(n) (1 << COM##n##A1)
/* End (or, at a start, make sure of) a low STEP: OCnA cleared by a forced compare. */
#define STEP_PIN_LOW(n) do { TCCR##n##A = STEP_COM_CLEAR(n); TCCR##n##C = 1 << FOC##n##A; TCCR##n##A = STEP_COM_SET(n); } while (0)
#define STEP_START(n, p) do { TCCR##n##B = 0; TCNT##n = 0; OCR##n##A = (p); STEP_PIN_LOW(n); TCCR##n##B = STEP_TIMER_RUN(n); } while (0)
/* Stop the timer, then clear the latch before the pin is let go: a latch left high (a stop
 * between a match and the handler's end of the pulse) would show on the pin at the next
 * start's first write, a pulse of ~2 cycles that a drive may take as a step no one counted. */
#define STEP_STOP(n) do { TCCR##n##B = 0; TCCR##n##A = STEP_COM_CLEAR(n); TCCR##n##C = 1 << FOC##n##A; TCCR##n##A = 0; } while (0)
#endif
#if N_STEP > 0
typedef struct {
  volatile int16_t pos;      /* steps, counted at each STEP pulse */
  volatile uint16_t period;  /* next step period, timer counts (0: stop after this pulse) */
  volatile uint8_t running;
  volatile int8_t dir;       /* +1 / -1 while running */
  volatile uint8_t hit;      /* homing: the switch closed at pos */
  volatile int16_t stop_at;  /* stop after the pulse that reaches this (creep) */
  volatile uint8_t use_stop;
  int32_t v;                 /* commanded speed, steps/s */
  uint32_t period_for;       /* the speed `period_cached` was computed for (a division is ~600 cycles) */
  uint16_t period_cached;
  int16_t last_tgt;          /* goal in steps at the last tick (its speed is fed forward) */
  uint8_t homing;            /* 1 seeking the switch, 0 homed */
  int32_t seek;              /* steps travelled while seeking */
} step_axis;
static step_axis st[N_STEP];

/*
 * One interrupt per step, not one per edge. The timer (CTC, WGM 4, clock/8 = 2 MHz, TOP =
 * OCRnA = the step period) sets OCnA on each match (COMnA 11): the pulse starts exactly on
 * the timer's grid. Its interrupt counts the step and ends the pulse by a forced compare
 * (FOCnA) in clear mode (COMnA 10), then puts set mode back; the pulse lasts as long as the
 * handler takes to get there, at least STEP_PULSE_COUNTS (drives want ≥ 2.5 µs; up to ~10 µs
 * when the handler waits behind others), and the next match is a whole period (≥ 40 µs)
 * later. With the pin toggled in hardware (COMnA 01) each step took two interrupts of ~90
 * cycles: 28 % of the CPU for one ram at 25,000 steps/s, and a default Mega (2 DC + 1 step)
 * fell behind the 1 kHz stream above ~7,000 steps/s (avr-rig --feed-swing, 2026-12-01).
 * A handler late by a whole period finds the pin still set: that match adds no edge, so the
 * count stays what the drive saw.
 */
#define STEP_COUNTS_PER_S 2000000UL
#define STEP_PULSE_COUNTS 5 /* 2.5 µs */

static inline __attribute__((always_inline)) void step_timer_start(uint8_t i, uint16_t period) {
  switch (i) {
    case 0: STEP_START(3, period); break;
#if N_STEP > 1
    case 1: STEP_START(4, period); break;
#endif
#if N_STEP > 2
    case 2: STEP_START(5, period); break;
#endif
  }
}
static inline __attribute__((always_inline)) void step_timer_stop(uint8_t i) {
  switch (i) {
    case 0: STEP_STOP(3); break;
#if N_STEP > 1
    case 1: STEP_STOP(4); break;
#endif
#if N_STEP > 2
    case 2: STEP_STOP(5); break;
#endif
  }
}
/* In the handler: once the pulse has lasted STEP_PULSE_COUNTS (the low byte: the count
 * restarted at the match, a few dozen counts ago), end it; then load the next period, or stop
 * (never a period of 0: TOP 0 would match at every count and set the pin again at once).
 * The wait ends also when the timer has been stopped meanwhile (the e-stop, a fault): its
 * count would then stay below STEP_PULSE_COUNTS for ever, and so would this handler. */
#define STEP_PULSE_END(n, period)                                 \
  do {                                                           \
    while (TCNT##n##L < STEP_PULSE_COUNTS && (TCCR##n##B & 7)) {} \
    if (period) {                                                \
      STEP_PIN_LOW(n);                                           \
      OCR##n##A = (period);                                      \
    } else STEP_STOP(n); /* it ends the pulse too */             \
  } while (0)
static inline __attribute__((always_inline)) void step_pulse_end(uint8_t i, uint16_t period) {
  switch (i) {
    case 0: STEP_PULSE_END(3, period); break;
#if N_STEP > 1
    case 1: STEP_PULSE_END(4, period); break;
#endif
#if N_STEP > 2
    case 2: STEP_PULSE_END(5, period); break;
#endif
  }
}

/*
 * The step handlers run at every step: 75,000 times a second with three rams at 25,000
 * steps/s. So each is compiled for its own axis (step_edge inlined, every address a
 * constant) and makes no call on its common path; a call would make it save all twelve
 * call-clobbered registers, and it took ~170 cycles that way (bench/firmware: 22 % of the
 * CPU for one ram at speed, 2026-12-01). A tick body pending when the last nesting handler
 * leaves (rig.h) is run through step_tick_trampoline, which saves those registers itself.
 */
void step_tick_trampoline(void) __attribute__((naked, used));
void step_tick_trampoline(void) {
  __asm__ volatile(
      "push r0\n\t" "in r0, __SREG__\n\t" "push r0\n\t" "in r0, %[rampz]\n\t" "push r0\n\t"
      "push r1\n\t" "clr r1\n\t"
      "push r18\n\t" "push r19\n\t" "push r20\n\t" "push r21\n\t" "push r22\n\t" "push r23\n\t"
      "push r24\n\t" "push r25\n\t" "push r26\n\t" "push r27\n\t" "push r30\n\t" "push r31\n\t"
      "call tick_deferred\n\t"
      "pop r31\n\t" "pop r30\n\t" "pop r27\n\t" "pop r26\n\t" "pop r25\n\t" "pop r24\n\t"
      "pop r23\n\t" "pop r22\n\t" "pop r21\n\t" "pop r20\n\t" "pop r19\n\t" "pop r18\n\t"
      "pop r1\n\t"
      "pop r0\n\t" "out %[rampz], r0\n\t" "pop r0\n\t" "out __SREG__, r0\n\t" "pop r0\n\t"
      "ret\n\t" ::[rampz] "I"(_SFR_IO_ADDR(RAMPZ)));
}
/* End of a step handler (interrupts off on entry): clear its nesting bit (rig.h) and, if it
 * was the last one set, run a pending tick body, through the trampoline: no C call. Returns
 * with interrupts on, so the epilogue's pops do not hold off the tick. */
static inline __attribute__((always_inline)) void step_nest_leave(uint8_t bit) {
  GPIOR0 &= (uint8_t) ~(1 << bit);
  if ((GPIOR0 & (1 << NEST_TICK_PENDING)) && !(GPIOR0 & NEST_ACTIVE_MASK)) {
    GPIOR0 &= (uint8_t) ~(1 << NEST_TICK_PENDING);
    __asm__ volatile("call step_tick_trampoline" ::: "memory");
  }
  __asm__ volatile("sei" ::: "memory");
}

/* One compare match: the hardware has just set STEP. */
static inline __attribute__((always_inline)) void step_edge(uint8_t i) {
  step_axis *s = &st[i];
  s->pos += s->dir;
  uint16_t period = s->period;
  if (s->homing && !(HOME_PIN & (1 << HOME_BIT(i)))) {
    s->hit = 1;
    period = 0;
  }
  if (s->use_stop && s->pos == s->stop_at) period = 0;
  step_pulse_end(i, period);
  if (!period) {
    s->period = 0;
    s->running = 0;
  }
}
NESTING_VECTOR(TIMER3_COMPA_vect, NEST_STEP0, step0_body)
void step0_body(void) {
  step_edge(0);
  cli();
  step_nest_leave(NEST_STEP0);
}
#if N_STEP > 1
NESTING_VECTOR(TIMER4_COMPA_vect, NEST_STEP0 + 1, step1_body)
void step1_body(void) {
  step_edge(1);
  cli();
  step_nest_leave(NEST_STEP0 + 1);
}
#endif
#if N_STEP > 2
NESTING_VECTOR(TIMER5_COMPA_vect, NEST_STEP0 + 2, step2_body)
void step2_body(void) {
  step_edge(2);
  cli();
  step_nest_leave(NEST_STEP0 + 2);
}
#endif

/* Multiplications, not divisions (~600 cycles each on the AVR). */
#define WIRE_PER_STEP_Q12 ((uint32_t)(65535.0 * 4096 / STEPS_TRAVEL + 0.5))
static uint16_t steps_to_wire(int16_t p) {
  if (p <= 0) return 0;
  if (p >= STEPS_TRAVEL) return 65535;
  uint32_t w = ((uint32_t)p * WIRE_PER_STEP_Q12 + 2048) >> 12;
  return w > 65535 ? 65535 : (uint16_t)w;
}
static int16_t wire_to_steps(uint16_t w) { return (int16_t)(((uint32_t)w * STEPS_TRAVEL + 32768UL) >> 16); }

/* Commanded speed → the step timer. Direction changes only while stopped. */
static void step_drive(uint8_t i, int32_t v) {
  step_axis *s = &st[i];
  uint32_t mag = v < 0 ? (uint32_t)-v : (uint32_t)v;
  int8_t dir = v < 0 ? -1 : 1;
  if (mag != s->period_for) {
    s->period_for = mag;
    /* < 65,536 counts from 31 steps/s; 2,000,000 >> 16 = 30 < 31, as udiv_q16 needs */
    s->period_cached = mag < 31 ? 0 : udiv_q16(STEP_COUNTS_PER_S, (uint16_t)(mag > 65535 ? 65535 : mag));
  }
  uint16_t period = s->period_cached;
  /* Interrupts off throughout: the e-stop's handler, coming between the start's writes, would
   * stop a timer this then starts again, and steps would be counted that disabled drives
   * never took (until the next tick). */
  cli();
  if (s->running) s->period = (dir != s->dir) ? 0 : period;
  else if (period && !motors_off) {
    if (dir > 0) STEP_DIR_PORT |= 1 << STEP_DIR_BIT(i); else STEP_DIR_PORT &= ~(1 << STEP_DIR_BIT(i));
    s->dir = dir;
    s->period = period;
    s->running = 1;
    step_timer_start(i, period); /* first pulse a whole period later: ≥ 40 µs of DIR setup */
  }
  sei();
}

/* The counted position, read whole: the step handler may come between its two bytes (a
 * 256-step error in one tick's profile and STATUS). */
static int16_t step_pos(const step_axis *s) {
  cli();
  int16_t p = s->pos;
  sei();
  return p;
}

static void step_stop_now(uint8_t i) {
  cli();
  step_timer_stop(i);
  st[i].running = 0;
  st[i].period = 0;
  sei();
  st[i].v = 0;
}

static void step_compute(uint8_t i, uint8_t off) {
  step_axis *s = &st[i];
  uint8_t ax = N_DC + i;
  if (off || rig_faults) { /* a latched fault: off in fault and in an estop entered from it */
    if (s->running) step_stop_now(i);
    position[ax] = steps_to_wire(step_pos(s));
    return;
  }
  if (s->homing) {
    if (s->hit && !s->running) {
      cli();
      s->pos = 0;
      s->hit = 0;
      sei();
      s->homing = 0;
      s->v = 0;
    } else if (!s->hit) {
      if (!s->running) s->seek = 0;
      s->seek += HOME_V / TICK_HZ;
      if (s->seek > HOME_MAX_STEPS) {
        fault(FAULT_HOME, ax);
        return;
      }
      if (!(HOME_PIN & (1 << HOME_BIT(i))) && !s->running) {
        /* Already on the switch at power-up: take here as 0 (docs: home from off the switch for repeatability). */
        s->homing = 0;
        cli();
        s->pos = 0;
        sei();
      } else step_drive(i, -HOME_V);
    }
    position[ax] = 0;
    return;
  }
  int16_t pos = step_pos(s);
  position[ax] = steps_to_wire(pos);
  int16_t tgt = wire_to_steps(goal[ax]);
  int32_t d = (int32_t)tgt - pos;
  int32_t v = s->v;
  const int32_t acc = STEP_AMAX / TICK_HZ;
  int32_t vmax = slow ? STEP_PARK_VMAX : STEP_VMAX;
  /* The goal's own speed (feed-forward), then a proportional pull on the distance, braking
   * early enough (relative speed² ≥ 2·a·distance) not to overshoot a goal that stops. */
  int32_t vt = ((int32_t)tgt - s->last_tgt) * TICK_HZ;
  s->last_tgt = tgt;
  if (vt > vmax) vt = vmax;
  if (vt < -vmax) vt = -vmax;
  int32_t want = vt + d * STEP_KP;
  int32_t vrel = v - vt;
  uint32_t arel = vrel < 0 ? (uint32_t)-vrel : (uint32_t)vrel;
  uint32_t dist = d < 0 ? (uint32_t)-d : (uint32_t)d;
  if (d != 0 && ((d > 0) == (vrel > 0)) && ((arel * arel) >> 10) >= (uint32_t)(2 * STEP_AMAX / 1024) * dist) want = vt;
  if (want > vmax) want = vmax;
  if (want < -vmax) want = -vmax;
  if (want > v + acc) v += acc;
  else if (want < v - acc) v -= acc;
  else v = want;
  if (vt == 0 && d != 0 && v > -STEP_VMIN && v < STEP_VMIN) v = d > 0 ? STEP_VMIN : -STEP_VMIN;
  if (d == 0 && vt == 0 && v <= acc && v >= -acc) v = 0;
  s->v = v;
  /* Creeping to a goal at rest: let the step interrupt stop exactly on it. */
  cli();
  s->use_stop = vt == 0 && v >= -2 * STEP_VMIN && v <= 2 * STEP_VMIN;
  s->stop_at = tgt;
  sei();
  step_drive(i, v);
}
#endif

static void fault(uint16_t bits, uint8_t axis) {
  if (rig_faults) return; /* the first fault stands (its state may be estop since: PROTOCOL.md §3) */
  rig_faults = bits | ((uint16_t)(axis + 1) << 8);
  rig_state = RL_STATE_FAULT;
}

/* Every e-stop latched (pin edge, pin level seen by the tick, ESTOP message): CLEAR_ESTOP
 * clears only latches a STATUS has reported (main.c). */
volatile uint8_t estop_latches;

/* Hardware e-stop: everything off at once, latched. */
ISR(ESTOP_vect) {
  motors_off = 1;
  estop_latches++;
  ENABLE_PORT &= ~(1 << ENABLE_BIT);
  out_ocr[0] = out_ocr[1] = out_ocr[2] = 0;
  out_tccr1a = out_tccr1a_keep = TCCR1A_OFF;
  TCCR1A = TCCR1A_OFF;
  OCR1A = 0;
  OCR1B = 0;
#if defined(__AVR_ATmega2560__)
  OCR1C = 0;
#if N_STEP > 0
  STEP_STOP(3);
#endif
#if N_STEP > 1
  STEP_STOP(4);
#endif
#if N_STEP > 2
  STEP_STOP(5);
#endif
#endif
  rig_state = RL_STATE_ESTOP;
}

static uint8_t ticking; /* re-entry guard: a tick that overran its period */
#pragma GCC diagnostic ignored "-Wmisspelled-isr"
void tick_body(void) __attribute__((signal, used, externally_visible));

/*
 * The tick's vector: apply the outputs computed last tick, then toggle the test point, in
 * straight-line code that changes no flags, so every tick takes the same cycles from the
 * compare match to the outputs; then the C body (a full interrupt handler of its own).
 */
/* Shared tail of the stub: count the millisecond, then run the body now or mark it pending. */
#define TICK_STUB_TAIL                                                                        \
  "lds r24, ms_now\n\t" "subi r24, 0xFF\n\t" "sts ms_now, r24\n\t"                           \
  "lds r24, ms_now+1\n\t" "sbci r24, 0xFF\n\t" "sts ms_now+1, r24\n\t"                       \
  "lds r24, ms_now+2\n\t" "sbci r24, 0xFF\n\t" "sts ms_now+2, r24\n\t"                       \
  "lds r24, ms_now+3\n\t" "sbci r24, 0xFF\n\t" "sts ms_now+3, r24\n\t"                       \
  "in r24, %[gpior]\n\t" "andi r24, %[active]\n\t" "breq 1f\n\t"                             \
  "sbi %[gpior], %[pending]\n\t"                                                              \
  "pop r24\n\t" "out __SREG__, r24\n\t" "pop r24\n\t" "reti\n"                                \
  "1:\n\t" "pop r24\n\t" "out __SREG__, r24\n\t" "pop r24\n\t" "jmp tick_body\n\t"

#if defined(__AVR_ATmega2560__)
ISR(TIMER2_COMPA_vect, ISR_NAKED) {
  __asm__ volatile(
      "push r24\n\t"
      "lds r24, out_tccr1a_keep\n\t" "sts %[tccr1a], r24\n\t"
      "lds r24, out_ocr+1\n\t" "sts %[a_h], r24\n\t" "lds r24, out_ocr\n\t" "sts %[a_l], r24\n\t"
      "lds r24, out_ocr+3\n\t" "sts %[b_h], r24\n\t" "lds r24, out_ocr+2\n\t" "sts %[b_l], r24\n\t"
      "lds r24, out_ocr+5\n\t" "sts %[c_h], r24\n\t" "lds r24, out_ocr+4\n\t" "sts %[c_l], r24\n\t"
      "lds r24, out_tccr1a\n\t" "sts %[tccr1a], r24\n\t"
      "lds r24, out_dir\n\t" "out %[dirp], r24\n\t"
      "ldi r24, %[tpm]\n\t" "out %[tp], r24\n\t" /* not sbi: simavr would toggle every set bit of PINx */
      "in r24, __SREG__\n\t" "push r24\n\t"
      TICK_STUB_TAIL ::[a_h] "n"(_SFR_MEM_ADDR(OCR1AH)), [a_l] "n"(_SFR_MEM_ADDR(OCR1AL)), [b_h] "n"(_SFR_MEM_ADDR(OCR1BH)),
      [b_l] "n"(_SFR_MEM_ADDR(OCR1BL)), [c_h] "n"(_SFR_MEM_ADDR(OCR1CH)), [c_l] "n"(_SFR_MEM_ADDR(OCR1CL)), [tccr1a] "n"(_SFR_MEM_ADDR(TCCR1A)), [dirp] "I"(_SFR_IO_ADDR(DIR_PORT)),
      [tp] "I"(_SFR_IO_ADDR(TP_PIN)), [tpm] "M"(1 << TP_BIT), [gpior] "I"(_SFR_IO_ADDR(GPIOR0)), [active] "M"(NEST_ACTIVE_MASK), [pending] "I"(NEST_TICK_PENDING));
}
#else
ISR(TIMER2_COMPA_vect, ISR_NAKED) {
  __asm__ volatile(
      "push r24\n\t"
      "lds r24, out_tccr1a_keep\n\t" "sts %[tccr1a], r24\n\t"
      "lds r24, out_ocr+1\n\t" "sts %[a_h], r24\n\t" "lds r24, out_ocr\n\t" "sts %[a_l], r24\n\t"
      "lds r24, out_ocr+3\n\t" "sts %[b_h], r24\n\t" "lds r24, out_ocr+2\n\t" "sts %[b_l], r24\n\t"
      "lds r24, out_tccr1a\n\t" "sts %[tccr1a], r24\n\t"
      "ldi r24, %[tpm]\n\t" "out %[tp], r24\n\t"
      "in r24, __SREG__\n\t" "push r24\n\t"
      TICK_STUB_TAIL ::[a_h] "n"(_SFR_MEM_ADDR(OCR1AH)), [a_l] "n"(_SFR_MEM_ADDR(OCR1AL)), [b_h] "n"(_SFR_MEM_ADDR(OCR1BH)),
      [b_l] "n"(_SFR_MEM_ADDR(OCR1BL)), [tccr1a] "n"(_SFR_MEM_ADDR(TCCR1A)), [tp] "I"(_SFR_IO_ADDR(TP_PIN)), [tpm] "M"(1 << TP_BIT), [gpior] "I"(_SFR_IO_ADDR(GPIOR0)),
      [active] "M"(NEST_ACTIVE_MASK), [pending] "I"(NEST_TICK_PENDING));
}
#endif

static void tick_compute(void);

/* Runs with interrupts off (from the stub or a handler leaving); returns with them off. */
void tick_deferred(void) {
  if (ticking) return;
  ticking = 1;
  sei();
  tick_compute();
  cli();
  ticking = 0;
}

void tick_body(void) { tick_deferred(); }

/* The next outputs, with interrupts on. */
static void tick_compute(void) {
#if !defined(__AVR_ATmega2560__) && N_DC > 0
  /* Uno: the direction pins are on two ports; set here, after the PWM. */
  if (out_dir & 1) PORTD |= 1 << PD7; else PORTD &= ~(1 << PD7);
  if (out_dir & 2) PORTB |= 1 << PB0; else PORTB &= ~(1 << PB0);
#endif
  if (estop_pressed() && !motors_off) { /* a level still low after its edge was missed */
    cli();
    motors_off = 1;
    estop_latches++;
    ENABLE_PORT &= ~(1 << ENABLE_BIT);
    rig_state = RL_STATE_ESTOP;
    sei();
  }
  uint8_t moff = motors_off;
  {
    uint16_t t[AXES];
    /* The engine runs every tick (commands, arrivals); its target moves the rig only when enabled. */
    if (playout_tick(ms_now * 1000UL, t) && rig_state == RL_STATE_ENABLED)
      for (uint8_t i = 0; i < AXES; i++) goal[i] = t[i] < SOFT_MIN_WIRE ? SOFT_MIN_WIRE : t[i] > SOFT_MAX_WIRE ? SOFT_MAX_WIRE : t[i];
  }
#if N_DC > 0
  for (uint8_t i = 0; i < N_DC; i++) dc_compute(i, moff);
  adc_start_pass();
#endif
#if N_STEP > 0
  uint8_t all = 1;
  for (uint8_t i = 0; i < N_STEP; i++) {
    step_compute(i, moff);
    if (st[i].homing) all = 0;
  }
  homed = all;
  /* A fault raised in this body (a later axis, homing) stops the step timers it started. */
  if (rig_faults)
    for (uint8_t i = 0; i < N_STEP; i++)
      if (st[i].running) step_stop_now(i);
#endif
#if N_DC > 0
  /* Commit for the next vector, in one step. The e-stop handler may have run since `moff` was
   * read (it zeroed out_ocr and disconnected every channel), and a fault may have come after an
   * axis's duty was set: neither may leave a duty for the next tick. */
  cli();
  if (motors_off || rig_faults) {
    for (uint8_t i = 0; i < N_DC; i++) ocr_next[i] = 0;
    com_next = TCCR1A_OFF;
  }
  for (uint8_t i = 0; i < N_DC; i++) out_ocr[i] = ocr_next[i];
  out_dir = dir_next;
  /* Channels going to 0 are disconnected before the vector writes their OCR, and channels
   * leaving 0 connected after: at no moment is one connected at OCR 0. */
  out_tccr1a_keep = out_tccr1a & com_next;
  out_tccr1a = com_next;
  sei();
#endif
  if (rig_faults) ENABLE_PORT &= ~(1 << ENABLE_BIT);
}

uint8_t control_at_goal(void) {
  if (CALIBRATE) return 1; /* nothing moves: parking is over at once */
  for (uint8_t i = 0; i < AXES; i++) {
    int32_t d = (int32_t)position[i] - goal[i];
#if N_STEP > 0
    if (i + 1 > N_DC) { /* not i >= N_DC: with N_DC 0 that is always true, an error under -Werror */
      if (st[i - N_DC].running || st[i - N_DC].homing || d > 8 || d < -8) return 0;
      continue;
    }
#endif
    if (d > DC_PARKED_TOL || d < -DC_PARKED_TOL) return 0;
  }
  return 1;
}

void control_init(void) {
  for (uint8_t i = 0; i < AXES; i++) goal[i] = PARK_WIRE;
  ENABLE_DDR |= 1 << ENABLE_BIT;
  TP_DDR |= 1 << TP_BIT;
  ESTOP_PORT |= 1 << ESTOP_BIT; /* pull-up */
#if N_DC > 0
#if defined(__AVR_ATmega2560__)
  DIR_DDR = (1 << N_DC) - 1;
#else
  DDRD |= 1 << PD7;
  DDRB |= 1 << PB0;
#endif
  for (uint8_t i = 0; i < N_DC; i++) PWM_DDR |= 1 << PWM_BIT(i);
  /* Timer1: fast PWM, TOP = ICR1 (WGM 14), no prescaler; a channel non-inverting while its
   * duty is above 0 (out_tccr1a), disconnected (low) at 0. */
  ICR1 = PWM_TOP;
  TCCR1A = TCCR1A_OFF;
  TCCR1B = (1 << WGM13) | (1 << WGM12) | (1 << CS10);
  /* ADC: AVcc reference, clock/128 = 125 kHz, one conversion per ~104 µs. */
  ADMUX = 1 << REFS0;
  ADCSRA = (1 << ADEN) | (1 << ADIE) | (1 << ADPS2) | (1 << ADPS1) | (1 << ADPS0);
#endif
#if N_STEP > 0
  STEP_DIR_DDR |= (1 << N_STEP) - 1;
  for (uint8_t i = 0; i < N_STEP; i++) {
    HOME_PORT |= 1 << HOME_BIT(i); /* pull-up */
    st[i].homing = !CALIBRATE;
  }
  DDRE |= 1 << PE3;
#if N_STEP > 1
  DDRH |= 1 << PH3;
#endif
#if N_STEP > 2
  DDRL |= 1 << PL3;
#endif
  TIMSK3 = 1 << OCIE3A;
#if N_STEP > 1
  TIMSK4 = 1 << OCIE4A;
#endif
#if N_STEP > 2
  TIMSK5 = 1 << OCIE5A;
#endif
#else
  homed = 1;
#endif
  /* Timer2: CTC at 1 kHz: 16 MHz / 64 / 250. */
  OCR2A = 249;
  TCCR2A = 1 << WGM21;
  TCCR2B = 1 << CS22;
  TIMSK2 = 1 << OCIE2A;
  ESTOP_INT_SETUP();
  if (estop_pressed()) {
    motors_off = 1;
    estop_latches++;
    rig_state = RL_STATE_ESTOP;
  } else if (CALIBRATE) motors_off = 1; /* the drives stay disabled for good */
  else ENABLE_PORT |= 1 << ENABLE_BIT;
}
