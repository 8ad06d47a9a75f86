#include "riglink.h"

#include <string.h>

/* CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection, xorout 0. */
#ifndef RL_CRC16_TABLE
/* Bitwise: 16 bytes of code instead of a 512-byte table, fast enough for a few kB/s. */
uint16_t rl_crc16(const uint8_t *data, size_t len) {
  uint16_t crc = 0xFFFF;
  for (size_t i = 0; i < len; i++) {
    crc ^= (uint16_t)data[i] << 8;
    for (int b = 0; b < 8; b++) crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
  }
  return crc;
}
#else
/* -DRL_CRC16_TABLE: a byte at a time from a 512-byte table (in flash on an AVR), for an MCU
 * that checks a frame every millisecond: bitwise, the CRC took 11 % of the Mega's cycles at
 * the 1 kHz stream (docs/firmware.md). Entry i is the bitwise CRC register after shifting
 * i << 8 through the 8 steps above; the vector tests run both builds. */
#ifdef __AVR__
#include <avr/pgmspace.h>
#define RL_CRC_ROM PROGMEM
#define RL_CRC_AT(i) pgm_read_word(&crc_table[i])
#else
#define RL_CRC_ROM
#define RL_CRC_AT(i) crc_table[i]
#endif
static const uint16_t crc_table[256] RL_CRC_ROM = {
    0x0000, 0x1021, 0x2042, 0x3063, 0x4084, 0x50A5, 0x60C6, 0x70E7,
    0x8108, 0x9129, 0xA14A, 0xB16B, 0xC18C, 0xD1AD, 0xE1CE, 0xF1EF,
    0x1231, 0x0210, 0x3273, 0x2252, 0x52B5, 0x4294, 0x72F7, 0x62D6,
    0x9339, 0x8318, 0xB37B, 0xA35A, 0xD3BD, 0xC39C, 0xF3FF, 0xE3DE,
    0x2462, 0x3443, 0x0420, 0x1401, 0x64E6, 0x74C7, 0x44A4, 0x5485,
    0xA56A, 0xB54B, 0x8528, 0x9509, 0xE5EE, 0xF5CF, 0xC5AC, 0xD58D,
    0x3653, 0x2672, 0x1611, 0x0630, 0x76D7, 0x66F6, 0x5695, 0x46B4,
    0xB75B, 0xA77A, 0x9719, 0x8738, 0xF7DF, 0xE7FE, 0xD79D, 0xC7BC,
    0x48C4, 0x58E5, 0x6886, 0x78A7, 0x0840, 0x1861, 0x2802, 0x3823,
    0xC9CC, 0xD9ED, 0xE98E, 0xF9AF, 0x8948, 0x9969, 0xA90A, 0xB92B,
    0x5AF5, 0x4AD4, 0x7AB7, 0x6A96, 0x1A71, 0x0A50, 0x3A33, 0x2A12,
    0xDBFD, 0xCBDC, 0xFBBF, 0xEB9E, 0x9B79, 0x8B58, 0xBB3B, 0xAB1A,
    0x6CA6, 0x7C87, 0x4CE4, 0x5CC5, 0x2C22, 0x3C03, 0x0C60, 0x1C41,
    0xEDAE, 0xFD8F, 0xCDEC, 0xDDCD, 0xAD2A, 0xBD0B, 0x8D68, 0x9D49,
    0x7E97, 0x6EB6, 0x5ED5, 0x4EF4, 0x3E13, 0x2E32, 0x1E51, 0x0E70,
    0xFF9F, 0xEFBE, 0xDFDD, 0xCFFC, 0xBF1B, 0xAF3A, 0x9F59, 0x8F78,
    0x9188, 0x81A9, 0xB1CA, 0xA1EB, 0xD10C, 0xC12D, 0xF14E, 0xE16F,
    0x1080, 0x00A1, 0x30C2, 0x20E3, 0x5004, 0x4025, 0x7046, 0x6067,
    0x83B9, 0x9398, 0xA3FB, 0xB3DA, 0xC33D, 0xD31C, 0xE37F, 0xF35E,
    0x02B1, 0x1290, 0x22F3, 0x32D2, 0x4235, 0x5214, 0x6277, 0x7256,
    0xB5EA, 0xA5CB, 0x95A8, 0x8589, 0xF56E, 0xE54F, 0xD52C, 0xC50D,
    0x34E2, 0x24C3, 0x14A0, 0x0481, 0x7466, 0x6447, 0x5424, 0x4405,
    0xA7DB, 0xB7FA, 0x8799, 0x97B8, 0xE75F, 0xF77E, 0xC71D, 0xD73C,
    0x26D3, 0x36F2, 0x0691, 0x16B0, 0x6657, 0x7676, 0x4615, 0x5634,
    0xD94C, 0xC96D, 0xF90E, 0xE92F, 0x99C8, 0x89E9, 0xB98A, 0xA9AB,
    0x5844, 0x4865, 0x7806, 0x6827, 0x18C0, 0x08E1, 0x3882, 0x28A3,
    0xCB7D, 0xDB5C, 0xEB3F, 0xFB1E, 0x8BF9, 0x9BD8, 0xABBB, 0xBB9A,
    0x4A75, 0x5A54, 0x6A37, 0x7A16, 0x0AF1, 0x1AD0, 0x2AB3, 0x3A92,
    0xFD2E, 0xED0F, 0xDD6C, 0xCD4D, 0xBDAA, 0xAD8B, 0x9DE8, 0x8DC9,
    0x7C26, 0x6C07, 0x5C64, 0x4C45, 0x3CA2, 0x2C83, 0x1CE0, 0x0CC1,
    0xEF1F, 0xFF3E, 0xCF5D, 0xDF7C, 0xAF9B, 0xBFBA, 0x8FD9, 0x9FF8,
    0x6E17, 0x7E36, 0x4E55, 0x5E74, 0x2E93, 0x3EB2, 0x0ED1, 0x1EF0,
};
uint16_t rl_crc16(const uint8_t *data, size_t len) {
  uint16_t crc = 0xFFFF;
  for (size_t i = 0; i < len; i++) crc = (uint16_t)((crc << 8) ^ RL_CRC_AT((uint8_t)((crc >> 8) ^ data[i])));
  return crc;
}
#endif

