#!/usr/bin/env python3
"""Writes ../vectors.json: RigLink frames as bytes with their meaning, good and bad.

A third implementation of the framing (besides the TypeScript and C codecs), written
straight from PROTOCOL.md, so the vectors are not the output of the code they test.
Run: python3 firmware-protocol/tools/make_vectors.py  (stdlib only).
"""
import json, os, struct

def crc16_ccitt_false(data: bytes) -> int:
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return crc

assert crc16_ccitt_false(b"123456789") == 0x29B1

def cobs_encode(data: bytes) -> bytes:
    out, block = bytearray(), bytearray()
    for b in data:
        if b == 0:
            out += bytes([len(block) + 1]) + block
            block = bytearray()
        else:
            block.append(b)
            if len(block) == 254:
                out += bytes([255]) + block
                block = bytearray()
    out += bytes([len(block) + 1]) + block
    return bytes(out)

def body(type_: int, seq: int, payload: bytes) -> bytes:
    head = bytes([type_]) + struct.pack("<H", seq) + payload
    return head + struct.pack("<H", crc16_ccitt_false(head))

def frame(type_: int, seq: int, payload: bytes) -> bytes:
    return cobs_encode(body(type_, seq, payload)) + b"\x00"

TYPES = {
    0x01: "HELLO", 0x10: "SETPOINT", 0x20: "ENABLE", 0x21: "PARK", 0x22: "ESTOP",
    0x23: "CLEAR_ESTOP", 0x24: "SET_WATCHDOG", 0x30: "GET_COUNTERS",
    0x81: "HELLO_ACK", 0x90: "STATUS", 0xA0: "ACK", 0xB0: "COUNTERS",
    # Playout extension (PROTOCOL.md §7)
    0x11: "SETPOINT_TIMED", 0x25: "SET_PLAYOUT", 0x31: "GET_CAPS", 0x82: "CAPS", 0x91: "PLAYOUT_STATUS",
}
CODE = {v: k for k, v in TYPES.items()}

def msg(name, seq, payload, fields):
    return {"type": name, "typeCode": CODE[name], "seq": seq, "payload": payload.hex(), "fields": fields}

MAX_PAYLOAD = 96  # bytes; a body is at most 1 + 2 + 96 + 2 = 101, its COBS encoding at most 102
vectors = {"limits": {"maxPayload": MAX_PAYLOAD, "maxBody": MAX_PAYLOAD + 5, "maxEncoded": MAX_PAYLOAD + 6, "maxAxes": 16}, "crc": [], "cobs": [], "frames": [], "bad": []}

for text in ["123456789", "", "A", "RigLink"]:
    vectors["crc"].append({"ascii": text, "crc": crc16_ccitt_false(text.encode())})
vectors["crc"].append({"hex": "0000", "crc": crc16_ccitt_false(b"\0\0")})
vectors["crc"].append({"hex": "ff" * 4, "crc": crc16_ccitt_false(b"\xff" * 4)})

for data in [b"", b"\x00", b"\x00\x00", b"\x11\x22\x00\x33", b"\x11\x22\x33\x44", b"\x11\x00\x00\x00",
             bytes(range(1, 255)), bytes(range(1, 256)), bytes(range(0, 256)), b"\x01" * 300]:
    vectors["cobs"].append({"decoded": data.hex(), "encoded": cobs_encode(data).hex()})

def add(name, direction, type_name, seq, payload, fields, note=None):
    entry = {"name": name, "direction": direction, "wire": frame(CODE[type_name], seq, payload).hex(),
             "message": msg(type_name, seq, payload, fields)}
    if note:
        entry["note"] = note
    vectors["frames"].append(entry)

def setpoint(flags, targets):
    return bytes([flags, len(targets)]) + b"".join(struct.pack("<H", t) for t in targets)

