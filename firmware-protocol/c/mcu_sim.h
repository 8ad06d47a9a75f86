/*
 * Shared between the MCU simulator's files: mcu_sim.c (the MCU) and mcu_sim_faults.c
 * (misbehaviour on demand for tests).
 */
#ifndef MCU_SIM_H
#define MCU_SIM_H

#include <stdint.h>

/* One line in the --log file: milliseconds since start, then the text. */
void logline(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

typedef struct {
  const char *deaf_path;     /* --deaf-file: while it exists, the device is not read */
  const char *lie_path;      /* --status-lie-file: while it exists, STATUS positions are offset */
  int status_axes;           /* --status-axes: positions in STATUS; -1 = the axis count */
  int deaf, lying;           /* what the last look at the files found */
  long lie_offset;           /* wire units, from the lie file */
  long long lie_mtime_ns, lie_size; /* the lie file as last read: re-read when either changes */
  double last_check;         /* ms, when the files were last looked at */
} sim_faults;

void faults_init(sim_faults *f);
/* A fault option and its value: 1 taken, 0 not a fault option, -1 a bad value. */
int faults_option(sim_faults *f, const char *name, const char *value);
/* Looks at the files (stat, at most every few ms) and logs each change. */
void faults_poll(sim_faults *f, double now);
/* STATUS positions as the faults say: count (returned) and values from the real positions. */
uint8_t faults_status_positions(const sim_faults *f, const double *pos, int axes, uint16_t park, uint16_t *out);

#endif