size_t rl_cobs_encode(const uint8_t *in, size_t len, uint8_t *out, size_t cap) {
  if (cap == 0) return 0;
  size_t code_at = 0, o = 1;
  uint8_t code = 1;
  for (size_t i = 0; i < len; i++) {
    if (in[i] == 0) {
      out[code_at] = code;
      code_at = o++;
      code = 1;
      if (o > cap) return 0;
    } else {
      if (o >= cap) return 0;
      out[o++] = in[i];
      if (++code == 0xFF) {
        out[code_at] = code;
        code_at = o++;
        code = 1;
        if (o > cap) return 0;
      }
    }
  }
  out[code_at] = code;
  return o;
}

int rl_cobs_decode(const uint8_t *in, size_t len, uint8_t *out, size_t cap) {
  size_t i = 0, o = 0;
  while (i < len) {
    uint8_t code = in[i++];
    if (code == 0) return -1;
    for (uint8_t k = 1; k < code; k++) {
      if (i >= len || in[i] == 0 || o >= cap) return -1;
      out[o++] = in[i++];
    }
    if (code != 0xFF && i < len) {
      if (o >= cap) return -1;
      out[o++] = 0;
    }
  }
  return (int)o;
}

int rl_length_ok(uint8_t type, const uint8_t *payload, size_t len) {
  switch (type) {
    case RL_HELLO: return len == 1;
    case RL_SETPOINT: return len >= 2 && payload[1] <= RIGLINK_MAX_AXES && len == 2u + 2u * payload[1];
    case RL_ENABLE: case RL_PARK: case RL_ESTOP: case RL_CLEAR_ESTOP: case RL_GET_COUNTERS: return len == 0;
    case RL_SET_WATCHDOG: return len == 4;
    case RL_HELLO_ACK: return len >= 2 && len <= 2 + 64;
    case RL_STATUS: return len >= 6 && payload[5] <= RIGLINK_MAX_AXES && len == 6u + 2u * payload[5];
    case RL_ACK: return len == 4;
    case RL_COUNTERS: return len == 24;
    case RL_SETPOINT_TIMED: return len >= 6 && payload[1] <= RIGLINK_MAX_AXES && len == 6u + 2u * payload[1];
    case RL_SET_PLAYOUT: return len == 6;
    case RL_GET_CAPS: return len == 0;
    case RL_CAPS: return len >= RL_CAPS_MIN_LEN && len <= RL_CAPS_MAX_LEN;
    case RL_PLAYOUT_STATUS: return len == RL_PLAYOUT_STATUS_LEN;
    default: return -1;
  }
}

