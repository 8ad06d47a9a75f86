/*
 * avr-rig: the RigLink AVR firmware in simavr, in real time, wired to a simulated rig.
 *
 *   avr-rig --firmware ELF --link PATH [--estop-file FILE] [--mcu atmega2560|atmega328p]
 *           [--axes-dc 2] [--axes-step 1] [--start-steps 3000] [--dc-start 0.3] [--plant-log FILE]
 *           [--stats FILE] [--isr-stats 0|1] [--profile FILE] [--pot-lost-file FILE] [--jam-file FILE]
 *           [--pot-lost-mid-pair 0|1] [--drive-log-ms 20] [--feed-hz HZ [--feed-late-us L] [--feed-frames 5000] [--feed-ppm 0] [--feed-seed N]
 *           [--feed-swing 2000] [--feed-cycle-ms 2000] [--feed-log FILE]
 *           [--feed-estop-every-ms P]]
 *
 * Loads the ELF into a simulated ATmega2560 (or 328P) at 16 MHz and runs it throttled to the
 * wall clock. UART0 goes to a pty (pty_link.c: each byte enters the UART at the simulated
 * instant it reached the pty on the wall clock); PATH becomes a symlink to it.
 * Pins (avr/board.h): each DC slot's PWM (Timer1 OCR and its COM bits) and direction pin
 * drive a DC motor model whose position sets the pot's voltage on its ADC pin; each step
 * slot's STEP pin rising edges move a step counter by ±1 (DIR pin), and its home switch
 * input is closed (low) while the counter is <= 0; the e-stop input is held low while FILE
 * exists (checked every millisecond of wall time); the drive-enable output gates every motor.
 * --dc-start: where the DC rams rest at power-up, a fraction of travel (0.3); the firmware
 * parks them from there at boot (from 0.6 that takes 2.4 s, so a host that connects at once
 * talks to a firmware still parking). --start-steps: the step counter at power-up.
 * --pot-lost-file / --jam-file: while the file exists, DC axis 0's pot is disconnected / its
 * motor is jammed (fault injection). The pot-lost file's content says what the wiper reads
 * then: empty or "0" = 0 V (a broken wiper wire with the pull-down docs/firmware.md asks for),
 * a number = that many mV ("5000": pulled to 5 V, e.g. the pot's ground end broken), "hold" =
 * the last voltage, frozen (the pot's coupling slipped: the reading stops following the ram).
 * --pot-lost-mid-pair 1: a pot-lost file that appears takes effect not at once but between the
 * two ADC conversions the firmware sums per pot (avr/control.c), at the start of the second
 * conversion of axis 0's next pair: the first reads the ram, the second the lost level (the
 * instant a wire may break at any time; chosen here so the test is the same every run).
 * --plant-log: one line every 10 ms of simulated time (and one at exit),
 * "SIM_MS MONO_MS ENABLE STATE x0 x1 .. | t0 t1 .. | r0 r1 .. | d0 d1 ..": the plant's
 * positions, the last SETPOINT targets the firmware received, the positions its last STATUS
 * reported (all wire units; STATE from that STATUS; MONO_MS on CLOCK_MONOTONIC) and each DC
 * axis's PWM duty as the H-bridge gets it (per mille of full, signed by the direction pin;
 * before the drive-enable gate), and a line
 * "# state S sim SIM_MS mono MONO_MS lastRx SIM_MS faults F" whenever STATUS reports a new
 * state (lastRx: when the last valid frame reached the firmware), and "# estop-pin P sim
 * SIM_MS mono MONO_MS behind MS" when the e-stop input changes (behind: how far simulated
 * time trailed the wall clock then), "# inject KIND ON sim SIM_MS mono MONO_MS behind MS"
 * when a fault injection file appears (1) or goes (0) (KIND pot-lost or jam), followed by
 * "x X v V duty D en E": DC axis 0's plant position (wire units) and speed (wire units/s) as of
 * its last step, its duty (per mille, signed) and the drive enable then; and for 20 ms of
 * simulated time after an injection (--drive-log-ms), "# drive 0 D en E sim SIM_MS" at each
 * plant step (every 0.1 ms) where axis 0's duty or the drive enable changed. Both directions
 * are decoded with the reference parser (riglink.c).
 * --stats: JSON at exit: the STATUS frames the firmware sent and the longest interval between
 * two of them in simulated time (status.count, status.maxGapMs); the shared playout engine's
 * counts when fed each SETPOINT_TIMED as its last byte reached the pty (playoutAtPty, wall
 * clock) and the UART (playoutAtDelivery, simulated time): see at_uart; since the last
 * SET_PLAYOUT, as the firmware's, and over the whole run in .wholeRun; with --isr-stats 1 (slower: every instruction is inspected),
 * interrupt handler lengths (cycles from the vector fetch to the end of RETI, per vector,
 * with and without time spent in interrupts nested in them); always the
 * control tick's test-point edges against the ideal 1 ms grid, CPU idle (sleep) share, how
 * far the simulation fell behind the wall clock, UART bytes; pty_link's counts (pty: the
 * firmware's bytes dropped because the host had not read 4 KB, the longest a byte waited past
 * its stamp for room in the UART, and whether its reader got real-time priority).
 * --feed-hz: no host on the pty; feeder.c is the host, in simulated time: the handshake, then
 * --feed-frames SETPOINT_TIMED at HZ, each 0..L µs late (a fixed pseudo-random draw); the run
 * is not throttled to the wall clock and ends 400 ms (simulated) after the firmware has reported
 * on the last frame (it holds, the rams come to rest: "axes" below compares them);
 * --feed-seed N: another draw of the frames' lateness than the fixed one (for how robust a result is);
 * --feed-ppm: the host's period that many ppm long (negative: short) in the MCU's time (|ppm| < 20000);
 * --feed-swing W (0..30000, default 2000) --feed-cycle-ms C (≥ 100, default 2000): the targets' sine
 * (feeder.c), W wire units each way over C ms; --feed-log FILE: a line per PLAYOUT_STATUS (feeder.h);
 * --feed-estop-every-ms P: from 2 s of simulated time on, the e-stop pin pressed for 20 ms of
 * every P ms (the feeder then sends CLEAR_ESTOP and ENABLE; "estops", "recovered" in the stats);
 * --stats then holds "feed": frames sent, the SET_PLAYOUT result, and the firmware's own
 * PLAYOUT_STATUS counts with the smallest minLeadUs it reported. "axes" (always): each axis's
 * plant position and the firmware's last reported one at the end, wire units.
 * Ends on SIGTERM/SIGINT and when its parent process dies (it then removes PATH).
 *
 * Not modelled: the PWM waveform and OCR double buffering (the motor sees the duty as an
 * average: simavr 1.6 applies OCR writes at once), H-bridge dead time, current, back-EMF
 * beyond the first-order model, gear backlash, pot nonlinearity; servo-drive dynamics (a
 * step is an exact position change; no following error, no lost steps, no minimum pulse
 * width or DIR setup checks); UART bit timing, framing and overrun errors (simavr queues
 * received bytes with flow control, so the firmware never overruns; bytes arrive at the
 * baud rate's byte time); the USB-serial chip (no USB frames or latency, no DTR auto-reset);
 * brown-out, the AVR watchdog, EEPROM; pull-ups (the harness drives every input it owns);
 * switch bounce. The AVR core itself is cycle-counted by simavr.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "avr_adc.h"
#include "avr_ioport.h"
#include "avr_timer.h"
#include "avr_uart.h"
#include "sim_avr.h"
#include "sim_elf.h"
#include "sim_irq.h"

#include "plant.h"
#include "feeder.h"
#include "pty_link.h"
#include "playout.h"
#include "riglink.h"

typedef struct {
  const char *name;
  int max_dc, max_step;
  uint16_t ocr[3];          /* OCR1A/B/C low byte addresses */
  uint16_t icr1, tccr1a;
  char dir_port[3]; int dir_bit[3];
  char step_timer[3];       /* the timer whose OCnA is STEP */
  uint16_t step_tccra[3];   /* its TCCRnA (COMnA in bits 7:6); TCCRnC (FOCnA, bit 7) is 2 above */
  char sdir_port[3]; int sdir_bit[3];
  char home_port[3]; int home_bit[3];
  char estop_port; int estop_bit;
  char en_port; int en_bit;
  char tp_port; int tp_bit;
  int vectors;
  uint16_t ram_start;       /* first SRAM address: .data, .bss, then the heap gap and the stack */
} pinmap;

