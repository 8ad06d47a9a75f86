/*
 * Test driver for the playout engine (playout.c): reads commands on stdin, one per line, and
 * prints one answer line each, so the project's tests (test/unit/playout-engine.test.ts,
 * test/property/playout-window.test.ts) can drive it with timelines of their own.
 *
 *   playout_runner [axes]            (default 6)
 *   config PERIOD_NS DELAY_US        -> the ACK result (0 ok, 2 bad payload)
 *   offer T_US TICK TARGET...        -> accepted | late | stale | outside | overflow
 *                                       (TARGET count is n; flags 1)
 *   target T_US                      -> the targets, space-separated, or "none"
 *   flush                            -> ok
 *   report                           -> PLAYOUT_STATUS fields as JSON
 *   fuzz ITERATIONS SEED             -> JSON: random configs, ticks (steps, jumps, going back,
 *                                       wild), arrival times (jitter, wrapping clock) and queries;
 *                                       `violations` counts playout targets that are not between
 *                                       the targets of two frames accepted one after the other
 *                                       (never extrapolate, never invent). Run under ASan/UBSan.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "playout.h"

static uint64_t rng;
static uint32_t next(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (uint32_t)(rng >> 11);
}

/* The fuzz command: see the header. Works on its own engine; prints one JSON line. */
static void fuzz(uint8_t axes, unsigned long iterations, uint64_t seed) {
  static rl_playout pl;
  rl_playout_init(&pl, axes);
  rng = seed ? seed : 1;
  unsigned long outputs = 0, violations = 0, verdicts[5] = {0};
  /* The frames accepted, newest last (enough history for any queue). */
  enum { H = 64 };
  static uint16_t hist[H][RIGLINK_MAX_AXES];
  unsigned long accepted = 0;
  uint32_t now = 0, tick = 0;
  for (unsigned long it = 0; it < iterations; it++) {
    if (it % 2000 == 0) {
      uint32_t period = RL_PLAYOUT_MIN_PERIOD_NS + next() % (RL_PLAYOUT_MAX_PERIOD_NS - RL_PLAYOUT_MIN_PERIOD_NS);
      rl_playout_configure(&pl, period, (uint16_t)(1 + next() % RL_PLAYOUT_MAX_DELAY_US));
      now = next(); /* anywhere on the wrapping clock, wraps included */
      tick = next();
      accepted = 0;
    }
    uint32_t period_us = pl.period_ns / 1000;
    uint32_t r = next() % 100;
    if (r < 60) {
      uint8_t payload[6 + 2 * RIGLINK_MAX_AXES];
      uint32_t kind = next() % 100;
      tick += kind < 85 ? 1 : kind < 90 ? next() % 50 : kind < 95 ? (uint32_t) - (int32_t)(next() % 50) : next();
      payload[0] = 1;
      payload[1] = next() % 50 == 0 ? (uint8_t)(next() % 17) : axes;
      rl_put_u32(payload + 2, tick);
      uint16_t t[RIGLINK_MAX_AXES];
      for (uint8_t i = 0; i < axes; i++) {
        t[i] = (uint16_t)next();
        rl_put_u16(payload + 6 + 2 * i, t[i]);
      }
      rl_po_verdict v = rl_playout_offer(&pl, now, payload);
      verdicts[v]++;
      if (v == RL_PO_ACCEPTED || v == RL_PO_LATE) memcpy(hist[accepted++ % H], t, sizeof t);
    } else if (r < 95) {
      now += next() % (3 * period_us + 1);
      uint16_t out[RIGLINK_MAX_AXES];
      if (rl_playout_target(&pl, now, out)) {
        outputs++;
        int ok = 0;
        /* Between some consecutive accepted pair, or equal to an accepted frame. */
        unsigned long from = accepted > H ? accepted - H : 0;
        for (unsigned long j = from; j < accepted && !ok; j++) {
          int inside = 1;
          for (uint8_t i = 0; i < axes && inside; i++) {
            uint16_t a = hist[j % H][i], b = j + 1 < accepted ? hist[(j + 1) % H][i] : a;
            uint16_t lo = a < b ? a : b, hi = a < b ? b : a;
            inside = out[i] >= lo && out[i] <= hi;
          }
          ok = inside;
        }
        if (!ok) violations++;
      }
    } else if (r < 97) {
      rl_playout_flush(&pl);
    } else {
      now += next() % 700000; /* silences up to 0.7 s: re-anchoring */
    }
  }
  printf("{\"iterations\":%lu,\"outputs\":%lu,\"violations\":%lu,\"accepted\":%lu,\"late\":%lu,\"stale\":%lu,\"outside\":%lu,\"overflow\":%lu}\n", iterations, outputs, violations,
         verdicts[0], verdicts[1], verdicts[2], verdicts[3], verdicts[4]);
}

