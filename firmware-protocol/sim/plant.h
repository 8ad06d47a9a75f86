/* The simulated rig mechanics the harness attaches to the firmware's pins (see avr_rig.c). */
#ifndef PLANT_H
#define PLANT_H

#include <stdint.h>

#define PLANT_MAX_AXES 6

typedef struct {
  /* DC + pot: travel fraction 0..1, travel/s. */
  double x, v;
  int jammed;   /* held still (a stalled motor) */
  int pot_lost; /* wiper disconnected (fault injection) ... */
  double pot_lost_mv; /* ... reading this voltage (0: pulled to GND, 5000: to 5 V), or, if < 0, the last
                         voltage frozen (a pot whose coupling slipped: the reading stops following the ram) */
  double last_mv;   /* the pot's last voltage while connected */
  /* Step/dir: steps from the home switch (switch closed at <= 0). */
  long steps;
} plant_axis;

typedef struct {
  int n_dc, n_step;
  plant_axis a[PLANT_MAX_AXES];
  uint32_t noise;   /* PRNG state */
} plant;

/* Motor and pot constants: a 24 V DC gear motor on a 100 mm ram, 3 travel/s at full duty. */
#define PLANT_VMAX 3.0        /* travel/s at 100 % duty, no load */
#define PLANT_TAU 0.03        /* s, mechanical time constant with the load */
#define PLANT_LOAD 0.03       /* duty that holds the load (gravity): it sinks without it */
#define PLANT_STICTION 0.02   /* |duty| below this does not move it from rest */
#define PLANT_POT_MV0 500.0   /* mV at travel 0 */
#define PLANT_POT_MV1 4500.0  /* mV at travel 1 */
#define PLANT_POT_NOISE 3.0   /* mV, uniform ± */
#define PLANT_STEPS_TRAVEL 10000

void plant_init(plant *p, int n_dc, int n_step, long start_steps, double dc_start);
/* Advance a DC axis by dt with duty -1..1 (sign: direction pin), drive enabled or not. */
void plant_dc_step(plant *p, int i, double duty, int enabled, double dt);
/* The pot's voltage (mV) for a DC axis. */
double plant_pot_mv(plant *p, int i);
/* Wire units (0..65535) of an axis, as the firmware's calibration maps it. */
double plant_wire(const plant *p, int axis);

#endif
