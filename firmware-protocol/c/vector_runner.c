/*
 * Host test driver for the reference codec: reads commands on stdin, one per line, and
 * prints what the codec makes of them, so the project's tests can hold it against
 * ../vectors.json (the same file the TypeScript codec is tested against).
 *
 *   crc HEX            -> crc as a decimal number
 *   cobs-encode HEX    -> HEX
 *   cobs-decode HEX    -> HEX, or "error"
 *   encode TYPE SEQ HEX -> the wire frame as HEX (TYPE and SEQ decimal)
 *   parse HEX          -> one JSON line per event, then "end"
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "riglink.h"

static size_t unhex(const char *s, uint8_t *out, size_t cap) {
  size_t n = 0;
  while (s[0] && s[1] && s[0] != '\n' && n < cap) {
    unsigned v;
    if (sscanf(s, "%2x", &v) != 1) break;
    out[n++] = (uint8_t)v;
    s += 2;
  }
  return n;
}

static void hex(const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++) printf("%02x", p[i]);
}

static void json_string(const uint8_t *p, size_t n) {
  putchar('"');
  for (size_t i = 0; i < n; i++) {
    if (p[i] == '"' || p[i] == '\\') printf("\\%c", p[i]);
    else if (p[i] < 0x20) printf("\\u%04x", p[i]);
    else putchar(p[i]);
  }
  putchar('"');
}

static void u16_list(const uint8_t *p, unsigned n) {
  putchar('[');
  for (unsigned i = 0; i < n; i++) printf("%s%u", i ? "," : "", rl_get_u16(p + 2 * i));
  putchar(']');
}

static void fields(const rl_frame *f) {
  const uint8_t *p = f->payload;
  switch (f->type) {
    case RL_HELLO: printf("{\"version\":%u}", p[0]); break;
    case RL_SETPOINT: printf("{\"flags\":%u,\"targets\":", p[0]); u16_list(p + 2, p[1]); putchar('}'); break;
    case RL_SET_WATCHDOG: printf("{\"holdMs\":%u,\"parkMs\":%u}", rl_get_u16(p), rl_get_u16(p + 2)); break;
    case RL_HELLO_ACK: printf("{\"version\":%u,\"axes\":%u,\"firmware\":", p[0], p[1]); json_string(p + 2, f->payload_len - 2u); putchar('}'); break;
    case RL_STATUS: printf("{\"state\":%u,\"faults\":%u,\"lastSeq\":%u,\"positions\":", p[0], rl_get_u16(p + 1), rl_get_u16(p + 3)); u16_list(p + 6, p[5]); putchar('}'); break;
    case RL_ACK: printf("{\"ackedType\":%u,\"ackedSeq\":%u,\"result\":%u}", p[0], rl_get_u16(p + 1), p[3]); break;
    case RL_COUNTERS:
      printf("{\"rxFrames\":%u,\"badCrc\":%u,\"badCobs\":%u,\"oversize\":%u,\"unknownType\":%u,\"badLength\":%u}", rl_get_u32(p), rl_get_u32(p + 4), rl_get_u32(p + 8),
             rl_get_u32(p + 12), rl_get_u32(p + 16), rl_get_u32(p + 20));
      break;
    case RL_SETPOINT_TIMED: printf("{\"flags\":%u,\"tick\":%u,\"targets\":", p[0], rl_get_u32(p + 2)); u16_list(p + 6, p[1]); putchar('}'); break;
    case RL_SET_PLAYOUT: printf("{\"periodNs\":%u,\"delayUs\":%u}", rl_get_u32(p), rl_get_u16(p + 4)); break;
    case RL_CAPS:
      printf("{\"capsVersion\":%u,\"features\":%u,\"queue\":%u,\"minPeriodNs\":%u,\"maxPeriodNs\":%u,\"maxDelayUs\":%u}", p[0], p[1], p[2], rl_get_u32(p + 3), rl_get_u32(p + 7),
             rl_get_u16(p + 11));
      break;
    case RL_PLAYOUT_STATUS: {
      rl_playout_report r;
      rl_decode_playout_status(p, &r);
      printf("{\"lastTick\":%u,\"accepted\":%u,\"late\":%u,\"stale\":%u,\"outside\":%u,\"overflow\":%u,\"minLeadUs\":%d,\"rateAdjPpm\":%d}", (unsigned)r.last_tick,
             (unsigned)r.accepted, (unsigned)r.late, (unsigned)r.stale, (unsigned)r.outside, (unsigned)r.overflow, r.min_lead_us, r.rate_adj_ppm);
      break;
    }
    default: printf("{}"); break;
  }
}

static const char *error_name(rl_event e) {
  switch (e) {
    case RL_ERR_BAD_COBS: return "badCobs";
    case RL_ERR_TRUNCATED: return "truncated";
    case RL_ERR_BAD_CRC: return "badCrc";
    case RL_ERR_OVERSIZE: return "oversize";
    case RL_ERR_UNKNOWN_TYPE: return "unknownType";
    case RL_ERR_BAD_LENGTH: return "badLength";
    default: return "?";
  }
}

int main(void) {
  static char line[1 << 16];
  static uint8_t in[1 << 15], out[1 << 15];
  while (fgets(line, sizeof line, stdin)) {
    char *arg = strchr(line, ' ');
    arg = arg ? arg + 1 : line + strlen(line);
    if (strncmp(line, "crc ", 4) == 0) {
      size_t n = unhex(arg, in, sizeof in);
      printf("%u\n", rl_crc16(in, n));
    } else if (strncmp(line, "cobs-encode ", 12) == 0 || strcmp(line, "cobs-encode\n") == 0) {
      size_t n = unhex(arg, in, sizeof in);
      size_t m = rl_cobs_encode(in, n, out, sizeof out);
      hex(out, m);
      putchar('\n');
    } else if (strncmp(line, "cobs-decode ", 12) == 0) {
      size_t n = unhex(arg, in, sizeof in);
      int m = rl_cobs_decode(in, n, out, sizeof out);
      if (m < 0) printf("error\n");
      else { hex(out, (size_t)m); putchar('\n'); }
    } else if (strncmp(line, "encode ", 7) == 0) {
      unsigned type, seq;
      int used = 0;
      if (sscanf(arg, "%u %u %n", &type, &seq, &used) < 2) { printf("error\n"); continue; }
      size_t n = unhex(arg + used, in, sizeof in);
      size_t m = rl_encode((uint8_t)type, (uint16_t)seq, in, n, out);
      hex(out, m);
      putchar('\n');
    } else if (strncmp(line, "parse ", 6) == 0) {
      size_t n = unhex(arg, in, sizeof in);
      rl_parser p;
      rl_parser_init(&p);
      for (size_t i = 0; i < n; i++) {
        rl_event e = rl_parser_feed(&p, in[i]);
        if (e == RL_FRAME) {
          printf("{\"frame\":{\"typeCode\":%u,\"seq\":%u,\"payload\":\"", p.frame.type, p.frame.seq);
          hex(p.frame.payload, p.frame.payload_len);
          printf("\",\"fields\":");
          fields(&p.frame);
          printf("}}\n");
        } else if (e != RL_NONE) {
          printf("{\"error\":\"%s\"}\n", error_name(e));
        }
      }
      printf("end\n");
    } else {
      printf("error unknown command\n");
    }
    fflush(stdout);
  }
  return 0;
}
