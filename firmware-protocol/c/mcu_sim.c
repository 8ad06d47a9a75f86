/*
 * RigLink MCU simulator: behaves like a rig's microcontroller on a serial device (in tests,
 * one end of a socat pty pair). Uses the reference codec, as real firmware would.
 *
 *   mcu_sim --device PATH [--axes 6] [--log FILE] [--speed UNITS_PER_S] [--status-ms 20]
 *           [--hold-ms 100] [--park-ms 500] [--park 0] [--core-only] [--clock-ppm 0]
 *           [--parent-pid PID] [--deaf-file PATH] [--status-axes N] [--status-lie-file PATH]
 *
 * MCU-timed playout (PROTOCOL.md section 7, playout.c) is on by default: GET_CAPS is answered
 * with CAPS, SET_PLAYOUT configures the engine, SETPOINT_TIMED frames are played at their
 * tick's time plus the delay (the log line gets the engine's verdict), and a PLAYOUT_STATUS
 * follows every STATUS while playout is on. The playout target is recomputed every loop pass
 * (~1 ms, the simulator's servo step). --clock-ppm N runs the simulator's playout clock N ppm
 * fast (negative: slow), like an MCU crystal or resonator that is off. --core-only makes it an
 * MCU that speaks only the core: the extension's types are counted as unknown, not answered,
 * and (like every frame a core MCU cannot use) do not feed the watchdog.
 *
 * State machine and watchdog as in ../PROTOCOL.md. Positions follow targets at --speed
 * (target units per second, default a full stroke in 0.5 s). The log gets one line per
 * received frame ("rx TYPE SEQ [flags targets...]"), per state change ("state NAME") and
 * per link event; SIGTERM writes the counters and exits 0. When the device goes away
 * (socat killed) the simulator keeps running its watchdog and reopens the path when it
 * comes back, like an MCU whose USB cable was pulled and plugged in again.
 *
 * Sequence numbers: the host sends every frame with one counter, from HELLO on and
 * continuous across hold, e-stop, park and reconnects. A valid frame whose seq is not the
 * previous valid frame's + 1 (mod 65536) logs "seq-gap expected E got G", with
 * " (after reopen)" appended when it is the first frame after the device was reopened (the
 * previous seq is kept across a reopen). The very first frame is never a gap. A frame lost
 * to a bad CRC or COBS shows up as a gap too. Gaps are counted in the final counters line
 * ("seqGaps N"), not in the COUNTERS message.
 *
 * It ends with the process that started it (a test, the demo, the service), so that a killed
 * parent never leaves it running: when that process is gone it logs "parent gone", writes
 * the counters and exits 0, within a loop pass (~1 ms). --parent-pid PID watches PID
 * instead: gone when our parent is no longer PID if PID started us, else when PID no longer
 * exists (kill(PID, 0) fails with ESRCH; a recycled PID would fool it). --parent-pid 0
 * watches nothing (for a simulator started by hand and left running); so does the default
 * when the starting parent is already pid 1. The check is getppid() on every loop pass, not
 * prctl(PR_SET_PDEATHSIG), which fires when the forking *thread* exits (a Node worker, say)
 * and misses a parent that died before the call.
 *
 * STATUS positions are the simulated positions, rounded, unless a fault says otherwise.
 * Fault injection on demand (--deaf-file, --status-axes, --status-lie-file): see
 * mcu_sim_faults.c.
 *
 * Not modelled: electrical faults and the fault state (STATUS faults is always 0, the state
 * never becomes fault), limit switches and hard-limit clamping beyond the u16 wire range,
 * actuator dynamics beyond one speed limit (no acceleration, load or following error), the
 * hardware e-stop chain, power loss and brown-out resets, DTR auto-reset and boot time, real
 * UART timing (a pty moves bytes at kernel speed whatever the baud: no bit, framing or
 * overrun errors, no flow control), USB latency and USB-serial adapter buffering, and an MCU
 * that is slow to answer (replies go out in the same loop pass). Playout: the simulator's clock
 * is the host's CLOCK_MONOTONIC scaled by --clock-ppm (a constant rate error: no crystal noise,
 * temperature drift or steps), frames are timestamped when its loop reads them (so socat's and
 * its own wake-up delays count as link delay, which a UART interrupt would not add), and the
 * playout target is applied once per loop pass (~1 ms), not on a hardware timer. A stuck transmit path is
 * not a fault option: SIGSTOP the simulator or unplug (kill socat) for that.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "mcu_sim.h"
#include "playout.h"
#include "riglink.h"

static volatile sig_atomic_t stop;
static pid_t watched;          /* 0: no parent watch */
static int watched_is_parent;
static int parent_gone(void) {
  if (!watched) return 0;
  if (watched_is_parent) return getppid() != watched;
  return kill(watched, 0) < 0 && errno == ESRCH;
}
static void on_signal(int s) { (void)s; stop = 1; }

