/*
 * Fault injection for the MCU simulator: an MCU that misbehaves on demand, so that tests can
 * check how the host copes with one that stops listening or reports a STATUS it must not
 * trust. None of it is on unless asked for.
 *
 *   --deaf-file PATH        while PATH exists, the simulator does not read its device: bytes
 *                           pile up in the pty (and socat), STATUS still goes out every
 *                           period and the watchdog still runs on the frames it did read,
 *                           like an MCU whose receive path is stuck. Logs "deaf on" and
 *                           "deaf off". The link going down is still noticed.
 *   --status-axes N         STATUS carries N positions (0..16) instead of the axis count:
 *                           the first N real ones, the park position for any beyond the axes.
 *   --status-lie-file PATH  while PATH exists, STATUS positions are its content (a decimal
 *                           integer, wire units, may be negative, clamped to ±65535) plus
 *                           the real positions, each clamped to 0..65535. Logs "status-lie on OFFSET" when the file
 *                           appears or its value changes, "status-lie off" when it goes;
 *                           content that is not an integer counts as 0 and logs
 *                           "status-lie on 0 (not a decimal integer)". Write it atomically
 *                           (write elsewhere, then rename) or expect a read of a half file.
 *
 * The files are looked at with stat() at most every FAULT_CHECK_MS, so a change takes effect
 * within that time plus one loop pass (~1 ms).
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mcu_sim.h"
#include "riglink.h"

#define FAULT_CHECK_MS 5

void faults_init(sim_faults *f) {
  memset(f, 0, sizeof *f);
  f->status_axes = -1;
  f->last_check = -1e9;
}

int faults_option(sim_faults *f, const char *name, const char *value) {
  if (!strcmp(name, "--deaf-file")) f->deaf_path = value;
  else if (!strcmp(name, "--status-lie-file")) f->lie_path = value;
  else if (!strcmp(name, "--status-axes")) {
    char *end;
    long n = strtol(value, &end, 10);
    if (end == value || *end || n < 0 || n > RIGLINK_MAX_AXES) return -1;
    f->status_axes = (int)n;
  } else return 0;
  return 1;
}

/* The lie file's offset; *ok 0 when its content is not one decimal integer. */
static long read_offset(const char *path, int *ok) {
  char buf[32];
  size_t n = 0;
  FILE *fp = fopen(path, "r");
  if (fp) {
    n = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
  }
  buf[n] = 0;
  char *end;
  errno = 0;
  long v = strtol(buf, &end, 10);
  while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n') end++;
  *ok = end != buf && !*end && !errno;
  if (!*ok) return 0;
  return v < -65535 ? -65535 : v > 65535 ? 65535 : v;
}

void faults_poll(sim_faults *f, double now) {
  if (now - f->last_check < FAULT_CHECK_MS) return;
  f->last_check = now;
  struct stat st;
  if (f->deaf_path) {
    int deaf = stat(f->deaf_path, &st) == 0;
    if (deaf != f->deaf) logline(deaf ? "deaf on" : "deaf off");
    f->deaf = deaf;
  }
  if (f->lie_path) {
    if (stat(f->lie_path, &st) != 0) {
      if (f->lying) logline("status-lie off");
      f->lying = 0;
      return;
    }
    long long mtime_ns = (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
    if (f->lying && mtime_ns == f->lie_mtime_ns && (long long)st.st_size == f->lie_size) return;
    int ok;
    long offset = read_offset(f->lie_path, &ok);
    if (!f->lying || offset != f->lie_offset) logline("status-lie on %ld%s", offset, ok ? "" : " (not a decimal integer)");
    f->lying = 1;
    f->lie_offset = offset;
    f->lie_mtime_ns = mtime_ns;
    f->lie_size = (long long)st.st_size;
  }
}

uint8_t faults_status_positions(const sim_faults *f, const double *pos, int axes, uint16_t park, uint16_t *out) {
  int n = f->status_axes >= 0 ? f->status_axes : axes;
  for (int k = 0; k < n; k++) {
    long v = k < axes ? (long)(pos[k] + 0.5) : park;
    if (f->lying) v += f->lie_offset;
    out[k] = (uint16_t)(v < 0 ? 0 : v > 65535 ? 65535 : v);
  }
  return (uint8_t)n;
}
