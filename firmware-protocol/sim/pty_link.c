/*
 * pty_link: the simulated AVR's UART wired to a pty, timed by the wall clock the host lives on.
 *
 * Why not simavr's uart_pty part (used before): it hands the bytes it has read to the UART from a
 * timer that runs every 1 ms of simulated time, and it knows nothing of the wall clock. avr-rig
 * keeps simulated time at the wall clock, but while this VM is busy the simulation trails it (up
 * to 20 ms measured with the service running, bench/firmware's simBehindWallMaxMs). Whatever the
 * host wrote during such a lag then reached the firmware all at once, at simulated instants
 * earlier than the host had sent it. A real MCU's clock does not stop: a frame can reach it late,
 * never before it was sent. MCU-timed playout sets its time line by the frames that arrive
 * earliest, so those impossible early frames made the frames after them look late (bench, 20:34
 * and 21:10 UTC 2026-12-01: 32-73 % of frames late at delivery into the UART).
 *
 * Here a thread reads the pty master as soon as bytes come (at real-time priority when
 * allowed) and stamps each read with CLOCK_MONOTONIC. The simulation hands a byte to the UART once simulated time has reached its
 * stamp (checked every 50 µs of simulated time), honouring the UART's XON/XOFF; simavr's UART
 * then delivers it at the baud rate's byte time. While the simulation trails the wall clock,
 * bytes wait for it, so each reaches the firmware at the simulated instant it reached the pty.
 * The firmware's bytes go to the pty as the UART sends them (written every 50 µs of simulated
 * time; while the simulation trails the wall clock they reach the host that much later).
 *
 * Not modelled: the USB-serial bridge of a real board (the Mega's 16U2 or a CH340: USB frames,
 * its buffers and its latency; none of it is measured here, so a board's host-to-UART delay
 * is unknown), line errors, DTR and the auto-reset it causes. The slave end stays open here, so
 * the host's closing and reopening the port is never seen as a hang-up.
 */
#define _GNU_SOURCE
#include "pty_link.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <pty.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "avr_uart.h"
#include "sim_io.h"

#define RX_RING 65536 /* bytes the host may be ahead of the simulation: 3.6 s at the 1 kHz stream */
#define TX_BUF 4096
#define POLL_CYCLES 800 /* 50 µs at 16 MHz */

static int master = -1, slave = -1;
static avr_irq_t *uart_in;
static int xon; /* as uart_pty: the UART says when it has room (it does once the firmware reads it) */

/* Host -> AVR: one writer (the reader thread), one reader (the simulation). */
static uint8_t rx_byte[RX_RING];
static double rx_stamp[RX_RING];
static _Atomic uint32_t rx_head, rx_tail;
static _Atomic double epoch = -1; /* ms on CLOCK_MONOTONIC at simulated cycle 0; < 0: none yet */

/* AVR -> host, the simulation's own. */
static uint8_t tx_buf[TX_BUF];
static uint32_t tx_len;

static pty_link_stats st;
static double last_stamp;

static double mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* The ring's one producer (the reader thread, or pty_link_inject without one): 0 when full. */
static int rx_push(uint8_t b, double stamp) {
  uint32_t h = atomic_load_explicit(&rx_head, memory_order_relaxed);
  if (h - atomic_load_explicit(&rx_tail, memory_order_acquire) >= RX_RING) return 0;
  rx_byte[h % RX_RING] = b;
  rx_stamp[h % RX_RING] = stamp;
  atomic_store_explicit(&rx_head, h + 1, memory_order_release);
  return 1;
}

static void *reader(void *arg) {
  (void)arg;
  /* The wire between host and MCU costs the host no CPU time; this thread is its stand-in, so
   * it should not wait for the CPU behind the service or the simulation, whose stamps would
   * then be late by this VM's scheduling, not by anything the host did. Real-time priority
   * above the service's control thread (10) when allowed (root or CAP_SYS_NICE). */
  struct sched_param sp = {.sched_priority = 20};
  st.reader_realtime = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp) == 0;
  uint8_t buf[512];
  for (;;) {
    struct pollfd p = {master, POLLIN, 0};
    if (poll(&p, 1, -1) < 0 && errno != EINTR) return NULL;
    ssize_t n = read(master, buf, sizeof buf);
    if (n <= 0) {
      if (n < 0 && errno != EAGAIN && errno != EINTR) return NULL;
      continue;
    }
    double now = mono_ms();
    for (ssize_t i = 0; i < n; i++)
      while (!rx_push(buf[i], now)) { /* the simulation is 64 KB behind: hold the bytes, as a full UART buffer would */
        struct timespec ts = {0, 100000};
        nanosleep(&ts, NULL);
      }
  }
}

