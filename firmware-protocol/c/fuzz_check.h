/*
 * The fuzzers' independent check of a frame the reference parser accepted. It shares
 * nothing with riglink.c but the frame struct: a table-driven CRC, the length rules written
 * out again from PROTOCOL.md, and canonical COBS (re-encoding the accepted body must give
 * back exactly the bytes received).
 */
#ifndef RIGLINK_FUZZ_CHECK_H
#define RIGLINK_FUZZ_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "riglink.h"

void fuzz_check_init(void);
/* 1 when the accepted frame f, received as wire[0..len) without its delimiter, passes every check. */
int fuzz_check_accepted(const rl_frame *f, const uint8_t *wire, size_t len);
/* The accepted frame's body (type, seq, payload, CRC) as the independent code computes it; returns its length. */
size_t fuzz_check_body(const rl_frame *f, uint8_t *body);

#endif