static const pinmap MEGA = {
  "atmega2560", 3, 3, {0x88, 0x8A, 0x8C}, 0x86, 0x80,
  {'A', 'A', 'A'}, {0, 1, 2},
  {'3', '4', '5'}, {0x90, 0xA0, 0x120},
  {'C', 'C', 'C'}, {0, 1, 2},
  {'C', 'C', 'C'}, {4, 5, 6},
  'E', 4, 'G', 0, 'G', 1, 57, 0x200,
};
static const pinmap UNO = {
  "atmega328p", 2, 0, {0x88, 0x8A, 0}, 0x86, 0x80,
  {'D', 'B', 0}, {7, 0, 0},
  {0}, {0}, {0}, {0}, {0}, {0},
  'D', 2, 'D', 4, 'D', 5, 26, 0x100,
};

static volatile sig_atomic_t stop;
static void on_signal(int s) { (void)s; stop = 1; }

static avr_t *avr;
static const pinmap *pm;
static plant pl;
static char slavename[64];
static const char *estop_file, *pot_lost_file, *jam_file;
static FILE *plant_log;
static avr_irq_t *adc_irq[3];
static int enable_level = 1;
static int step_dir_level[3];
static double t_mono0;
static int duty_pm[3]; /* each DC axis's signed duty, per mille, at the last plant step */
static double drive_log_until = -1; /* sim ms: log axis 0's drive changes until then (after an injection) */
static double drive_log_ms = 20;    /* for this long after each injection */
static int drive_last_duty, drive_last_en;
static int lost_mid_pair, lost_pending, adc0_count; /* --pot-lost-mid-pair; a pending injection; mux-0 conversions started */

static double mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static avr_irq_t *pin_irq(char port, int bit) { return avr_io_getirq(avr, AVR_IOCTL_IOPORT_GETIRQ(port), bit); }

/* An input the harness drives (switch, e-stop): simavr lets a PORT write (the pull-up bit)
 * override a pin raised from outside unless the pin is declared externally driven. */
static uint8_t ext_mask[16], ext_value[16];
static long long estop_low_since = -1; /* cycle the e-stop pin went low, -1 while released */
static uint64_t duty_pressed_steps;    /* plant steps with a DC duty > 0 while the pin is pressed */
static void drive_input(char port, int bit, int level) {
  int k = port - 'A';
  if (port == pm->estop_port && bit == pm->estop_bit) {
    if (!level && estop_low_since < 0) estop_low_since = (long long)avr->cycle;
    else if (level) estop_low_since = -1;
  }
  ext_mask[k] |= 1 << bit;
  if (level) ext_value[k] |= 1 << bit; else ext_value[k] &= ~(1 << bit);
  avr_ioport_external_t e = {.name = port, .mask = ext_mask[k], .value = ext_value[k]};
  avr_ioctl(avr, AVR_IOCTL_IOPORT_SET_EXTERNAL(port), &e);
  avr_raise_irq(pin_irq(port, bit), level);
}

/* ---- statistics ---- */
#define TP_HIST 4096
static uint64_t tp_hist[TP_HIST];
static uint64_t tp_edges, tp_over;
static avr_cycle_count_t tp_first;
static int64_t tp_max_dev, tp_min_dev;
static avr_cycle_count_t sleep_cycles;
static double max_behind_ms;
typedef struct { uint64_t count, total; uint32_t max_incl, max_excl; } isr_stat;
static isr_stat isr[64];
typedef struct { int vec; avr_cycle_count_t start, nested; } isr_frame;
static isr_frame isr_stack[16];
static int isr_depth;
/* The control tick's body runs at the exit of whichever handler leaves last (avr/rig.h), inside
 * that handler's frame: counted as a frame of its own (ISR_BODY) from the entry of
 * tick_deferred() to its return, so each handler's own cycles are the handler's. */
