/*
 * pty_link: a simulated AVR's UART wired to a pty, with each byte the host writes handed to the
 * UART at the simulated instant that matches when it reached the pty on the wall clock.
 * pty_link.c says why simavr's uart_pty part is not used, and what this does not model.
 */
#ifndef AVR_RIG_PTY_LINK_H
#define AVR_RIG_PTY_LINK_H

#include <stddef.h>
#include <stdint.h>

#include "sim_avr.h"

/* Opens the pty, connects it to UART `uart` ('0') and, with read_host, starts its reader
 * thread. The slave's name goes to slavename (64 bytes). Returns 0, or -1 with errno set. */
int pty_link_open(avr_t *avr, char uart, char *slavename, int read_host);

/* From the simulation, when nothing reads the host (read_host 0): n bytes that enter the UART
 * at simulated ms due_ms (feeder.c, a host in simulated time). After pty_link_set_epoch. */
void pty_link_inject(const uint8_t *bytes, size_t n, double due_ms);

/* Simulated cycle 0 is CLOCK_MONOTONIC time t0_ms: a byte that reaches the pty at wall time T
 * enters the UART at simulated cycle (T - t0_ms) * 16000, or at once if that has passed. Until
 * this is called, bytes enter at once. */
void pty_link_set_epoch(double t0_ms);

typedef struct {
  uint64_t tx_dropped;    /* the firmware sent while the host had not read 4 KB before them */
  double rx_wait_max_ms;  /* longest a byte waited for the UART after its due time (XOFF) */
  int reader_realtime;    /* the reader thread got SCHED_FIFO */
} pty_link_stats;

void pty_link_get_stats(pty_link_stats *s);

double pty_link_last_stamp(void);
#endif
