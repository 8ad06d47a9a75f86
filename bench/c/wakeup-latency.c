/*
 * What the machine allows a 1 kHz control loop, with no Node in the way: how late a thread
 * that sleeps to each 1 ms deadline wakes (clock_nanosleep, absolute), with the default timer
 * slack and with 1 ns; and how late a thread that never sleeps sees each deadline (only the
 * hypervisor or the kernel taking the CPU away can make it late). bench/wakeup-latency.ts
 * builds and runs it.
 *
 * A stall leaves the deadlines it covered in the past: each of them counts as late as the
 * stall made it, which is when a frame for that instant could first have been sent. So the
 * per-million counts over 1 ms and 2 ms are the floor for MCU-timed playout misses at those
 * delays (bench/service's playoutMissPerMillion): no loop on this machine can do better.
 *
 * sleep-fifo is sleep-slack1 under SCHED_FIFO priority 10, as the service's control thread runs
 * (loop.realtimePriority); it needs root or RLIMIT_RTPRIO and fails (exit 3) without.
 *
 *   wakeup-latency sleep|sleep-slack1|sleep-fifo|spin SECONDS   → one JSON line, µs
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/prctl.h>
#include <time.h>

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}
static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "sleep";
  int n = (argc > 2 ? atoi(argv[2]) : 5) * 1000;
  double *late = malloc((size_t)n * sizeof *late);
  if (!late || n <= 0) return 2;
  if (!strcmp(mode, "sleep-slack1") || !strcmp(mode, "sleep-fifo")) prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
  if (!strcmp(mode, "sleep-fifo")) {
    struct sched_param sp = { .sched_priority = 10 };
    if (sched_setscheduler(0, SCHED_FIFO, &sp) != 0) { perror("sched_setscheduler"); return 3; }
  }
  struct timespec d;
  clock_gettime(CLOCK_MONOTONIC, &d);
  for (int k = 0; k < n; k++) {
    d.tv_nsec += 1000000;
    if (d.tv_nsec >= 1000000000) { d.tv_nsec -= 1000000000; d.tv_sec++; }
    double deadline = d.tv_sec * 1e6 + d.tv_nsec / 1e3, t;
    if (!strcmp(mode, "spin")) while ((t = now_us()) < deadline) {}
    else { clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &d, NULL); t = now_us(); }
    late[k] = t - deadline;
  }
  qsort(late, (size_t)n, sizeof *late, cmp);
  int over = 0, over1ms = 0, over2ms = 0;
  for (int k = 0; k < n; k++) {
    over += late[k] > 20;
    over1ms += late[k] > 1000;
    over2ms += late[k] > 2000;
  }
  printf("{\"mode\":\"%s\",\"ticks\":%d,\"lateUs\":{\"p50\":%.1f,\"p99\":%.1f,\"p999\":%.1f,\"p9999\":%.1f,\"max\":%.1f},\"over20UsPct\":%.2f,"
         "\"over1msPerMillion\":%.1f,\"over2msPerMillion\":%.1f}\n", mode, n,
         late[n / 2], late[n * 99 / 100], late[n * 999 / 1000], late[(long)n * 9999 / 10000], late[n - 1], 100.0 * over / n,
         1e6 * over1ms / n, 1e6 * over2ms / n);
  return 0;
}
