/*
 * playout_fast_check: the AVR's 32-bit rl_playout_target_fast() against the engine's
 * rl_playout_target() on random timelines (host clock vs MCU clock off by up to ±0.5 %,
 * arrival jitter up to 3 ms, skipped and lost ticks, 1..16 axes, periods 0.5..20 ms).
 * Each step copies the engine, asks both, and requires the same frames discarded and targets
 * within 1 wire unit (2 where two frames differ by 32768 or more). First, the near product
 * both use (rl_mul_q16_near) against the 64-bit floor for every tick offset it takes and the
 * periods at and between the engine's bounds. Exit 0 and "ok N products M" when all agree.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "playout.h"
#include "playout_fast.h"

static uint32_t rng = 1;
static uint32_t rnd(void) { rng = rng * 1103515245u + 12345u; return rng >> 8; }

/* floor(d · p / 65536) in 64 bits: the reference for the near product. */
static int64_t mul_q16_ref(int32_t d, uint32_t p) {
  int64_t prod = (int64_t)d * (int64_t)p;
  return prod >= 0 ? prod / 65536 : -((-prod + 65535) / 65536);
}

/* Every offset the near product takes (|d| < 32768) at each period given. 0 if all exact. */
static long check_near_product(long *count) {
  /* period µs in Q16: the bounds (5 kHz with the rate estimate 2 % fast, 50 Hz 2 % slow), the
   * low half's edges, 1 kHz, and random ones between */
  uint32_t ps[600] = {(uint32_t)(200 * 65536.0 * 0.98), (uint32_t)(20000 * 65536.0 * 1.02), 1000u << 16, (1000u << 16) | 0xFFFFu, (1000u << 16) + 1u, 0xFFFFu, 1u};
  int n = 7;
  uint32_t lo = ps[0], hi = ps[1];
  while (n < 600) ps[n++] = lo + rnd() % (hi - lo + 1);
  for (int i = 0; i < n; i++)
    for (int32_t d = -32767; d <= 32767; d++) {
      int64_t want = mul_q16_ref(d, ps[i]);
      int32_t got = rl_mul_q16_near((int16_t)d, ps[i]);
      if (got != want) {
        printf("near product: d %ld p_q16 %lu gives %ld, want %lld\n", (long)d, (unsigned long)ps[i], (long)got, (long long)want);
        return 1;
      }
      ++*count;
    }
  return 0;
}

int main(int argc, char **argv) {
  long runs = argc > 1 ? atol(argv[1]) : 200;
  long checks = 0, products = 0;
  if (check_near_product(&products)) return 1;
  for (long r = 0; r < runs; r++) {
    uint8_t axes = (uint8_t)(1 + rnd() % 16);
    uint32_t period_ns = 500000u + rnd() % 19500000u;
    uint16_t delay = (uint16_t)(100 + rnd() % 5000);
    rl_playout pl;
    rl_playout_init(&pl, axes);
    if (rl_playout_configure(&pl, period_ns, delay) != RL_RESULT_OK) return 2;
    double ppm = ((double)(rnd() % 10001) - 5000.0); /* ±0.5 % */
    uint32_t t0 = rnd();
    uint16_t tg[16];
    for (int i = 0; i < axes; i++) tg[i] = (uint16_t)rnd();
    uint32_t k = rnd();
    double host = 0;
    double next_frame = 0;
    for (double t = 0; t < 3e6 * (period_ns / 1e6 > 5 ? 2 : 1); t += 250 + rnd() % 750) { /* MCU servo steps */
      while (next_frame <= t) {
        uint8_t p[6 + 32];
        p[0] = 1;
        p[1] = axes;
        rl_put_u32(p + 2, k);
        for (int i = 0; i < axes; i++) {
          tg[i] = rnd() % 500 ? (uint16_t)(tg[i] + (int)(rnd() % 2001) - 1000) : (uint16_t)rnd(); /* now and then a jump */
          rl_put_u16(p + 6 + 2 * i, tg[i]);
        }
        if (rnd() % 50) rl_playout_offer(&pl, t0 + (uint32_t)next_frame, p); /* 2 % lost */
        uint32_t skip = rnd() % 100 ? 1 : 1 + rnd() % 5;
        k += skip;
        host += skip * period_ns / 1e3;
        next_frame = host * (1 + ppm * 1e-6) + (rnd() % 100 < 5 ? rnd() % 3000 : rnd() % 200);
        if (next_frame < t) next_frame = t;
      }
      rl_playout a = pl, b = pl;
      uint16_t oa[16], ob[16];
      uint32_t now = t0 + (uint32_t)t;
      int ra = rl_playout_target(&a, now, oa), rb = rl_playout_target_fast(&b, now, ob);
      int big = 0; /* the segment played (after discarding) has a jump of 32768 or more */
      if (a.count >= 2)
        for (int i = 0; i < axes; i++)
          if (abs((int)a.q[(a.head + 1) % RL_PLAYOUT_QUEUE].targets[i] - (int)a.q[a.head].targets[i]) >= 32768) big = 1;
      /* played too: the engine's offer steps the anchor to an early frame only until a target
       * has come out; the fast target once left it unset, so the firmware's anchor kept
       * stepping and its rate estimate went wrong (2,574 ppm with an exact host clock). */
      if (ra != rb || a.head != b.head || a.count != b.count || a.played != b.played) {
        printf("mismatch run %ld t %.0f: engine %d (head %u count %u played %u) fast %d (head %u count %u played %u)\n", r, t, ra, a.head, a.count, a.played, rb, b.head,
               b.count, b.played);
        return 1;
      }
      for (int i = 0; ra && i < axes; i++)
        if (abs((int)oa[i] - (int)ob[i]) > (big ? 2 : 1)) {
          printf("mismatch run %ld t %.0f axis %d: engine %u fast %u\n", r, t, i, oa[i], ob[i]);
          return 1;
        }
      checks++;
      pl = a;
    }
  }
  printf("ok %ld products %ld\n", checks, products);
  return 0;
}
