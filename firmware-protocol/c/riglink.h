/*
 * RigLink reference codec: framing (COBS + CRC-16/CCITT-FALSE), a byte-at-a-time parser
 * and frame encoders. Plain C99, no heap, no OS, no floating point: drop riglink.h and
 * riglink.c into any MCU project. Specification: ../PROTOCOL.md.
 */
#ifndef RIGLINK_H
#define RIGLINK_H

#include <stddef.h>
#include <stdint.h>

#define RIGLINK_VERSION 1
#define RIGLINK_MAX_AXES 16
#define RIGLINK_MAX_PAYLOAD 96
#define RIGLINK_MAX_BODY (RIGLINK_MAX_PAYLOAD + 5)    /* type, seq, payload, crc */
#define RIGLINK_MAX_ENCODED (RIGLINK_MAX_BODY + 1)    /* COBS adds one byte per 254 */
#define RIGLINK_MAX_FRAME (RIGLINK_MAX_ENCODED + 1)   /* plus the 0x00 delimiter */

/* Message types. Host → MCU below 0x80, MCU → host from 0x80. */
enum {
  RL_HELLO = 0x01,
  RL_SETPOINT = 0x10,
  RL_ENABLE = 0x20,
  RL_PARK = 0x21,
  RL_ESTOP = 0x22,
  RL_CLEAR_ESTOP = 0x23,
  RL_SET_WATCHDOG = 0x24,
  RL_GET_COUNTERS = 0x30,
  RL_HELLO_ACK = 0x81,
  RL_STATUS = 0x90,
  RL_ACK = 0xA0,
  RL_COUNTERS = 0xB0,
  /* Playout extension (PROTOCOL.md section 7); a core-only MCU counts these as unknown. */
  RL_SETPOINT_TIMED = 0x11,
  RL_SET_PLAYOUT = 0x25,
  RL_GET_CAPS = 0x31,
  RL_CAPS = 0x82,
  RL_PLAYOUT_STATUS = 0x91
};

/* STATUS state. */
enum { RL_STATE_PARKED = 0, RL_STATE_ENABLED = 1, RL_STATE_HOLDING = 2, RL_STATE_PARKING = 3, RL_STATE_ESTOP = 4, RL_STATE_FAULT = 5 };

/* ACK result. */
enum { RL_RESULT_OK = 0, RL_RESULT_BAD_STATE = 1, RL_RESULT_BAD_PAYLOAD = 2, RL_RESULT_ESTOP_LATCHED = 3, RL_RESULT_UNSUPPORTED = 4 };

/* SETPOINT flags. */
#define RL_FLAG_MOTION_ACTIVE 0x01

/* Playout extension: CAPS version and feature bits, payload sizes. */
#define RL_CAPS_VERSION 1
#define RL_FEATURE_PLAYOUT 0x01
#define RL_CAPS_MIN_LEN 13
#define RL_CAPS_MAX_LEN 32
#define RL_PLAYOUT_STATUS_LEN 28
#define RL_LEAD_NONE 0x7FFF /* PLAYOUT_STATUS minLeadUs when no frame arrived since the last report */

typedef struct {
  uint8_t features;       /* RL_FEATURE_* */
  uint8_t queue;          /* SETPOINT_TIMED frames the MCU buffers */
  uint32_t min_period_ns, max_period_ns;
  uint16_t max_delay_us;
} rl_caps;

typedef struct {
  uint32_t last_tick;     /* newest accepted tick */
  uint32_t accepted, late, stale, outside, overflow;
  int16_t min_lead_us;    /* smallest (play time - arrival) since the last report, saturated; RL_LEAD_NONE if none */
  int16_t rate_adj_ppm;   /* the MCU's current correction of the host period */
} rl_playout_report;

/* What the parser reports for one delimiter-terminated frame. */
typedef enum {
  RL_NONE = 0,       /* nothing yet (or an empty frame between two delimiters) */
  RL_FRAME,          /* a valid frame: see parser->frame */
  RL_ERR_BAD_COBS,
  RL_ERR_TRUNCATED,  /* decoded body shorter than type + seq + crc */
  RL_ERR_BAD_CRC,
  RL_ERR_OVERSIZE,   /* no delimiter within RIGLINK_MAX_ENCODED bytes; reported at the delimiter */
  RL_ERR_UNKNOWN_TYPE,
  RL_ERR_BAD_LENGTH  /* payload length wrong for its type */
} rl_event;