void rl_parser_init(rl_parser *p) { memset(p, 0, sizeof *p); }

static rl_event finish(rl_parser *p) {
  int n = rl_cobs_decode(p->buf, p->len, p->body, sizeof p->body);
  p->len = 0;
  if (n < 0) { p->counters.bad_cobs++; return RL_ERR_BAD_COBS; }
  if (n < 5) { p->counters.truncated++; return RL_ERR_TRUNCATED; }
  size_t body_len = (size_t)n;
  uint16_t crc = rl_get_u16(p->body + body_len - 2);
  if (rl_crc16(p->body, body_len - 2) != crc) { p->counters.bad_crc++; return RL_ERR_BAD_CRC; }
  const uint8_t *payload = p->body + 3;
  size_t payload_len = body_len - 5;
  int ok = rl_length_ok(p->body[0], payload, payload_len);
  if (ok < 0) { p->counters.unknown_type++; return RL_ERR_UNKNOWN_TYPE; }
  if (ok == 0) { p->counters.bad_length++; return RL_ERR_BAD_LENGTH; }
  p->frame.type = p->body[0];
  p->frame.seq = rl_get_u16(p->body + 1);
  p->frame.payload = payload;
  p->frame.payload_len = (uint8_t)payload_len;
  p->counters.rx_frames++;
  return RL_FRAME;
}

rl_event rl_parser_feed(rl_parser *p, uint8_t byte) {
  if (byte == 0) {
    if (p->discarding) {
      p->discarding = 0;
      p->len = 0;
      p->counters.oversize++;
      return RL_ERR_OVERSIZE;
    }
    if (p->len == 0) return RL_NONE; /* empty frame: extra delimiters are allowed */
    return finish(p);
  }
  if (p->discarding) return RL_NONE;
  if (p->len >= sizeof p->buf) {
    p->discarding = 1;
    return RL_NONE;
  }
  p->buf[p->len++] = byte;
  return RL_NONE;
}

size_t rl_encode(uint8_t type, uint16_t seq, const uint8_t *payload, size_t len, uint8_t *out) {
  uint8_t body[RIGLINK_MAX_BODY];
  if (len > RIGLINK_MAX_PAYLOAD) return 0;
  body[0] = type;
  rl_put_u16(body + 1, seq);
  if (len) memcpy(body + 3, payload, len);
  rl_put_u16(body + 3 + len, rl_crc16(body, 3 + len));
  size_t n = rl_cobs_encode(body, len + 5, out, RIGLINK_MAX_ENCODED);
  if (n == 0) return 0;
  out[n] = 0;
  return n + 1;
}

size_t rl_encode_hello_ack(uint16_t seq, uint8_t axes, const char *firmware, uint8_t *out) {
  uint8_t payload[2 + 64];
  size_t name = strlen(firmware);
  if (name > 64) name = 64;
  payload[0] = RIGLINK_VERSION;
  payload[1] = axes;
  memcpy(payload + 2, firmware, name);
  return rl_encode(RL_HELLO_ACK, seq, payload, 2 + name, out);
}

size_t rl_encode_status(uint16_t seq, uint8_t state, uint16_t faults, uint16_t last_seq, uint8_t n, const uint16_t *positions, uint8_t *out) {
  uint8_t payload[6 + 2 * RIGLINK_MAX_AXES];
  if (n > RIGLINK_MAX_AXES) return 0;
  payload[0] = state;
  rl_put_u16(payload + 1, faults);
  rl_put_u16(payload + 3, last_seq);
  payload[5] = n;
  for (uint8_t i = 0; i < n; i++) rl_put_u16(payload + 6 + 2 * i, positions[i]);
  return rl_encode(RL_STATUS, seq, payload, 6u + 2u * n, out);
}