add("hello", "host-to-mcu", "HELLO", 0, b"\x01", {"version": 1})
add("enable", "host-to-mcu", "ENABLE", 1, b"", {})
for name, seq, flags, targets in [
    ("setpoint centre, 6 axes, motion active", 2, 1, [32768] * 6),
    ("setpoint ends and zero bytes", 3, 1, [0, 65535, 0x0100, 0x00FF, 0x8000, 0x0001]),
    ("setpoint holding (flags 0), 3 axes", 4, 0, [1000, 2000, 3000]),
    ("setpoint 16 axes (the most a frame carries)", 0xFFFF, 1, [i * 4096 + 7 for i in range(16)]),
    ("setpoint no axes", 5, 0, []),
]:
    add(name, "host-to-mcu", "SETPOINT", seq, setpoint(flags, targets), {"flags": flags, "targets": targets})
add("park", "host-to-mcu", "PARK", 6, b"", {})
add("estop", "host-to-mcu", "ESTOP", 7, b"", {})
add("clear estop", "host-to-mcu", "CLEAR_ESTOP", 8, b"", {})
add("set watchdog 100/500 ms", "host-to-mcu", "SET_WATCHDOG", 9, struct.pack("<HH", 100, 500), {"holdMs": 100, "parkMs": 500})
add("get counters", "host-to-mcu", "GET_COUNTERS", 10, b"", {})
fw = "riglink-ref 1.0.0".encode()
add("hello ack", "mcu-to-host", "HELLO_ACK", 0, bytes([1, 6]) + fw, {"version": 1, "axes": 6, "firmware": "riglink-ref 1.0.0"})
add("hello ack, UTF-8 firmware name", "mcu-to-host", "HELLO_ACK", 1, bytes([1, 3]) + "Prüfstand".encode(), {"version": 1, "axes": 3, "firmware": "Prüfstand"})
for name, seq, state, faults, last, positions in [
    ("status parked", 2, 0, 0, 0, [0] * 6),
    ("status enabled", 3, 1, 0, 2, [32768, 32000, 33000, 0, 65535, 12345]),
    ("status estop with faults", 4, 4, 0x0102, 7, [100, 200]),
    ("status fault, no axes", 5, 5, 0xFFFF, 0xFFFF, []),
]:
    add(name, "mcu-to-host", "STATUS", seq, bytes([state]) + struct.pack("<HHB", faults, last, len(positions)) + b"".join(struct.pack("<H", p) for p in positions),
        {"state": state, "faults": faults, "lastSeq": last, "positions": positions})
add("ack enable ok", "mcu-to-host", "ACK", 6, bytes([0x20]) + struct.pack("<H", 1) + b"\x00", {"ackedType": 0x20, "ackedSeq": 1, "result": 0})
add("ack enable refused in estop", "mcu-to-host", "ACK", 7, bytes([0x20]) + struct.pack("<H", 12) + b"\x03", {"ackedType": 0x20, "ackedSeq": 12, "result": 3})
counters = [1000, 1, 2, 3, 4, 5]
add("counters", "mcu-to-host", "COUNTERS", 8, b"".join(struct.pack("<I", c) for c in counters),
    {"rxFrames": 1000, "badCrc": 1, "badCobs": 2, "oversize": 3, "unknownType": 4, "badLength": 5})

# Playout extension (PROTOCOL.md §7).
def setpoint_timed(flags, tick, targets):
    return bytes([flags, len(targets)]) + struct.pack("<I", tick) + b"".join(struct.pack("<H", t) for t in targets)

