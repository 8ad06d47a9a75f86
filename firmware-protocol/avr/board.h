/*
 * Pin map and axis set, per MCU, chosen at build time (-mmcu). docs/firmware.md has the wiring.
 *
 * Axes on the wire: the DC axes first (0 .. N_DC-1), then the step/dir axes. Change N_DC and
 * N_STEP (make ... N_DC=2 N_STEP=1) to build another mix, at most 4 axes in all (below); the
 * pins below are fixed per slot.
 *
 * ATmega2560 (Arduino Mega 2560), 16 MHz:
 *   UART0 (USB)                 RX0 D0 / TX0 D1, 500,000 baud, U2X (config.h BAUD)
 *   control tick                Timer2 CTC, 1 kHz (no pin)
 *   DC slot 0..2 PWM            OC1A D11 (PB5), OC1B D12 (PB6), OC1C D13 (PB7): Timer1 fast PWM, 20 kHz
 *   DC slot 0..2 direction      D22 (PA0), D23 (PA1), D24 (PA2)
 *   DC slot 0..2 pot            A0 (PF0), A1 (PF1), A2 (PF2)
 *   step slot 0..2 STEP         OC3A D5 (PE3), OC4A D6 (PH3), OC5A D46 (PL3): CTC toggle
 *   step slot 0..2 DIR          D37 (PC0), D36 (PC1), D35 (PC2)
 *   step slot 0..2 home switch  D33 (PC4), D32 (PC5), D31 (PC6): active low, pull-up
 *   e-stop input                D2 (PE4, INT4): active low, pull-up
 *   drive enable output         D41 (PG0): high = drives may run
 *   test point                  D40 (PG1): toggles when the control tick has applied its outputs
 *   (PORTA is written whole by the tick: keep PA3..PA7 unused)
 *
 * ATmega328P (Uno/Nano), 16 MHz: 2 DC slots only (Timer1 is the PWM, Timer2 the tick, and
 * Timer0 is the only timer left: no step/dir slots; see docs/firmware.md).
 *   DC slot 0..1 PWM OC1A D9 (PB1), OC1B D10 (PB2); direction D7 (PD7), D8 (PB0); pots A0, A1
 *   e-stop D2 (PD2, INT0); drive enable D4 (PD4); test point D5 (PD5)
 */
#ifndef BOARD_H
#define BOARD_H

#include <avr/io.h>

#if defined(__AVR_ATmega2560__)
#define BOARD_NAME "mega2560"
#ifndef N_DC
#define N_DC 2
#endif
#ifndef N_STEP
#define N_STEP 1
#endif
#if N_DC > 3 || N_STEP > 3
#error "ATmega2560: at most 3 DC and 3 step/dir axes"
#endif
/* Measured (avr-rig --feed-hz 1000, docs/firmware.md "How much the Mega carries"): with 5 or 6
 * axes the 1 ms control tick's body takes most of each millisecond, and frames of the 1 kHz
 * stream wait behind it past their play time even with every ram at rest (3+2, 2+3, 3+3). */
#if N_DC + N_STEP > 4
#error "ATmega2560: at most 4 axes in all at the 1 kHz tick (docs/firmware.md: How much the Mega carries)"
#endif
#define UART_UCSRA UCSR0A
#define UART_UCSRB UCSR0B
#define UART_UCSRC UCSR0C
#define UART_UBRR UBRR0
#define UART_UDR UDR0
#define UART_RX_vect USART0_RX_vect
#define DIR_PORT PORTA
#define DIR_DDR DDRA
#define DIR_BIT(i) (i)
#define STEP_DIR_PORT PORTC
#define STEP_DIR_DDR DDRC
#define STEP_DIR_BIT(i) (i)
#define HOME_PIN PINC
#define HOME_PORT PORTC
#define HOME_BIT(i) (4 + (i))
#define ESTOP_PIN PINE
#define ESTOP_PORT PORTE
#define ESTOP_BIT 4
#define ESTOP_vect INT4_vect
#define ESTOP_INT_SETUP() do { EICRB = (EICRB & ~(3 << ISC40)) | (2 << ISC40); EIFR = 1 << INTF4; EIMSK |= 1 << INT4; } while (0)
#define ENABLE_PORT PORTG
#define ENABLE_DDR DDRG
#define ENABLE_BIT 0
#define TP_PIN PING
#define TP_DDR DDRG
#define TP_BIT 1
#define PWM_DDR DDRB
#define PWM_BIT(i) (5 + (i))
#elif defined(__AVR_ATmega328P__)
#define BOARD_NAME "uno328p"
#ifndef N_DC
#define N_DC 2
#endif
#define N_STEP 0
#if N_DC > 2
#error "ATmega328P: at most 2 DC axes"
#endif
#define UART_UCSRA UCSR0A
#define UART_UCSRB UCSR0B
#define UART_UCSRC UCSR0C
#define UART_UBRR UBRR0
#define UART_UDR UDR0
#define UART_RX_vect USART_RX_vect
/* Direction pins are on two ports on the Uno: slot 0 D7 (PD7), slot 1 D8 (PB0). */
#define ESTOP_PIN PIND
#define ESTOP_PORT PORTD
#define ESTOP_BIT 2
#define ESTOP_vect INT0_vect
#define ESTOP_INT_SETUP() do { EICRA = (EICRA & ~(3 << ISC00)) | (2 << ISC00); EIFR = 1 << INTF0; EIMSK |= 1 << INT0; } while (0)
#define ENABLE_PORT PORTD
#define ENABLE_DDR DDRD
#define ENABLE_BIT 4
#define TP_PIN PIND
#define TP_DDR DDRD
#define TP_BIT 5
#define PWM_DDR DDRB
#define PWM_BIT(i) (1 + (i))
#else
#error "board.h: ATmega2560 or ATmega328P"
#endif

#define AXES (N_DC + N_STEP)
#if AXES < 1
#error "at least one axis"
#endif

#endif
