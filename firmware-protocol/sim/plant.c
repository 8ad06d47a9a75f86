#include "plant.h"

void plant_init(plant *p, int n_dc, int n_step, long start_steps, double dc_start) {
  p->n_dc = n_dc;
  p->n_step = n_step;
  p->noise = 12345;
  for (int i = 0; i < PLANT_MAX_AXES; i++) {
    p->a[i].x = dc_start; /* where the DC rams rest at power-up (travel 0..1) */
    p->a[i].v = 0;
    p->a[i].jammed = 0;
    p->a[i].pot_lost = 0;
    p->a[i].pot_lost_mv = 0;
    p->a[i].last_mv = 0;
    p->a[i].steps = start_steps;
  }
}

void plant_dc_step(plant *p, int i, double duty, int enabled, double dt) {
  plant_axis *a = &p->a[i];
  if (a->jammed) {
    a->v = 0;
    return;
  }
  /* An H-bridge without enable coasts; the load pulls the ram down through the gearbox's
   * back-drive only above the stiction, so an unpowered ram stays put. */
  double u = enabled ? duty : 0.0;
  double eff = u - (enabled ? PLANT_LOAD : 0.0);
  if (a->v == 0.0 && eff < PLANT_STICTION && eff > -PLANT_STICTION) return;
  a->v += (PLANT_VMAX * eff - a->v) * (dt / PLANT_TAU);
  if (a->v < 1e-4 && a->v > -1e-4 && (eff < PLANT_STICTION && eff > -PLANT_STICTION)) a->v = 0.0;
  a->x += a->v * dt;
  if (a->x < 0) { a->x = 0; a->v = 0; }   /* end stops */
  if (a->x > 1) { a->x = 1; a->v = 0; }
}

double plant_pot_mv(plant *p, int i) {
  plant_axis *a = &p->a[i];
  if (a->pot_lost) return a->pot_lost_mv < 0 ? a->last_mv : a->pot_lost_mv;
  p->noise = p->noise * 1664525u + 1013904223u;
  double n = ((double)(p->noise >> 8) / 16777216.0 * 2.0 - 1.0) * PLANT_POT_NOISE;
  a->last_mv = PLANT_POT_MV0 + (PLANT_POT_MV1 - PLANT_POT_MV0) * a->x + n;
  return a->last_mv;
}

double plant_wire(const plant *p, int axis) {
  if (axis < p->n_dc) return p->a[axis].x * 65535.0;
  long s = p->a[axis].steps;
  return (double)s * 65535.0 / PLANT_STEPS_TRAVEL;
}
