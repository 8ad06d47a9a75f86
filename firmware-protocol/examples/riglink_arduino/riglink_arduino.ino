// RigLink on an Arduino-class board: how firmware uses the reference codec.
// Documentation, not built by the project's tests. Copy riglink.h and riglink.c from
// firmware-protocol/c next to this sketch. Motor control is left as stubs.
#include <Arduino.h>
extern "C" {
#include "riglink.h"
}

static const uint8_t AXES = 3;
static const uint16_t PARK_POSITION = 0;

static rl_parser parser;
static uint8_t state = RL_STATE_PARKED;
static uint16_t txSeq = 0, lastSeq = 0;
static uint16_t target[AXES], position[AXES];
static uint16_t holdMs = 100, parkMs = 500;
static uint32_t lastValidMs = 0, lastStatusMs = 0;
static uint8_t out[RIGLINK_MAX_FRAME];

static void send(size_t n) { if (n) Serial.write(out, n); }

static void setState(uint8_t s) { state = s; }

static void handle(const rl_frame *f) {
  const uint8_t *p = f->payload;
  uint8_t result = RL_RESULT_OK;
  lastValidMs = millis();
  lastSeq = f->seq;
  switch (f->type) {
    case RL_HELLO: send(rl_encode_hello_ack(txSeq++, AXES, "my-rig 0.1", out)); return;
    case RL_SETPOINT:
      if (state == RL_STATE_HOLDING) setState(RL_STATE_ENABLED);
      if (state == RL_STATE_ENABLED && p[1] == AXES)
        for (uint8_t i = 0; i < AXES; i++) target[i] = rl_get_u16(p + 2 + 2 * i);  // clamp to your hard limits here
      return;
    case RL_ENABLE:
      if (state == RL_STATE_ESTOP) result = RL_RESULT_ESTOP_LATCHED;
      else { for (uint8_t i = 0; i < AXES; i++) target[i] = position[i]; setState(RL_STATE_ENABLED); }
      break;
    case RL_PARK:
      if (state == RL_STATE_ESTOP) result = RL_RESULT_ESTOP_LATCHED;
      else { for (uint8_t i = 0; i < AXES; i++) target[i] = PARK_POSITION; setState(RL_STATE_PARKING); }
      break;
    case RL_ESTOP: for (uint8_t i = 0; i < AXES; i++) target[i] = position[i]; setState(RL_STATE_ESTOP); break;
    case RL_CLEAR_ESTOP: if (state == RL_STATE_ESTOP) setState(RL_STATE_PARKED); else result = RL_RESULT_BAD_STATE; break;
    case RL_SET_WATCHDOG:
      if (rl_get_u16(p) == 0 || rl_get_u16(p + 2) < rl_get_u16(p)) result = RL_RESULT_BAD_PAYLOAD;
      else { holdMs = rl_get_u16(p); parkMs = rl_get_u16(p + 2); }
      break;
    case RL_GET_COUNTERS: send(rl_encode_counters(txSeq++, &parser.counters, out)); return;
    default: return;
  }
  send(rl_encode_ack(txSeq++, f->type, f->seq, result, out));
}

void setup() {
  Serial.begin(1000000);
  rl_parser_init(&parser);
  for (uint8_t i = 0; i < AXES; i++) target[i] = position[i] = PARK_POSITION;
}

void loop() {
  while (Serial.available()) {
    if (rl_parser_feed(&parser, (uint8_t)Serial.read()) == RL_FRAME) handle(&parser.frame);
  }
  uint32_t now = millis();
  if (state == RL_STATE_ENABLED && now - lastValidMs > holdMs) {
    for (uint8_t i = 0; i < AXES; i++) target[i] = position[i];
    setState(RL_STATE_HOLDING);
  }
  if (state == RL_STATE_HOLDING && now - lastValidMs > parkMs) {
    for (uint8_t i = 0; i < AXES; i++) target[i] = PARK_POSITION;
    setState(RL_STATE_PARKING);
  }
  // moveActuatorsToward(target, position);  // your motor control, within velocity/acceleration limits
  if (state == RL_STATE_PARKING) {
    bool there = true;
    for (uint8_t i = 0; i < AXES; i++) there = there && position[i] == PARK_POSITION;
    if (there) setState(RL_STATE_PARKED);
  }
  if (now - lastStatusMs >= 20) {
    lastStatusMs = now;
    send(rl_encode_status(txSeq++, state, 0, lastSeq, AXES, position, out));
  }
}