#define ISR_BODY 63
static uint32_t body_addr; /* tick_deferred's byte address, 0 when the ELF has no such symbol */
static int body_open;
static uint32_t body_ret_pc;
static uint16_t body_ret_sp;
static uint64_t uart_rx_bytes, uart_tx_bytes;
static uint64_t pwm_spike_steps; /* plant steps with a PWM channel connected at OCR1x = 0 */
/* Stack: the lowest SP seen (after start-up) against the end of .data + .bss: the free SRAM
 * that was never used, the headroom left for deeper nesting than this run produced. */
static uint16_t min_sp = 0xFFFF, bss_end;
static inline void watch_sp(void) {
  uint16_t sp = avr->data[R_SPL] | (avr->data[R_SPH] << 8);
  if (sp < min_sp && avr->cycle > 1000) min_sp = sp;
}
/* --profile FILE: cycles per flash word address (instruction), for finding where time goes. */
#define PROF_MAX 131072
static uint64_t *profile;

static void on_tp(struct avr_irq_t *irq, uint32_t value, void *param) {
  (void)irq; (void)value; (void)param;
  const avr_cycle_count_t period = 16000; /* 1 kHz tick at 16 MHz */
  if (!tp_edges++) { tp_first = avr->cycle; tp_min_dev = INT64_MAX; tp_max_dev = INT64_MIN; return; }
  avr_cycle_count_t since = avr->cycle - tp_first;
  int64_t k = (int64_t)((since + period / 2) / period);
  int64_t dev = (int64_t)since - k * (int64_t)period; /* against the grid of the first edge */
  if (dev > tp_max_dev) tp_max_dev = dev;
  if (dev < tp_min_dev) tp_min_dev = dev;
  int64_t d = dev + TP_HIST / 2; /* signed: the median is the tick's fixed latency */
  if (d >= 0 && d < TP_HIST) tp_hist[d]++; else tp_over++;
}

/* STEP pins. The hardware keeps an OCnA latch: a compare match, or a forced compare (FOCnA,
 * TCCRnC bit 7), applies COMnA (TCCRnA bits 7:6: 01 toggle, 10 clear, 11 set) to it, and the
 * pin shows the latch while COMnA is not 0, its PORT bit (0 here) otherwise. simavr 1.6
 * computes a toggle from the PORT bit and has no FOCnA at all, so the harness keeps the latch
 * and the pin itself, and each rising edge of the pin is a step (while the drives are enabled). */
static int step_latch[3], step_pin[3];
static void step_pin_is(int i, int level) {
  if (level && !step_pin[i] && enable_level) {
    plant_axis *a = &pl.a[pl.n_dc + i];
    a->steps += step_dir_level[i] ? 1 : -1;
    drive_input(pm->home_port[i], pm->home_bit[i], a->steps <= 0 ? 0 : 1);
  }
  step_pin[i] = level;
}
static void step_latch_apply(int i) {
  int com = avr->data[pm->step_tccra[i]] >> 6;
  if (com == 1) step_latch[i] ^= 1;
  else if (com == 2) step_latch[i] = 0;
  else if (com == 3) step_latch[i] = 1;
  step_pin_is(i, com ? step_latch[i] : 0);
}
static void on_step(struct avr_irq_t *irq, uint32_t value, void *param) {
  (void)irq;
  (void)value;
  step_latch_apply((int)(intptr_t)param);
}
static void on_step_tccrc(avr_t *a, avr_io_addr_t addr, uint8_t v, void *param) {
  a->data[addr] = v & 0x1F; /* FOCnx read as 0 */
  if (v & 0x80) step_latch_apply((int)(intptr_t)param);
}
static void on_step_tccra(avr_t *a, avr_io_addr_t addr, uint8_t v, void *param) {
  (void)a;
  (void)addr;
  int i = (int)(intptr_t)param;
  step_pin_is(i, (v >> 6) ? step_latch[i] : 0);
}
static void on_sdir(struct avr_irq_t *irq, uint32_t value, void *param) { (void)irq; step_dir_level[(int)(intptr_t)param] = value & 1; }
static void on_enable(struct avr_irq_t *irq, uint32_t value, void *param) { (void)irq; (void)param; enable_level = value & 1; }
/* Both directions of UART0 through the reference parser, for the plant log: what the
 * firmware was told (targets) and what it reported (state, positions). */
static rl_parser rx_parser, tx_parser;
static uint64_t status_count;
static double status_last_ms = -1, status_first_ms = -1, status_max_gap_ms; /* simulated: the firmware's own STATUS rate */
/* The interval from the last STATUS to `sim_ms` enters the longest one. */
static void status_gap_to(double sim_ms) {
  if (status_last_ms >= 0 && sim_ms - status_last_ms > status_max_gap_ms) status_max_gap_ms = sim_ms - status_last_ms;
}
static uint16_t last_targets[PLANT_MAX_AXES], last_reported[PLANT_MAX_AXES];
static int mcu_state = -1, n_axes;
static double last_rx_ms;
static int feeding; /* --feed-hz: feeder.c is the host */
static double feed_done_ms = -1;
static void on_uart_out(struct avr_irq_t *irq, uint32_t value, void *param) {
  (void)irq; (void)param;
  uart_tx_bytes++;
  if (rl_parser_feed(&tx_parser, (uint8_t)value) != RL_FRAME) return;
  if (feeding) feeder_on_frame(&tx_parser.frame);
  if (tx_parser.frame.type != RL_STATUS) return;
  const uint8_t *p = tx_parser.frame.payload;
  double sim_ms = avr->cycle / 16000.0;
  status_gap_to(sim_ms);
  if (status_first_ms < 0) status_first_ms = sim_ms;
  status_last_ms = sim_ms;
  status_count++;
  for (int i = 0; i < p[5] && i < PLANT_MAX_AXES; i++) last_reported[i] = rl_get_u16(p + 6 + 2 * i);
  if (p[0] != mcu_state) {
    mcu_state = p[0];
    if (plant_log) {
      fprintf(plant_log, "# state %d sim %.3f mono %.3f lastRx %.3f faults %u\n", mcu_state, avr->cycle / 16000.0, mono_ms(), last_rx_ms, rl_get_u16(p + 1));
      fflush(plant_log);
    }
  }
}
/* The shared playout engine (c/playout.c, what the firmware runs) fed with each frame at two
 * points before the firmware: at_uart when its last byte entered the UART, in simulated µs
 * (simavr's UART input queue, 64 bytes: up to ~3 frames queued there still wait their byte
 * times, 1.3 ms at most at 500 kbaud, and that wait shows in the firmware's counts, not here);
 * at_pty when that byte reached the pty, on the wall clock (pty_link's stamp). The firmware
 * stamps a frame when its main loop handles it. So the three sets of counts tell apart the
 * host's (and this VM's) lateness, the UART's (bytes queued at the baud rate), and the
 * firmware's receive ring. */