size_t rl_encode_ack(uint16_t seq, uint8_t acked_type, uint16_t acked_seq, uint8_t result, uint8_t *out) {
  uint8_t payload[4] = {acked_type, 0, 0, result};
  rl_put_u16(payload + 1, acked_seq);
  return rl_encode(RL_ACK, seq, payload, 4, out);
}

size_t rl_encode_counters(uint16_t seq, const rl_counters *c, uint8_t *out) {
  uint8_t payload[24];
  rl_put_u32(payload, c->rx_frames);
  rl_put_u32(payload + 4, c->bad_crc);
  rl_put_u32(payload + 8, c->bad_cobs + c->truncated);
  rl_put_u32(payload + 12, c->oversize);
  rl_put_u32(payload + 16, c->unknown_type);
  rl_put_u32(payload + 20, c->bad_length);
  return rl_encode(RL_COUNTERS, seq, payload, 24, out);
}

size_t rl_encode_setpoint(uint16_t seq, uint8_t flags, uint8_t n, const uint16_t *targets, uint8_t *out) {
  uint8_t payload[2 + 2 * RIGLINK_MAX_AXES];
  if (n > RIGLINK_MAX_AXES) return 0;
  payload[0] = flags;
  payload[1] = n;
  for (uint8_t i = 0; i < n; i++) rl_put_u16(payload + 2 + 2 * i, targets[i]);
  return rl_encode(RL_SETPOINT, seq, payload, 2u + 2u * n, out);
}

size_t rl_encode_caps(uint16_t seq, const rl_caps *caps, uint8_t *out) {
  uint8_t payload[RL_CAPS_MIN_LEN];
  payload[0] = RL_CAPS_VERSION;
  payload[1] = caps->features;
  payload[2] = caps->queue;
  rl_put_u32(payload + 3, caps->min_period_ns);
  rl_put_u32(payload + 7, caps->max_period_ns);
  rl_put_u16(payload + 11, caps->max_delay_us);
  return rl_encode(RL_CAPS, seq, payload, sizeof payload, out);
}

size_t rl_encode_playout_status(uint16_t seq, const rl_playout_report *r, uint8_t *out) {
  uint8_t payload[RL_PLAYOUT_STATUS_LEN];
  rl_put_u32(payload, r->last_tick);
  rl_put_u32(payload + 4, r->accepted);
  rl_put_u32(payload + 8, r->late);
  rl_put_u32(payload + 12, r->stale);
  rl_put_u32(payload + 16, r->outside);
  rl_put_u32(payload + 20, r->overflow);
  rl_put_u16(payload + 24, (uint16_t)r->min_lead_us);
  rl_put_u16(payload + 26, (uint16_t)r->rate_adj_ppm);
  return rl_encode(RL_PLAYOUT_STATUS, seq, payload, sizeof payload, out);
}

void rl_decode_playout_status(const uint8_t *p, rl_playout_report *r) {
  r->last_tick = rl_get_u32(p);
  r->accepted = rl_get_u32(p + 4);
  r->late = rl_get_u32(p + 8);
  r->stale = rl_get_u32(p + 12);
  r->outside = rl_get_u32(p + 16);
  r->overflow = rl_get_u32(p + 20);
  r->min_lead_us = (int16_t)rl_get_u16(p + 24);
  r->rate_adj_ppm = (int16_t)rl_get_u16(p + 26);
}

size_t rl_encode_setpoint_timed(uint16_t seq, uint8_t flags, uint32_t tick, uint8_t n, const uint16_t *targets, uint8_t *out) {
  uint8_t payload[6 + 2 * RIGLINK_MAX_AXES];
  if (n > RIGLINK_MAX_AXES) return 0;
  payload[0] = flags;
  payload[1] = n;
  rl_put_u32(payload + 2, tick);
  for (uint8_t i = 0; i < n; i++) rl_put_u16(payload + 6 + 2 * i, targets[i]);
  return rl_encode(RL_SETPOINT_TIMED, seq, payload, 6u + 2u * n, out);
}

size_t rl_encode_set_playout(uint16_t seq, uint32_t period_ns, uint16_t delay_us, uint8_t *out) {
  uint8_t payload[6];
  rl_put_u32(payload, period_ns);
  rl_put_u16(payload + 4, delay_us);
  return rl_encode(RL_SET_PLAYOUT, seq, payload, sizeof payload, out);
}
