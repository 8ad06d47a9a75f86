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
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "playout.h"

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