typedef struct {
  rl_playout e;
  rl_playout_report before; /* counts of the sessions before the last SET_PLAYOUT / HELLO */
} tap_engine;
static tap_engine at_uart, at_pty;
static void counts_add(rl_playout_report *to, const rl_playout_report *r) {
  to->accepted += r->accepted;
  to->late += r->late;
  to->stale += r->stale;
  to->outside += r->outside;
  to->overflow += r->overflow;
}
static void tap_configure(uint32_t period_ns, uint16_t delay_us) {
  tap_engine *t[2] = {&at_uart, &at_pty};
  for (int i = 0; i < 2; i++) {
    counts_add(&t[i]->before, &t[i]->e.rep);
    (void)rl_playout_configure(&t[i]->e, period_ns, delay_us);
  }
}
static void on_uart_in(struct avr_irq_t *irq, uint32_t value, void *param) {
  (void)irq; (void)param;
  uart_rx_bytes++;
  if (rl_parser_feed(&rx_parser, (uint8_t)value) != RL_FRAME) return;
  const rl_frame *f = &rx_parser.frame;
  last_rx_ms = avr->cycle / 16000.0;
  if (f->type == RL_HELLO) tap_configure(0, 0); /* as the firmware: HELLO turns playout off */
  else if (f->type == RL_SET_PLAYOUT) tap_configure(rl_get_u32(f->payload), rl_get_u16(f->payload + 4));
  else if (f->type == RL_SETPOINT_TIMED) {
    (void)rl_playout_offer(&at_uart.e, (uint32_t)(avr->cycle / 16), f->payload);
    /* Its clock is the wall clock's, which the simulation may trail: ask it for a target at
     * each arrival (as the firmware's tick would, on a clock that only goes forward). */
    double since_ms = pty_link_last_stamp() - t_mono0; /* < 0 for bytes written before the run began */
    uint32_t pty_us = since_ms > 0 ? (uint32_t)(since_ms * 1000.0) : 0;
    uint16_t t[RL_PLAYOUT_MAX_AXES];
    (void)rl_playout_offer(&at_pty.e, pty_us, f->payload);
    (void)rl_playout_target(&at_pty.e, pty_us, t);
  }
  int off = f->type == RL_SETPOINT ? 2 : f->type == RL_SETPOINT_TIMED ? 6 : -1;
  if (off < 0 || f->payload[1] != n_axes) return;
  for (int i = 0; i < n_axes; i++) last_targets[i] = rl_get_u16(f->payload + off + 2 * i);
}

static uint16_t rd16(uint16_t a) { return avr->data[a] | (avr->data[a + 1] << 8); }

static void log_sample(avr_cycle_count_t when) {
  fprintf(plant_log, "%.1f %.3f %d %d", when / 16000.0, mono_ms(), enable_level, mcu_state);
  for (int i = 0; i < n_axes; i++) fprintf(plant_log, " %.0f", plant_wire(&pl, i));
  fprintf(plant_log, " |");
  for (int i = 0; i < n_axes; i++) fprintf(plant_log, " %u", last_targets[i]);
  fprintf(plant_log, " |");
  for (int i = 0; i < n_axes; i++) fprintf(plant_log, " %u", last_reported[i]);
  fprintf(plant_log, " |");
  for (int i = 0; i < pl.n_dc; i++) fprintf(plant_log, " %d", duty_pm[i]);
  fputc('\n', plant_log);
  fflush(plant_log);
}

#define PLANT_DT_CYCLES 1600 /* 100 µs */
/* --feed-estop-every-ms P: from 2 s (simulated) on, the e-stop pin pressed for 20 ms of every P. */
static double estop_every_ms;
static int estop_scheduled = 1; /* the pin's level that schedule set last (1 released) */

static avr_cycle_count_t plant_timer(struct avr_t *a, avr_cycle_count_t when, void *param) {
  (void)a; (void)param;
  static int log_div;
  if (estop_every_ms > 0) {
    double t = when / 16000.0 - 2000.0;
    int level = !(t >= 0 && fmod(t, estop_every_ms) < 20.0);
    if (level != estop_scheduled) {
      estop_scheduled = level;
      drive_input(pm->estop_port, pm->estop_bit, level);
    }
  }
  uint16_t top = rd16(pm->icr1);
  uint8_t tccr1a = avr->data[pm->tccr1a];
  for (int i = 0; i < pl.n_dc; i++) {
    int com = (tccr1a >> (6 - 2 * i)) & 3; /* COM1x1:0 for A, B, C */
    double duty = 0;
    if (com == 2 && top) {
      uint16_t ocr = rd16(pm->ocr[i]);
      duty = ocr >= top ? 1.0 : (double)ocr / (top + 1);
      if (ocr == 0) pwm_spike_steps++; /* fast PWM's one-clock spike each period (not modelled as drive) */
    }
    int dir = pin_irq(pm->dir_port[i], pm->dir_bit[i])->value & 1;
    duty_pm[i] = (int)((dir ? -duty : duty) * 1000.0 + (dir ? -0.5 : 0.5));
    plant_dc_step(&pl, i, dir ? -duty : duty, enable_level, PLANT_DT_CYCLES / 16e6);
    /* Pressed for a plant step already: the e-stop handler has run; no channel may drive. */
    if (duty != 0 && estop_low_since >= 0 && (long long)when - estop_low_since > PLANT_DT_CYCLES) duty_pressed_steps++;
    avr_raise_irq(adc_irq[i], (uint32_t)(plant_pot_mv(&pl, i) + 0.5));
  }
  if (plant_log && pl.n_dc > 0 && when / 16000.0 <= drive_log_until && (duty_pm[0] != drive_last_duty || enable_level != drive_last_en)) {
    drive_last_duty = duty_pm[0];
    drive_last_en = enable_level;
    fprintf(plant_log, "# drive 0 %d en %d sim %.1f\n", duty_pm[0], enable_level, when / 16000.0);
    fflush(plant_log);
  }
  static int tap_div;
  if (++tap_div >= 10) { /* each simulated ms, as the firmware's tick asks its engine */
    uint16_t t[RL_PLAYOUT_MAX_AXES];
    tap_div = 0;
    (void)rl_playout_target(&at_uart.e, (uint32_t)(when / 16), t);
  }
  if (plant_log && ++log_div >= 100) {
    log_div = 0;
    log_sample(when);
  }
  return when + PLANT_DT_CYCLES;
}