add("get caps", "host-to-mcu", "GET_CAPS", 11, b"", {})
add("set playout 1 kHz, 2 ms delay", "host-to-mcu", "SET_PLAYOUT", 12, struct.pack("<IH", 1_000_000, 2000), {"periodNs": 1_000_000, "delayUs": 2000})
add("set playout 3 kHz (period not whole microseconds), 1 ms delay", "host-to-mcu", "SET_PLAYOUT", 13, struct.pack("<IH", 333_333, 1000), {"periodNs": 333_333, "delayUs": 1000})
add("set playout off", "host-to-mcu", "SET_PLAYOUT", 14, struct.pack("<IH", 0, 0), {"periodNs": 0, "delayUs": 0})
for name, seq, flags, tick, targets in [
    ("setpoint timed, 6 axes, tick 1000", 15, 1, 1000, [32768] * 6),
    ("setpoint timed, tick with zero bytes and ends", 16, 1, 0x01000000, [0, 65535, 0x0100, 0x00FF, 0x8000, 0x0001]),
    ("setpoint timed, tick 2^32-1 (wraps next)", 17, 0, 0xFFFFFFFF, [1000, 2000, 3000]),
    ("setpoint timed, 16 axes", 18, 1, 123456789, [i * 4096 + 7 for i in range(16)]),
    ("setpoint timed, no axes", 19, 0, 0, []),
]:
    add(name, "host-to-mcu", "SETPOINT_TIMED", seq, setpoint_timed(flags, tick, targets), {"flags": flags, "tick": tick, "targets": targets})
caps = bytes([1, 0x01, 8]) + struct.pack("<IIH", 200_000, 20_000_000, 20_000)
add("caps: playout, queue 8", "mcu-to-host", "CAPS", 9, caps,
    {"capsVersion": 1, "features": 1, "queue": 8, "minPeriodNs": 200_000, "maxPeriodNs": 20_000_000, "maxDelayUs": 20_000})
add("caps with 3 bytes a later version appended (ignored)", "mcu-to-host", "CAPS", 10, caps + b"\x07\x00\x09",
    {"capsVersion": 1, "features": 1, "queue": 8, "minPeriodNs": 200_000, "maxPeriodNs": 20_000_000, "maxDelayUs": 20_000},
    note="CAPS may grow: a receiver reads the fields it knows and ignores the rest")
add("caps: no features", "mcu-to-host", "CAPS", 11, bytes([1, 0, 0]) + struct.pack("<IIH", 0, 0, 0),
    {"capsVersion": 1, "features": 0, "queue": 0, "minPeriodNs": 0, "maxPeriodNs": 0, "maxDelayUs": 0})
for name, seq, vals, lead, rate in [
    ("playout status, running", 12, [5000, 4990, 3, 1, 2, 0], 1234, -35),
    ("playout status, nothing received yet", 13, [0, 0, 0, 0, 0, 0], 0x7FFF, 0),
    ("playout status, late by 32 ms or more (saturated)", 14, [0xFFFFFFFF, 1, 0xFFFFFFFF, 0x01000000, 0, 7], -32768, 20000),
]:
    add(name, "mcu-to-host", "PLAYOUT_STATUS", seq, b"".join(struct.pack("<I", v) for v in vals) + struct.pack("<hh", lead, rate),
        {"lastTick": vals[0], "accepted": vals[1], "late": vals[2], "stale": vals[3], "outside": vals[4], "overflow": vals[5], "minLeadUs": lead, "rateAdjPpm": rate})

# Bad input. "events" is what a receiver reports, in order; dropped frames are counted, never acted on.
good = frame(CODE["ENABLE"], 1, b"")
good_body = body(CODE["ENABLE"], 1, b"")
def bad(name, wire: bytes, events, note):
    vectors["bad"].append({"name": name, "wire": wire.hex(), "events": events, "note": note})