static void tx_flush(void) {
  uint32_t done = 0;
  while (done < tx_len) {
    ssize_t w = write(master, tx_buf + done, tx_len - done);
    if (w <= 0) break; /* EAGAIN: the host has not read; try again at the next poll */
    done += (uint32_t)w;
  }
  memmove(tx_buf, tx_buf + done, tx_len - done);
  tx_len -= done;
}

static avr_cycle_count_t pump(avr_t *avr, avr_cycle_count_t when, void *param) {
  (void)param;
  double t0 = atomic_load_explicit(&epoch, memory_order_relaxed);
  double sim_ms = when / 16000.0;
  uint32_t t = atomic_load_explicit(&rx_tail, memory_order_relaxed);
  uint32_t h = atomic_load_explicit(&rx_head, memory_order_acquire);
  while (xon && t != h) {
    double due_ms = t0 < 0 ? 0 : rx_stamp[t % RX_RING] - t0;
    if (due_ms > sim_ms) break;
    if (sim_ms - due_ms > st.rx_wait_max_ms && t0 >= 0) st.rx_wait_max_ms = sim_ms - due_ms;
    uint8_t b = rx_byte[t % RX_RING];
    last_stamp = rx_stamp[t % RX_RING];
    atomic_store_explicit(&rx_tail, ++t, memory_order_release);
    avr_raise_irq(uart_in, b); /* may raise XOFF (the UART's 64-byte queue is full) */
  }
  if (tx_len) tx_flush();
  (void)avr;
  return when + POLL_CYCLES;
}

static void on_xon(avr_irq_t *irq, uint32_t value, void *param) { (void)irq; (void)value; (void)param; xon = 1; }
static void on_xoff(avr_irq_t *irq, uint32_t value, void *param) { (void)irq; (void)param; if (value) xon = 0; }

static int host_reads; /* pty_link_open's read_host: otherwise nobody reads the pty either */

static void on_out(avr_irq_t *irq, uint32_t value, void *param) {
  (void)irq; (void)param;
  if (!host_reads) return;
  if (tx_len == TX_BUF) {
    st.tx_dropped++;
    return;
  }
  tx_buf[tx_len++] = (uint8_t)value;
}

int pty_link_open(avr_t *avr, char uart, char *slavename, int read_host) {
  if (openpty(&master, &slave, slavename, NULL, NULL) < 0) return -1;
  struct termios tio;
  tcgetattr(master, &tio);
  cfmakeraw(&tio);
  tcsetattr(master, TCSANOW, &tio);
  fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
  /* The UART's bytes are binary: not to stdout. */
  uint32_t f = 0;
  avr_ioctl(avr, AVR_IOCTL_UART_GET_FLAGS(uart), &f);
  f &= ~AVR_UART_FLAG_STDIO;
  avr_ioctl(avr, AVR_IOCTL_UART_SET_FLAGS(uart), &f);
  uart_in = avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ(uart), UART_IRQ_INPUT);
  avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ(uart), UART_IRQ_OUTPUT), on_out, NULL);
  avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ(uart), UART_IRQ_OUT_XON), on_xon, NULL);
  avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ(uart), UART_IRQ_OUT_XOFF), on_xoff, NULL);
  avr_cycle_timer_register(avr, POLL_CYCLES, pump, NULL);
  host_reads = read_host;
  if (!read_host) return 0;
  pthread_t th;
  if (pthread_create(&th, NULL, reader, NULL) != 0) return -1;
  pthread_detach(th);
  return 0;
}

void pty_link_inject(const uint8_t *bytes, size_t n, double due_ms) {
  double stamp = atomic_load(&epoch) + due_ms;
  for (size_t i = 0; i < n && rx_push(bytes[i], stamp); i++) {
  } /* 64 KB ahead of the simulation: never, at 1 kHz */
}

void pty_link_set_epoch(double t0_ms) { atomic_store(&epoch, t0_ms); }

void pty_link_get_stats(pty_link_stats *s) { *s = st; }

double pty_link_last_stamp(void) { return last_stamp; }