/* The playout engine's clock: microseconds of CLOCK_MONOTONIC, scaled by --clock-ppm, wrapping. */
static uint32_t mcu_us(double ppm) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  double us = (ts.tv_sec * 1e6 + ts.tv_nsec / 1e3) * (1 + ppm * 1e-6);
  return (uint32_t)(uint64_t)us;
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* The types a core-only MCU does not know (PROTOCOL.md section 7). */
static int extension_type(uint8_t t) {
  return t == RL_SETPOINT_TIMED || t == RL_SET_PLAYOUT || t == RL_GET_CAPS || t == RL_CAPS || t == RL_PLAYOUT_STATUS;
}
static const char *VERDICTS[] = {"accepted", "late", "stale", "outside", "overflow"};

static const char *STATE_NAMES[] = {"parked", "enabled", "holding", "parking", "estop", "fault"};

static FILE *logf;
static double t0;
void logline(const char *fmt, ...) {
  if (!logf) return;
  va_list ap;
  va_start(ap, fmt);
  fprintf(logf, "%.3f ", now_ms() - t0);
  vfprintf(logf, fmt, ap);
  fputc('\n', logf);
  va_end(ap);
  fflush(logf);
}

static int open_device(const char *path) {
  int fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) return -1;
  struct termios t;
  if (tcgetattr(fd, &t) == 0) {
    cfmakeraw(&t);
    tcsetattr(fd, TCSANOW, &t);
  }
  return fd;
}

int main(int argc, char **argv) {
  const char *device = NULL, *log_path = NULL;
  int axes = 6, status_ms = 20, hold_ms = 100, park_ms = 500;
  double speed = 131070.0, clock_ppm = 0;
  int core_only = 0;
  uint16_t park = 0;
  long parent_pid = -1;
  sim_faults faults;
  faults_init(&faults);
  for (int i = 1; i < argc; i += 2) {
    if (!strcmp(argv[i], "--core-only")) {
      core_only = 1;
      i--;
      continue;
    }
    if (i + 1 >= argc) { fprintf(stderr, "mcu_sim: %s needs a value\n", argv[i]); return 2; }
    int taken = faults_option(&faults, argv[i], argv[i + 1]);
    if (taken < 0) { fprintf(stderr, "mcu_sim: bad value for %s: %s\n", argv[i], argv[i + 1]); return 2; }
    if (taken) continue;
    if (!strcmp(argv[i], "--device")) device = argv[i + 1];
    else if (!strcmp(argv[i], "--axes")) axes = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--log")) log_path = argv[i + 1];
    else if (!strcmp(argv[i], "--speed")) speed = atof(argv[i + 1]);
    else if (!strcmp(argv[i], "--status-ms")) status_ms = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--hold-ms")) hold_ms = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--park-ms")) park_ms = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--park")) park = (uint16_t)atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--clock-ppm")) clock_ppm = atof(argv[i + 1]);
    else if (!strcmp(argv[i], "--parent-pid")) {
      char *end;
      parent_pid = strtol(argv[i + 1], &end, 10);
      if (end == argv[i + 1] || *end || parent_pid < 0) { fprintf(stderr, "mcu_sim: bad value for --parent-pid: %s\n", argv[i + 1]); return 2; }
    }
    else { fprintf(stderr, "mcu_sim: unknown option %s\n", argv[i]); return 2; }
  }
  if (!device || axes < 1 || axes > RIGLINK_MAX_AXES) {
    fprintf(stderr, "usage: mcu_sim --device PATH [--axes 1..16] [--log FILE] [--speed U/s] [--status-ms 20] [--hold-ms 100] [--park-ms 500] [--park 0]\n"
                    "               [--core-only] [--clock-ppm 0]\n"
                    "               [--parent-pid PID] [--deaf-file PATH] [--status-axes 0..16] [--status-lie-file PATH]\n");
    return 2;
  }
  pid_t ppid = getppid();
  watched = parent_pid >= 0 ? (pid_t)parent_pid : ppid == 1 ? 0 : ppid;
  watched_is_parent = watched == ppid;
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  signal(SIGPIPE, SIG_IGN);
  t0 = now_ms();
  if (log_path) logf = fopen(log_path, "w");
  /* Lets tests put this log's times on the host's CLOCK_MONOTONIC (Node's process.hrtime). */
  logline("clock monotonic %.3f", t0);

  rl_parser parser;
  rl_parser_init(&parser);
  double pos[RIGLINK_MAX_AXES], target[RIGLINK_MAX_AXES];
  for (int i = 0; i < axes; i++) pos[i] = target[i] = park;
  uint8_t state = RL_STATE_PARKED;
  rl_playout playout;
  rl_playout_init(&playout, (uint8_t)axes);
  uint32_t po_counts[5] = {0};
  uint16_t tx_seq = 0, last_seq = 0;
  int have_seq = 0, reopened = 0; /* a frame received yet; the device reopened since the last one */
  uint32_t seq_gaps = 0;
  double last_valid = now_ms(), last_status = 0, last_step = now_ms();
  uint8_t out[RIGLINK_MAX_FRAME];
  uint8_t rx[512];

  int fd = open_device(device);
  logline(fd >= 0 ? "link up" : "link down");
  logline("state %s", STATE_NAMES[state]);

