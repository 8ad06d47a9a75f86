/*
 * UART0 at BAUD (config.h: 500,000, U2X, UBRR 3: exact at 16 MHz), 8N1; 1,000,000 is also exact
 * (UBRR 1) but leaves too few cycles per byte (docs/firmware.md).
 *
 * Receive: an interrupt into a 256-byte ring (8-bit indices wrap by themselves). It is
 * written in assembly so that it reads UDR (clearing the request) and re-enables interrupts
 * within 4 instructions of its vector: the control tick then waits on it for at most ~15
 * cycles, which is what keeps the actuator update on its grid (docs/firmware.md, bench).
 * A byte that finds the ring full is dropped and counted (uart_dropped); at 500 kbaud a byte
 * comes every 320 cycles, and the main loop empties the ring between them.
 *
 * Transmit: from a 64-byte ring, a byte whenever the main loop finds the UART ready
 * (uart_tx_poll, between received bytes and instead of sleeping): no transmit interrupt to
 * delay the tick. It used to wait for the UART byte by byte, 20 µs each at 500 kbaud: 9.6 % of
 * the Mega's cycles at the 1 kHz stream went to that wait while received frames queued
 * (bench/firmware --profile, 2026-12-01). Only the main loop touches the ring.
 */
#include <avr/interrupt.h>
#include <avr/io.h>

#include "rig.h"

volatile uint8_t rx_buf[256];
volatile uint8_t rx_head, rx_tail;
volatile uint8_t uart_dropped;

ISR(UART_RX_vect, ISR_NAKED) {
  __asm__ volatile(
      "push r24\n\t"
      "lds r24, %[udr]\n\t"
      "sbi %[gpior], %[nest]\n\t" /* the tick's body waits for us (rig.h) */
      "sei\n\t"
      "push r25\n\t"
      "in r25, __SREG__\n\t"
      "push r25\n\t"
      "push r30\n\t"
      "push r31\n\t"
      "lds r30, rx_head\n\t"
      "mov r25, r30\n\t"
      "inc r25\n\t"
      "lds r31, rx_tail\n\t"
      "cp r25, r31\n\t"
      "breq 1f\n\t"
      "ldi r31, 0\n\t"
      "subi r30, lo8(-(rx_buf))\n\t"
      "sbci r31, hi8(-(rx_buf))\n\t"
      "st Z, r24\n\t"
      "sts rx_head, r25\n\t"
      "rjmp 2f\n"
      "1:\n\t"
      "lds r24, uart_dropped\n\t"
      "inc r24\n\t"
      "breq 2f\n\t" /* saturate at 255 */
      "sts uart_dropped, r24\n"
      "2:\n\t"
      /* Leave the nesting bit with interrupts off for a few cycles only; the registers are
       * restored with them on (a tick body that starts then finds our work done). */
      "cli\n\t"
      "cbi %[gpior], %[nest]\n\t"
      "sbis %[gpior], %[pending]\n\t"
      "rjmp 3f\n\t"
      "in r24, %[gpior]\n\t"
      "andi r24, %[active]\n\t"
      "brne 3f\n\t"                 /* another handler is still running: it will see to the tick */
      "cbi %[gpior], %[pending]\n\t"
      "pop r31\n\t"
      "pop r30\n\t"
      "pop r25\n\t"
      "out __SREG__, r25\n\t"
      "pop r25\n\t"
      "pop r24\n\t"
      "jmp tick_body\n" /* its RETI returns to what we interrupted */
      "3:\n\t"
      "sei\n\t"
      "pop r31\n\t"
      "pop r30\n\t"
      "pop r25\n\t"
      "out __SREG__, r25\n\t"
      "pop r25\n\t"
      "pop r24\n\t"
      "reti\n\t" ::[udr] "n"(_SFR_MEM_ADDR(UART_UDR)),
      [gpior] "I"(_SFR_IO_ADDR(GPIOR0)), [nest] "I"(NEST_RX), [active] "M"(NEST_ACTIVE_MASK), [pending] "I"(NEST_TICK_PENDING));
}

void uart_init(void) {
  UART_UBRR = (uint16_t)(F_CPU / (8UL * BAUD) - 1);
  UART_UCSRA = 1 << U2X0;
  UART_UCSRC = (1 << UCSZ01) | (1 << UCSZ00);
  UART_UCSRB = (1 << RXEN0) | (1 << TXEN0) | (1 << RXCIE0);
}

uint8_t tx_buf[TX_SIZE];
uint8_t tx_head, tx_tail; /* free-running; the ring holds tx_head - tx_tail bytes */

void uart_write(const uint8_t *p, uint8_t n) {
  while (n--) {
    while ((uint8_t)(tx_head - tx_tail) >= TX_SIZE) (void)uart_tx_poll(); /* full: wait as before */
    tx_buf[tx_head % TX_SIZE] = *p++;
    tx_head++;
  }
  (void)uart_tx_poll();
}