static void on_sleep(avr_t *a, avr_cycle_count_t how_long) { (void)a; sleep_cycles += how_long; }

static int exists(const char *f) {
  struct stat st;
  return f && stat(f, &st) == 0;
}

/* What a disconnected wiper reads (--pot-lost-file's content): mV, or -1 for "hold". */
static double pot_lost_level(const char *path) {
  char buf[32] = {0};
  FILE *f = fopen(path, "r");
  if (f) {
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
  }
  if (!strncmp(buf, "hold", 4)) return -1;
  double mv = atof(buf);
  return mv < 0 ? 0 : mv > 5000 ? 5000 : mv;
}

static void log_inject(const char *kind, int on, double now) {
  if (!plant_log) return;
  double sim = avr->cycle / 16000.0;
  fprintf(plant_log, "# inject %s %d sim %.3f mono %.3f behind %.3f x %.2f v %.1f duty %d en %d\n", kind, on, sim, now, (now - t_mono0) - sim,
          plant_wire(&pl, 0), pl.a[0].v * 65535.0, duty_pm[0], enable_level);
  fflush(plant_log);
  drive_log_until = sim + drive_log_ms;
  drive_last_duty = duty_pm[0];
  drive_last_en = enable_level;
}

/* The pot-lost injection now: the plant's wiper reads the file's level from this instant. */
static void pot_lost_apply(double now) {
  pl.a[0].pot_lost_mv = pot_lost_level(pot_lost_file);
  pl.a[0].pot_lost = 1;
  log_inject("pot-lost", 1, now);
  avr_raise_irq(adc_irq[0], (uint32_t)(plant_pot_mv(&pl, 0) + 0.5));
}

/* A conversion starts (ADSC): with --pot-lost-mid-pair, a pending injection lands at the start
 * of the second conversion of axis 0's pair (simavr samples the input when the firmware reads
 * ADCL, at the end of the conversion). The firmware converts each pot twice in a row, axis 0
 * first, so every even-numbered mux-0 conversion (from 1) is a pair's second. */
static void on_adc_trigger(struct avr_irq_t *irq, uint32_t value, void *param) {
  (void)irq; (void)param;
  avr_adc_mux_t m = {0}; /* simavr raises it as a union with a uint32_t: the low 32 bits */
  memcpy(&m, &value, sizeof m < sizeof value ? sizeof m : sizeof value);
  if (m.kind != ADC_MUX_SINGLE || m.src != 0) return;
  if (++adc0_count % 2 == 0 && lost_pending) {
    lost_pending = 0;
    pot_lost_apply(mono_ms());
  }
}

static void write_counts(FILE *f, const rl_playout_report *r) {
  fprintf(f, "\"accepted\":%lu,\"late\":%lu,\"stale\":%lu,\"outside\":%lu,\"overflow\":%lu", (unsigned long)r->accepted, (unsigned long)r->late,
          (unsigned long)r->stale, (unsigned long)r->outside, (unsigned long)r->overflow);
}

/* "name":{counts since the last SET_PLAYOUT,"wholeRun":{counts over the whole run}}, */
static void write_tap(FILE *f, const char *name, const tap_engine *t) {
  rl_playout_report whole = t->before;
  counts_add(&whole, &t->e.rep);
  fprintf(f, "\"%s\":{", name);
  write_counts(f, &t->e.rep);
  fprintf(f, ",\"wholeRun\":{");
  write_counts(f, &whole);
  fprintf(f, "}},");
}