#define SET_STATE(s)                                \
  do {                                              \
    if (state != (s)) {                             \
      state = (s);                                  \
      logline("state %s", STATE_NAMES[state]);      \
    }                                               \
  } while (0)
#define SEND(n)                                                     \
  do {                                                              \
    size_t len_ = (n);                                              \
    if (fd >= 0 && len_ && write(fd, out, len_) != (ssize_t)len_) { \
      /* a full pty buffer or a vanished link: the host judges liveness by STATUS */ \
    }                                                               \
  } while (0)

  while (!stop) {
    if (parent_gone()) {
      logline("parent gone");
      break;
    }
    faults_poll(&faults, now_ms());
    if (fd < 0) {
      usleep(1000);
      fd = open_device(device);
      if (fd >= 0) {
        logline("link up");
        rl_parser_init(&parser);
        reopened = 1;
      }
    } else {
      /* Deaf: wait without reading (a hang-up is still seen), like a stuck receive path. */
      struct pollfd pfd = {fd, faults.deaf ? 0 : POLLIN, 0};
      int r = poll(&pfd, 1, 1);
      if (r > 0 && (pfd.revents & (POLLHUP | POLLERR | POLLNVAL)) && !(pfd.revents & POLLIN)) {
        close(fd);
        fd = -1;
        logline("link down");
      } else if (r > 0 && (pfd.revents & POLLIN)) {
        ssize_t n = read(fd, rx, sizeof rx);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
          close(fd);
          fd = -1;
          logline("link down");
        }
        for (ssize_t i = 0; i < n; i++) {
          rl_event e = rl_parser_feed(&parser, rx[i]);
          if (e != RL_FRAME) continue;
          const rl_frame *f = &parser.frame;
          const uint8_t *p = f->payload;
          if (core_only && extension_type(f->type)) {
            /* What a core parser does with a type it does not know: count it, drop it. */
            parser.counters.rx_frames--;
            parser.counters.unknown_type++;
            logline("rx unknown type 0x%02x (core only)", f->type);
            continue;
          }
          last_valid = now_ms();
          if (have_seq && f->seq != (uint16_t)(last_seq + 1)) {
            seq_gaps++;
            logline("seq-gap expected %u got %u%s", (uint16_t)(last_seq + 1), f->seq, reopened ? " (after reopen)" : "");
          }
          have_seq = 1;
          reopened = 0;
          last_seq = f->seq;
          uint8_t result = RL_RESULT_OK;
          switch (f->type) {
            case RL_HELLO:
              logline("rx HELLO %u version %u", f->seq, p[0]);
              rl_playout_configure(&playout, 0, 0); /* every session configures playout afresh */
              SEND(rl_encode_hello_ack(tx_seq++, (uint8_t)axes, "riglink-mcu-sim 1.0", out));
              break;
            case RL_SETPOINT: {
              if (logf) {
                fprintf(logf, "%.3f rx SETPOINT %u %u", now_ms() - t0, f->seq, p[0]);
                for (int k = 0; k < p[1]; k++) fprintf(logf, " %u", rl_get_u16(p + 2 + 2 * k));
                fputc('\n', logf);
                fflush(logf);
              }
              if (state == RL_STATE_HOLDING) SET_STATE(RL_STATE_ENABLED);
              rl_playout_flush(&playout);
              if (state == RL_STATE_ENABLED && p[1] == axes)
                for (int k = 0; k < axes; k++) target[k] = rl_get_u16(p + 2 + 2 * k);
              break;
            }
            case RL_SETPOINT_TIMED: {
              if (state == RL_STATE_HOLDING) SET_STATE(RL_STATE_ENABLED);
              int verdict = -1;
              if (state == RL_STATE_ENABLED) {
                verdict = (int)rl_playout_offer(&playout, mcu_us(clock_ppm), p);
                po_counts[verdict]++;
              }
              if (logf) {
                fprintf(logf, "%.3f rx SETPOINT_TIMED %u %u %u %s", now_ms() - t0, f->seq, p[0], rl_get_u32(p + 2), verdict < 0 ? "ignored" : VERDICTS[verdict]);
                for (int k = 0; k < p[1]; k++) fprintf(logf, " %u", rl_get_u16(p + 6 + 2 * k));
                fputc('\n', logf);
                fflush(logf);
              }
              break;
            }
            case RL_GET_CAPS: {
              logline("rx GET_CAPS %u", f->seq);
              rl_caps caps;
              rl_playout_caps(&caps);
              SEND(rl_encode_caps(tx_seq++, &caps, out));
              break;
            }
            case RL_SET_PLAYOUT:
              result = rl_playout_configure(&playout, rl_get_u32(p), rl_get_u16(p + 4));
              logline("rx SET_PLAYOUT %u period %u ns delay %u us result %u", f->seq, rl_get_u32(p), rl_get_u16(p + 4), result);
              SEND(rl_encode_ack(tx_seq++, f->type, f->seq, result, out));
              break;
            case RL_ENABLE:
              logline("rx ENABLE %u", f->seq);
              if (state == RL_STATE_ESTOP) result = RL_RESULT_ESTOP_LATCHED;
              else if (state == RL_STATE_FAULT) result = RL_RESULT_BAD_STATE;
              else {
                for (int k = 0; k < axes; k++) target[k] = pos[k];
                SET_STATE(RL_STATE_ENABLED);
              }
              SEND(rl_encode_ack(tx_seq++, f->type, f->seq, result, out));
              break;
            case RL_PARK:
              logline("rx PARK %u", f->seq);
              if (state == RL_STATE_ESTOP) result = RL_RESULT_ESTOP_LATCHED;
              else {
                for (int k = 0; k < axes; k++) target[k] = park;
                SET_STATE(RL_STATE_PARKING);
              }
              SEND(rl_encode_ack(tx_seq++, f->type, f->seq, result, out));
              break;
            case RL_ESTOP:
              logline("rx ESTOP %u", f->seq);
              for (int k = 0; k < axes; k++) target[k] = pos[k];
              SET_STATE(RL_STATE_ESTOP);
              SEND(rl_encode_ack(tx_seq++, f->type, f->seq, result, out));
              break;
            case RL_CLEAR_ESTOP:
              logline("rx CLEAR_ESTOP %u", f->seq);
              if (state == RL_STATE_ESTOP) SET_STATE(RL_STATE_PARKED);
              else result = RL_RESULT_BAD_STATE;
              SEND(rl_encode_ack(tx_seq++, f->type, f->seq, result, out));
              break;
            case RL_SET_WATCHDOG:
              logline("rx SET_WATCHDOG %u %u %u", f->seq, rl_get_u16(p), rl_get_u16(p + 2));
              if (rl_get_u16(p) == 0 || rl_get_u16(p + 2) < rl_get_u16(p)) result = RL_RESULT_BAD_PAYLOAD;
              else {
                hold_ms = rl_get_u16(p);
                park_ms = rl_get_u16(p + 2);
              }
              SEND(rl_encode_ack(tx_seq++, f->type, f->seq, result, out));
              break;
            case RL_GET_COUNTERS:
              logline("rx GET_COUNTERS %u", f->seq);
              SEND(rl_encode_counters(tx_seq++, &parser.counters, out));
              break;
            default:
              logline("rx type 0x%02x %u (not for an MCU)", f->type, f->seq);
              break;
          }
        }
      }
    }

    double t = now_ms();
    /* Playout: only in enabled; anything queued is forgotten on leaving it (PROTOCOL.md 7.3). */
    if (state == RL_STATE_ENABLED) {
      uint16_t po_target[RIGLINK_MAX_AXES];
      if (rl_playout_target(&playout, mcu_us(clock_ppm), po_target))
        for (int k = 0; k < axes; k++) target[k] = po_target[k];
    } else {
      rl_playout_flush(&playout);
    }
    /* Watchdog: hold, then a controlled park. A link that is down is silence too. */
    double silent = t - last_valid;
    if ((state == RL_STATE_ENABLED) && silent > hold_ms) {
      for (int k = 0; k < axes; k++) target[k] = pos[k];
      SET_STATE(RL_STATE_HOLDING);
    }
    if ((state == RL_STATE_HOLDING) && silent > park_ms) {
      for (int k = 0; k < axes; k++) target[k] = park;
      SET_STATE(RL_STATE_PARKING);
    }
    /* Actuators move toward their targets at a bounded speed; in estop they stop where they are. */
    double dt = (t - last_step) / 1e3;
    last_step = t;
    int at_target = 1;
    for (int k = 0; k < axes; k++) {
      double d = target[k] - pos[k], step = speed * dt;
      if (d > step) d = step;
      else if (d < -step) d = -step;
      if (state != RL_STATE_ESTOP) pos[k] += d;
      if (pos[k] != target[k]) at_target = 0;
    }
    if (state == RL_STATE_PARKING && at_target) SET_STATE(RL_STATE_PARKED);
    if (t - last_status >= status_ms) {
      /* On a fixed grid, as the AVR firmware sends it: counted from each late wake-up (this
       * loop's poll, 1 ms plus the host's lateness) the intervals ran long, and the host's
       * stuck-STATUS check (3 in a row) took up to ~100 ms to see a deaf MCU. A whole interval
       * behind: start the grid again rather than send a burst. */
      last_status += status_ms;
      if (t - last_status >= status_ms) last_status = t;
      uint16_t positions[RIGLINK_MAX_AXES];
      uint8_t n = faults_status_positions(&faults, pos, axes, park, positions);
      SEND(rl_encode_status(tx_seq++, state, 0, last_seq, n, positions, out));
      if (playout.on) {
        rl_playout_report r;
        rl_playout_take_report(&playout, &r);
        SEND(rl_encode_playout_status(tx_seq++, &r, out));
      }
    }
  }
  if (po_counts[0] + po_counts[1] + po_counts[2] + po_counts[3] + po_counts[4])
    logline("playout accepted %u late %u stale %u outside %u overflow %u", po_counts[0] + po_counts[1], po_counts[1], po_counts[2], po_counts[3], po_counts[4]);
  logline("counters rxFrames %u badCrc %u badCobs %u truncated %u oversize %u unknownType %u badLength %u seqGaps %u", parser.counters.rx_frames, parser.counters.bad_crc,
          parser.counters.bad_cobs, parser.counters.truncated, parser.counters.oversize, parser.counters.unknown_type, parser.counters.bad_length, seq_gaps);
  if (logf) fclose(logf);
  return 0;
}