static const char *VERDICTS[] = {"accepted", "late", "stale", "outside", "overflow"};

int main(int argc, char **argv) {
  int axes = argc > 1 ? atoi(argv[1]) : 6;
  if (axes < 1 || axes > RIGLINK_MAX_AXES) return 2;
  static rl_playout pl;
  rl_playout_init(&pl, (uint8_t)axes);
  static char line[4096];
  while (fgets(line, sizeof line, stdin)) {
    char *save = NULL, *cmd = strtok_r(line, " \n", &save);
    if (!cmd) continue;
    if (!strcmp(cmd, "config")) {
      unsigned long period = strtoul(strtok_r(NULL, " \n", &save), NULL, 10);
      unsigned long delay = strtoul(strtok_r(NULL, " \n", &save), NULL, 10);
      printf("%u\n", rl_playout_configure(&pl, (uint32_t)period, (uint16_t)delay));
    } else if (!strcmp(cmd, "offer")) {
      uint32_t t = (uint32_t)strtoul(strtok_r(NULL, " \n", &save), NULL, 10);
      uint32_t tick = (uint32_t)strtoul(strtok_r(NULL, " \n", &save), NULL, 10);
      uint8_t payload[6 + 2 * RIGLINK_MAX_AXES];
      uint8_t n = 0;
      char *tok;
      while (n < RIGLINK_MAX_AXES && (tok = strtok_r(NULL, " \n", &save))) rl_put_u16(payload + 6 + 2 * n++, (uint16_t)strtoul(tok, NULL, 10));
      payload[0] = 1;
      payload[1] = n;
      rl_put_u32(payload + 2, tick);
      printf("%s\n", VERDICTS[rl_playout_offer(&pl, t, payload)]);
    } else if (!strcmp(cmd, "target")) {
      uint32_t t = (uint32_t)strtoul(strtok_r(NULL, " \n", &save), NULL, 10);
      uint16_t out[RIGLINK_MAX_AXES];
      if (!rl_playout_target(&pl, t, out)) printf("none\n");
      else {
        for (int i = 0; i < axes; i++) printf(i ? " %u" : "%u", out[i]);
        putchar('\n');
      }
    } else if (!strcmp(cmd, "fuzz")) {
      unsigned long n = strtoul(strtok_r(NULL, " \n", &save), NULL, 10);
      unsigned long long seed = strtoull(strtok_r(NULL, " \n", &save), NULL, 10);
      fuzz((uint8_t)axes, n, seed);
    } else if (!strcmp(cmd, "flush")) {
      rl_playout_flush(&pl);
      printf("ok\n");
    } else if (!strcmp(cmd, "report")) {
      rl_playout_report r;
      rl_playout_take_report(&pl, &r);
      printf("{\"lastTick\":%u,\"accepted\":%u,\"late\":%u,\"stale\":%u,\"outside\":%u,\"overflow\":%u,\"minLeadUs\":%d,\"rateAdjPpm\":%d}\n", r.last_tick, r.accepted, r.late, r.stale,
             r.outside, r.overflow, r.min_lead_us, r.rate_adj_ppm);
    } else {
      printf("error unknown command\n");
    }
  }
  return 0;
}