flipped = bytearray(good_body); flipped[-1] ^= 0x01
bad("wrong CRC", cobs_encode(bytes(flipped)) + b"\0", [{"error": "badCrc"}], "last CRC byte off by one bit")
payload_flip = bytearray(body(CODE["SETPOINT"], 3, setpoint(1, [32768] * 6))); payload_flip[6] ^= 0x80
bad("wrong CRC in a setpoint", cobs_encode(bytes(payload_flip)) + b"\0", [{"error": "badCrc"}], "a target's high bit flipped: never move on it")
enc = bytearray(cobs_encode(good_body)); enc[0] = 0x09
bad("broken COBS: code points past the end", bytes(enc) + b"\0", [{"error": "badCobs"}], "first code byte claims more bytes than the frame has")
bad("truncated: too short for type, seq and CRC", cobs_encode(b"\x20\x01\x00") + b"\0", [{"error": "truncated"}], "3 bytes of body; the least is 5")
bad("oversize: no delimiter within the longest frame", b"\x11" * 300 + b"\0", [{"error": "oversize"}], "discard until the next 0x00")
unk = body(0x7E, 2, b"\x01\x02")
bad("unknown type", cobs_encode(unk) + b"\0", [{"error": "unknownType"}], "good CRC, type 0x7E is not defined: counted and dropped")
bad("bad length for type", cobs_encode(body(CODE["ENABLE"], 3, b"\x01")) + b"\0", [{"error": "badLength"}], "ENABLE has no payload")
bad("setpoint count disagrees with length", cobs_encode(body(CODE["SETPOINT"], 3, bytes([1, 3]) + b"\x00\x80" * 2)) + b"\0", [{"error": "badLength"}], "n says 3, payload carries 2")
bad("setpoint with 17 axes", cobs_encode(body(CODE["SETPOINT"], 3, setpoint(1, [1] * 17))) + b"\0", [{"error": "badLength"}], "16 axes at most")
bad("empty frames between delimiters are ignored", b"\0\0" + good + b"\0", [{"frame": msg("ENABLE", 1, b"", {})}], "0x00 0x00: nothing, not an error")
bad("garbage then a good frame", b"\x13\x37\xff" + b"\0" + good, [{"error": "badCobs"}, {"frame": msg("ENABLE", 1, b"", {})}], "resynchronises at the delimiter")
bad("oversize then a good frame", b"\x05" * 200 + b"\0" + good, [{"error": "oversize"}, {"frame": msg("ENABLE", 1, b"", {})}], "the good frame after the delimiter is accepted")
bad("a frame cut by a reset, then a good one", cobs_encode(good_body)[:3] + good, [{"error": "badCrc"}], "the partial frame runs into the next one: the merged bytes decode as COBS but fail the CRC, and both are lost")

bad("setpoint timed count disagrees with length", cobs_encode(body(CODE["SETPOINT_TIMED"], 3, bytes([1, 3]) + struct.pack("<I", 5) + b"\x00\x80" * 2)) + b"\0", [{"error": "badLength"}], "n says 3, payload carries 2")
bad("setpoint timed without its tick", cobs_encode(body(CODE["SETPOINT_TIMED"], 3, setpoint(1, [32768] * 6))) + b"\0", [{"error": "badLength"}], "a core SETPOINT payload under the timed type: 4 bytes short")
bad("setpoint timed with 17 axes", cobs_encode(body(CODE["SETPOINT_TIMED"], 3, setpoint_timed(1, 9, [1] * 17))) + b"\0", [{"error": "badLength"}], "16 axes at most")
bad("set playout too short", cobs_encode(body(CODE["SET_PLAYOUT"], 3, struct.pack("<I", 1_000_000))) + b"\0", [{"error": "badLength"}], "periodNs without delayUs")
bad("caps too short", cobs_encode(body(CODE["CAPS"], 3, caps[:12])) + b"\0", [{"error": "badLength"}], "13 bytes at least")
bad("caps too long", cobs_encode(body(CODE["CAPS"], 3, caps + bytes(20))) + b"\0", [{"error": "badLength"}], "32 bytes at most")
bad("playout status too long", cobs_encode(body(CODE["PLAYOUT_STATUS"], 3, bytes(29))) + b"\0", [{"error": "badLength"}], "exactly 28 bytes")
bad("get caps with a payload", cobs_encode(body(CODE["GET_CAPS"], 3, b"\x01")) + b"\0", [{"error": "badLength"}], "GET_CAPS has no payload")

here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "..", "vectors.json"), "w", encoding="utf-8") as f:
    json.dump({"protocol": "RigLink", "version": 1, "generatedBy": "firmware-protocol/tools/make_vectors.py", **vectors}, f, indent=1, ensure_ascii=False)
    f.write("\n")