static void write_stats(const char *path, double wall_s) {
  FILE *f = fopen(path, "w");
  if (!f) return;
  double sim_s = avr->cycle / 16e6;
  fprintf(f, "{\"mcu\":\"%s\",\"cycles\":%llu,\"simSeconds\":%.3f,\"wallSeconds\":%.3f,\"idleShare\":%.4f,\"maxBehindMs\":%.3f,",
          pm->name, (unsigned long long)avr->cycle, sim_s, wall_s, (double)sleep_cycles / (double)avr->cycle, max_behind_ms);
  fprintf(f, "\"uart\":{\"rxBytes\":%llu,\"txBytes\":%llu},", (unsigned long long)uart_rx_bytes, (unsigned long long)uart_tx_bytes);
  pty_link_stats ps;
  pty_link_get_stats(&ps);
  fprintf(f, "\"pty\":{\"txDropped\":%llu,\"rxWaitMaxMs\":%.3f,\"readerRealtime\":%s},", (unsigned long long)ps.tx_dropped, ps.rx_wait_max_ms,
          ps.reader_realtime ? "true" : "false");
  /* The stretch since the last STATUS counts too: a firmware that stopped sending would
   * otherwise show only the gaps before it stopped. */
  status_gap_to(sim_s * 1000);
  fprintf(f, "\"status\":{\"count\":%llu,\"maxGapMs\":%.3f,\"firstMs\":%.3f,\"lastMs\":%.3f},", (unsigned long long)status_count, status_max_gap_ms, status_first_ms, status_last_ms);
  if (feeding) {
    feeder_stats fst;
    feeder_get_stats(&fst);
    fprintf(f, "\"feed\":{\"framesSent\":%lu,\"setPlayoutResult\":%d,\"done\":%s,\"state\":%u,\"faults\":%u,\"stateChanges\":%lu,\"estops\":%lu,\"recovered\":%lu,\"firmware\":{",
            (unsigned long)fst.frames_sent, fst.playout_result, fst.done ? "true" : "false", fst.state, fst.faults, (unsigned long)fst.state_changes,
            (unsigned long)fst.estops, (unsigned long)fst.recovered);
    write_counts(f, &fst.fw);
    fprintf(f, ",\"minLeadUs\":%d,\"rateAdjPpm\":%d},", fst.min_lead_us, fst.fw.rate_adj_ppm);
    fprintf(f, "\"afterFirstSecond\":{\"fromTick\":%lu,\"accepted\":%lu,\"late\":%lu,\"minLeadUs\":%d}},", (unsigned long)fst.settled_at_tick,
            fst.settled_at_tick ? (unsigned long)(fst.fw.accepted - fst.accepted_before_settled) : 0UL,
            fst.settled_at_tick ? (unsigned long)(fst.fw.late - fst.late_before_settled) : 0UL, fst.settled_min_lead_us);
  }
  /* Each axis: the plant's position and the firmware's last STATUS, wire units. */
  fprintf(f, "\"axes\":{\"plant\":[");
  for (int i = 0; i < n_axes; i++) fprintf(f, "%s%.0f", i ? "," : "", plant_wire(&pl, i));
  fprintf(f, "],\"reported\":[");
  for (int i = 0; i < n_axes; i++) fprintf(f, "%s%u", i ? "," : "", last_reported[i]);
  fprintf(f, "]},");
  write_tap(f, "playoutAtPty", &at_pty);
  write_tap(f, "playoutAtDelivery", &at_uart);
  fprintf(f, "\"stack\":{\"ramEnd\":%u,\"bssEnd\":%u,\"minSp\":%u,\"maxUsedBytes\":%d,\"minFreeBytes\":%d},", (unsigned)avr->ramend, bss_end, min_sp,
          (int)avr->ramend - (int)min_sp, (int)min_sp + 1 - (int)bss_end);
  fprintf(f, "\"pwmSpikeSteps\":%llu,\"dutyWhilePressedSteps\":%llu,", (unsigned long long)pwm_spike_steps, (unsigned long long)duty_pressed_steps);
  fprintf(f, "\"isr\":{");
  int first = 1;
  for (int v = 0; v < 64; v++) {
    if (!isr[v].count) continue;
    fprintf(f, "%s\"%d\":{\"count\":%llu,\"maxCycles\":%u,\"maxOwnCycles\":%u,\"cpuShare\":%.5f}", first ? "" : ",", v, (unsigned long long)isr[v].count, isr[v].max_incl,
            isr[v].max_excl, (double)isr[v].total / (double)avr->cycle);
    first = 0;
  }
  fprintf(f, "},");
  /* Test-point edges against the grid: the median offset is the tick's fixed latency (vector,
   * stub); jitter is each edge's distance from that median, in cycles (16 = 1 µs). */
  uint64_t n = 0;
  for (int d = 0; d < TP_HIST; d++) n += tp_hist[d];
  int median = 0;
  for (uint64_t c = 0; median < TP_HIST; median++) {
    c += tp_hist[median];
    if (2 * c >= n) break;
  }
  uint64_t jh[TP_HIST] = {0};
  for (int d = 0; d < TP_HIST; d++) jh[abs(d - median)] += tp_hist[d];
  double qs[] = {0.5, 0.99, 0.999, 0.9999};
  const char *qn[] = {"p50", "p99", "p999", "p9999"};
  fprintf(f, "\"tick\":{\"edges\":%llu,\"periodCycles\":16000,\"outsideHist\":%llu,\"medianLatencyCycles\":%d,\"maxJitterCycles\":%lld", (unsigned long long)tp_edges,
          (unsigned long long)tp_over, median - TP_HIST / 2, (long long)(tp_max_dev - (median - TP_HIST / 2) > (median - TP_HIST / 2) - tp_min_dev ? tp_max_dev - (median - TP_HIST / 2) : (median - TP_HIST / 2) - tp_min_dev));
  for (int q = 0; q < 4; q++) {
    uint64_t want = (uint64_t)(qs[q] * n + 0.999999), c = 0;
    int at = 0;
    for (; at < TP_HIST; at++) {
      c += jh[at];
      if (c >= want) break;
    }
    fprintf(f, ",\"%sJitterCycles\":%d", qn[q], at);
  }
  fprintf(f, "}}\n");
  fclose(f);
}