typedef struct {
  uint8_t type;
  uint16_t seq;
  uint8_t payload_len;
  const uint8_t *payload; /* points into the parser; valid until the next byte is fed */
} rl_frame;

typedef struct {
  uint32_t rx_frames, bad_crc, bad_cobs, truncated, oversize, unknown_type, bad_length;
} rl_counters;

typedef struct {
  uint8_t buf[RIGLINK_MAX_ENCODED];
  uint8_t body[RIGLINK_MAX_BODY];
  size_t len;
  uint8_t discarding;
  rl_frame frame;
  rl_counters counters;
} rl_parser;

void rl_parser_init(rl_parser *p);
/* Feed one received byte. Returns RL_FRAME when a valid frame completed (read p->frame),
 * an RL_ERR_* when a frame was dropped (already counted), RL_NONE otherwise. */
rl_event rl_parser_feed(rl_parser *p, uint8_t byte);

uint16_t rl_crc16(const uint8_t *data, size_t len);
/* COBS: encode len bytes into out (capacity cap); returns the encoded length or 0 if it does not fit. */
size_t rl_cobs_encode(const uint8_t *in, size_t len, uint8_t *out, size_t cap);
/* COBS: decode; returns the decoded length, or -1 for a bad encoding or too small a buffer. */
int rl_cobs_decode(const uint8_t *in, size_t len, uint8_t *out, size_t cap);

/* Whether a payload length is right for a type (host → MCU and MCU → host); -1 unknown type, 0 bad, 1 good. */
int rl_length_ok(uint8_t type, const uint8_t *payload, size_t len);

/* Encode a whole frame (COBS + delimiter) into out (at least RIGLINK_MAX_FRAME bytes). Returns its length, 0 if the payload is too long. */
size_t rl_encode(uint8_t type, uint16_t seq, const uint8_t *payload, size_t len, uint8_t *out);

/* Payload helpers: little-endian. */
static inline uint16_t rl_get_u16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t rl_get_u32(const uint8_t *p) { return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24); }
static inline void rl_put_u16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void rl_put_u32(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24); }

/* MCU-side encoders. Each returns the frame length written to out (>= RIGLINK_MAX_FRAME bytes). */
size_t rl_encode_hello_ack(uint16_t seq, uint8_t axes, const char *firmware, uint8_t *out);
size_t rl_encode_status(uint16_t seq, uint8_t state, uint16_t faults, uint16_t last_seq, uint8_t n, const uint16_t *positions, uint8_t *out);
size_t rl_encode_ack(uint16_t seq, uint8_t acked_type, uint16_t acked_seq, uint8_t result, uint8_t *out);
size_t rl_encode_counters(uint16_t seq, const rl_counters *c, uint8_t *out);
size_t rl_encode_caps(uint16_t seq, const rl_caps *caps, uint8_t *out);
size_t rl_encode_playout_status(uint16_t seq, const rl_playout_report *r, uint8_t *out);
/* Host-side encoders (the host has its own TypeScript codec; these are for tests and C hosts). */
size_t rl_encode_setpoint(uint16_t seq, uint8_t flags, uint8_t n, const uint16_t *targets, uint8_t *out);
size_t rl_encode_setpoint_timed(uint16_t seq, uint8_t flags, uint32_t tick, uint8_t n, const uint16_t *targets, uint8_t *out);
size_t rl_encode_set_playout(uint16_t seq, uint32_t period_ns, uint16_t delay_us, uint8_t *out);
/* Host-side decoder: a PLAYOUT_STATUS payload (RL_PLAYOUT_STATUS_LEN bytes, as the parser
 * checked) into its fields; the inverse of rl_encode_playout_status. */
void rl_decode_playout_status(const uint8_t *payload, rl_playout_report *r);

#endif