int main(int argc, char **argv) {
  const char *fw = NULL, *link = NULL, *stats = NULL, *mcu = "atmega2560", *plog = NULL, *prof_path = NULL;
  int n_dc = 2, n_step = 1, trace = 0;
  uint32_t feed_hz = 0, feed_late_us = 0, feed_frames = 5000;
  double feed_ppm = 0, feed_swing = 2000, feed_cycle_ms = 2000;
  long feed_seed = -1;
  const char *feed_log = NULL;
  long start_steps = 3000;
  double dc_start = 0.3; /* DC rams part-way out at power-up */
  for (int i = 1; i + 1 < argc; i += 2) {
    const char *k = argv[i], *v = argv[i + 1];
    if (!strcmp(k, "--firmware")) fw = v;
    else if (!strcmp(k, "--link")) link = v;
    else if (!strcmp(k, "--estop-file")) estop_file = v;
    else if (!strcmp(k, "--stats")) stats = v;
    else if (!strcmp(k, "--mcu")) mcu = v;
    else if (!strcmp(k, "--axes-dc")) n_dc = atoi(v);
    else if (!strcmp(k, "--axes-step")) n_step = atoi(v);
    else if (!strcmp(k, "--start-steps")) start_steps = atol(v);
    else if (!strcmp(k, "--dc-start")) dc_start = atof(v);
    else if (!strcmp(k, "--plant-log")) plog = v;
    else if (!strcmp(k, "--pot-lost-file")) pot_lost_file = v;
    else if (!strcmp(k, "--jam-file")) jam_file = v;
    else if (!strcmp(k, "--pot-lost-mid-pair")) lost_mid_pair = atoi(v);
    else if (!strcmp(k, "--drive-log-ms")) drive_log_ms = atof(v);
    else if (!strcmp(k, "--profile")) prof_path = v;
    else if (!strcmp(k, "--isr-stats")) trace = atoi(v);
    else if (!strcmp(k, "--feed-hz")) feed_hz = (uint32_t)atol(v);
    else if (!strcmp(k, "--feed-late-us")) feed_late_us = (uint32_t)atol(v);
    else if (!strcmp(k, "--feed-frames")) feed_frames = (uint32_t)atol(v);
    else if (!strcmp(k, "--feed-ppm")) feed_ppm = atof(v);
    else if (!strcmp(k, "--feed-seed")) feed_seed = atol(v);
    else if (!strcmp(k, "--feed-swing")) feed_swing = atof(v);
    else if (!strcmp(k, "--feed-cycle-ms")) feed_cycle_ms = atof(v);
    else if (!strcmp(k, "--feed-log")) feed_log = v;
    else if (!strcmp(k, "--feed-estop-every-ms")) estop_every_ms = atof(v);
    else { fprintf(stderr, "avr-rig: unknown option %s\n", k); return 2; }
  }
  pm = !strcmp(mcu, "atmega328p") ? &UNO : &MEGA;
  if (!fw || !link || n_dc < 0 || n_step < 0 || n_dc > pm->max_dc || n_step > pm->max_step || n_dc + n_step < 1 || !(dc_start >= 0 && dc_start <= 1) ||
      (feed_hz && (feed_hz < 50 || feed_hz > 5000 || !(feed_ppm > -20000 && feed_ppm < 20000) || !(feed_swing >= 0 && feed_swing <= 30000) ||
                   !(feed_cycle_ms >= 100)))) {
    fprintf(stderr, "usage: avr-rig --firmware ELF --link PATH [--estop-file FILE] [--mcu atmega2560|atmega328p] [--axes-dc N] [--axes-step N]\n"
                    "               [--start-steps N] [--dc-start 0..1] [--plant-log FILE] [--stats FILE] [--pot-lost-file FILE] [--jam-file FILE]\n");
    return 2;
  }
  /* End with the parent: PDEATHSIG for the usual case, getppid() below for a parent that died before this line. */
  pid_t ppid = getppid();
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  signal(SIGPIPE, SIG_IGN);

  elf_firmware_t f;
  memset(&f, 0, sizeof f);
  if (elf_read_firmware(fw, &f) != 0) { fprintf(stderr, "avr-rig: cannot read %s\n", fw); return 1; }
  strcpy(f.mmcu, pm->name);
  f.frequency = 16000000;
  avr = avr_make_mcu_by_name(f.mmcu);
  if (!avr) { fprintf(stderr, "avr-rig: no simavr core for %s\n", f.mmcu); return 1; }
  avr_init(avr);
  avr_load_firmware(avr, &f);
  bss_end = (uint16_t)(pm->ram_start + f.datasize + f.bsssize);
  for (uint32_t i = 0; i < f.symbolcount; i++)
    if (!strcmp(f.symbol[i]->symbol, "tick_deferred")) body_addr = f.symbol[i]->addr;
  avr->vcc = avr->avcc = avr->aref = 5000;
  avr->sleep = on_sleep;
  avr->log = LOG_ERROR;

  if (prof_path) profile = calloc(PROF_MAX, sizeof *profile);
  if (profile) trace = 1;
  plant_init(&pl, n_dc, n_step, start_steps, dc_start);
  rl_playout_init(&at_uart.e, (uint8_t)(n_dc + n_step));
  rl_playout_init(&at_pty.e, (uint8_t)(n_dc + n_step));
  n_axes = n_dc + n_step;
  rl_parser_init(&rx_parser);
  rl_parser_init(&tx_parser);
  if (plog) plant_log = fopen(plog, "w");

  if (pty_link_open(avr, '0', slavename, feed_hz == 0) != 0) { fprintf(stderr, "avr-rig: cannot open a pty: %s\n", strerror(errno)); return 1; }
  unlink(link);
  if (symlink(slavename, link) != 0) { fprintf(stderr, "avr-rig: cannot link %s: %s\n", link, strerror(errno)); return 1; }
  avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUTPUT), on_uart_out, NULL);
  avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_INPUT), on_uart_in, NULL);

  /* Inputs the harness owns, at their idle levels (simavr does not model pull-ups). */
  drive_input(pm->estop_port, pm->estop_bit, exists(estop_file) ? 0 : 1);
  for (int i = 0; i < n_step; i++) {
    drive_input(pm->home_port[i], pm->home_bit[i], pl.a[n_dc + i].steps <= 0 ? 0 : 1);
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_TIMER_GETIRQ(pm->step_timer[i]), TIMER_IRQ_OUT_COMP + 0), on_step, (void *)(intptr_t)i);
    avr_register_io_write(avr, pm->step_tccra[i], on_step_tccra, (void *)(intptr_t)i); /* after simavr's own (chained) */
    avr_register_io_write(avr, pm->step_tccra[i] + 2, on_step_tccrc, (void *)(intptr_t)i);
    avr_irq_register_notify(pin_irq(pm->sdir_port[i], pm->sdir_bit[i]), on_sdir, (void *)(intptr_t)i);
  }
  for (int i = 0; i < n_dc; i++) adc_irq[i] = avr_io_getirq(avr, AVR_IOCTL_ADC_GETIRQ, ADC_IRQ_ADC0 + i);
  avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_ADC_GETIRQ, ADC_IRQ_OUT_TRIGGER), on_adc_trigger, NULL);
  avr_irq_register_notify(pin_irq(pm->en_port, pm->en_bit), on_enable, NULL);
  enable_level = 0;
  avr_irq_register_notify(pin_irq(pm->tp_port, pm->tp_bit), on_tp, NULL);
  avr_cycle_timer_register(avr, PLANT_DT_CYCLES, plant_timer, NULL);

  printf("avr-rig: %s on %s, %d DC + %d step axes, link %s -> %s\n", fw, pm->name, n_dc, n_step, link, slavename);
  fflush(stdout);

  t_mono0 = mono_ms();
  pty_link_set_epoch(t_mono0);
  feeding = feed_hz != 0;
  if (feed_hz && feed_log) {
    FILE *lf = fopen(feed_log, "w");
    if (!lf) { fprintf(stderr, "avr-rig: cannot write %s: %s\n", feed_log, strerror(errno)); return 1; }
    setvbuf(lf, NULL, _IOLBF, 0);
    feeder_log_to(lf);
  }
  if (feed_hz && feed_seed >= 0) feeder_seed((uint32_t)feed_seed);
  if (feed_hz) feeder_start(avr, (uint8_t)n_axes, feed_hz, feed_late_us, feed_frames, feed_ppm, feed_swing, feed_cycle_ms);
  double next_check = t_mono0;
  int estop_now = exists(estop_file);
  const avr_flashaddr_t vec_end = (avr_flashaddr_t)(pm->vectors * avr->vector_size);
  int state = cpu_Running;
  while (!stop && state != cpu_Done && state != cpu_Crashed) {
    if (!trace) {
      for (int n = 0; n < 2000 && state != cpu_Done && state != cpu_Crashed; n++) {
        state = avr_run(avr);
        watch_sp();
      }
    } else
    for (int n = 0; n < 2000; n++) {
      avr_flashaddr_t pc = avr->pc;
      int reti = avr->flash[pc] == 0x18 && avr->flash[pc + 1] == 0x95;
      avr_cycle_count_t c0 = avr->cycle;
      state = avr_run(avr);
      watch_sp();
      if (profile && pc < PROF_MAX * 2) profile[pc >> 1] += avr->cycle - c0;
      if (body_open && avr->pc == body_ret_pc && (avr->data[R_SPL] | (avr->data[R_SPH] << 8)) == body_ret_sp && isr_depth > 0 && isr_stack[isr_depth - 1].vec == ISR_BODY)
        reti = 1; /* tick_deferred returned: its frame closes as a handler's would */
      if (reti && isr_depth > 0) {
        isr_frame *fr = &isr_stack[--isr_depth];
        if (fr->vec == ISR_BODY) body_open = 0;
        avr_cycle_count_t incl = avr->cycle - fr->start;
        avr_cycle_count_t own = incl - fr->nested;
        isr_stat *s = &isr[fr->vec & 63];
        s->count++;
        s->total += own;
        if (incl > s->max_incl) s->max_incl = (uint32_t)incl;
        if (own > s->max_excl) s->max_excl = (uint32_t)own;
        if (isr_depth > 0) isr_stack[isr_depth - 1].nested += incl;
      }
      if (body_addr && avr->pc == body_addr && !body_open && isr_depth > 0 && isr_depth < 16) {
        /* Entered by a call: the return address is on the stack, high byte first (3 bytes on
         * a 22-bit PC, 2 otherwise; word address). */
        uint16_t sp = avr->data[R_SPL] | (avr->data[R_SPH] << 8);
        int n = avr->address_size;
        uint32_t ret = 0;
        for (int i = 1; i <= n; i++) ret = (ret << 8) | avr->data[sp + i];
        body_ret_pc = ret * 2;
        body_ret_sp = (uint16_t)(sp + n);
        body_open = 1;
        isr_stack[isr_depth++] = (isr_frame){ISR_BODY, avr->cycle, 0};
      }
      if (avr->pc != pc && avr->pc > 0 && avr->pc < vec_end && !(pc >= avr->pc && pc < avr->pc + avr->vector_size)) {
        /* Just vectored (the response cycles are already counted in avr->cycle). */
        if (isr_depth < 16) isr_stack[isr_depth++] = (isr_frame){(int)(avr->pc / avr->vector_size), avr->cycle, 0};
      }
    }
    /* Real time: keep simulated time at the wall clock (a host in simulated time needs not). */
    double now = mono_ms();
    double sim_ms = avr->cycle / 16000.0;
    double ahead = sim_ms - (now - t_mono0);
    if (feed_hz) {
      /* Done: 400 ms more, in which the firmware holds (its 100 ms watchdog) and its rams come
       * to rest, so the stats' axes compare the firmware's count with the plant's at rest. */
      if (feeder_done()) {
        if (feed_done_ms < 0) feed_done_ms = sim_ms;
        else if (sim_ms > feed_done_ms + 400.0) stop = 1;
      }
      /* The stream's length plus 30 s of simulated time: a firmware that never enables (or never
       * reports on the last frame) ends the run, with feed.done false in the stats. */
      else if (sim_ms > 30000.0 + feed_frames * 1000.0 / feed_hz) stop = 1;
    } else if (ahead > 0.2) {
      struct timespec ts = {0, (long)(ahead * 1e6)};
      nanosleep(&ts, NULL);
      now = mono_ms();
    } else if (-ahead > max_behind_ms && avr->cycle > 16000000) max_behind_ms = -ahead; /* after the first second (start-up) */
    if (now >= next_check) {
      next_check = now + 1.0;
      int e = exists(estop_file);
      if (e != estop_now) {
        estop_now = e;
        drive_input(pm->estop_port, pm->estop_bit, e ? 0 : 1);
        if (plant_log) {
          fprintf(plant_log, "# estop-pin %d sim %.3f mono %.3f behind %.3f\n", e, avr->cycle / 16000.0, now, (now - t_mono0) - avr->cycle / 16000.0);
          fflush(plant_log);
        }
      }
      if (n_dc > 0) {
        int lost = exists(pot_lost_file), jam = exists(jam_file);
        if (lost && !pl.a[0].pot_lost && !lost_pending) {
          if (lost_mid_pair) lost_pending = 1; /* on_adc_trigger applies it */
          else pot_lost_apply(now);
        } else if (!lost && (pl.a[0].pot_lost || lost_pending)) {
          lost_pending = 0;
          pl.a[0].pot_lost = 0;
          log_inject("pot-lost", 0, now);
        }
        if (jam != pl.a[0].jammed) log_inject("jam", jam, now);
        pl.a[0].jammed = jam;
      }
      if (getppid() != ppid) stop = 1;
    }
  }
  if (state == cpu_Crashed) fprintf(stderr, "avr-rig: the AVR crashed at pc 0x%x\n", avr->pc);
  if (stats) write_stats(stats, (mono_ms() - t_mono0) / 1e3);
  if (profile) {
    FILE *pf = fopen(prof_path, "w");
    for (int i = 0; pf && i < PROF_MAX; i++)
      if (profile[i]) fprintf(pf, "%x %llu\n", i * 2, (unsigned long long)profile[i]);
    if (pf) fclose(pf);
  }
  unlink(link);
  if (plant_log) {
    log_sample(avr->cycle); /* where everything ended: the last periodic line may be up to 10 ms older */
    fclose(plant_log);
  }
  /* The process exit ends pty_link's reader thread and closes the pty. */
  return state == cpu_Crashed ? 1 : 0;
}
