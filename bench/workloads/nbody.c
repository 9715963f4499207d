/*
 * nbody.c — benchmark workload: gravitational N-body simulation.
 *
 * All-pairs forces with a softened inverse-cube law, then a symplectic
 * Euler step: f64 divides and square roots (f64.sqrt in wasm, correctly
 * rounded on both sides) among the multiplies and adds.  The bodies start
 * from the PRNG; each round is a fixed number of steps, and the checksum
 * takes the total energy and a position after every round.
 */
#include "workload.h"

#define NB 12
#define NB_STEPS 20

static double px[NB], py[NB], pz[NB], vx[NB], vy[NB], vz[NB], mass[NB];

static double unit(uint64_t *seed) {
    return (double)(wl_next(seed) >> 11) * (1.0 / 9007199254740992.0);
}

static void nb_step(double dt) {
    for (int i = 0; i < NB; i++)
        for (int j = i + 1; j < NB; j++) {
            double dx = px[i] - px[j], dy = py[i] - py[j], dz = pz[i] - pz[j];
            double d2 = dx * dx + dy * dy + dz * dz + 0.01;
            double d = __builtin_sqrt(d2);
            double mag = dt / (d2 * d);
            double mi = mass[i] * mag, mj = mass[j] * mag;
            vx[i] -= dx * mj; vy[i] -= dy * mj; vz[i] -= dz * mj;
            vx[j] += dx * mi; vy[j] += dy * mi; vz[j] += dz * mi;
        }
    for (int i = 0; i < NB; i++) {
        px[i] += dt * vx[i];
        py[i] += dt * vy[i];
        pz[i] += dt * vz[i];
    }
}

static double nb_energy(void) {
    double e = 0.0;
    for (int i = 0; i < NB; i++) {
        e += 0.5 * mass[i] * (vx[i] * vx[i] + vy[i] * vy[i] + vz[i] * vz[i]);
        for (int j = i + 1; j < NB; j++) {
            double dx = px[i] - px[j], dy = py[i] - py[j], dz = pz[i] - pz[j];
            e -= mass[i] * mass[j] / __builtin_sqrt(dx * dx + dy * dy + dz * dz + 0.01);
        }
    }
    return e;
}

uint64_t bench_nbody(uint32_t n) {
    uint64_t seed = 0x0b0d1e5;
    double cx = 0, cy = 0, cz = 0, total = 0;
    for (int i = 0; i < NB; i++) {
        px[i] = unit(&seed) * 10.0 - 5.0;
        py[i] = unit(&seed) * 10.0 - 5.0;
        pz[i] = unit(&seed) * 10.0 - 5.0;
        vx[i] = unit(&seed) - 0.5;
        vy[i] = unit(&seed) - 0.5;
        vz[i] = unit(&seed) - 0.5;
        mass[i] = 0.5 + unit(&seed);
        cx += mass[i] * vx[i];
        cy += mass[i] * vy[i];
        cz += mass[i] * vz[i];
        total += mass[i];
    }
    /* Zero total momentum so the cluster stays put instead of drifting
     * off to coordinates where the arithmetic is less interesting. */
    for (int i = 0; i < NB; i++) {
        vx[i] -= cx / total;
        vy[i] -= cy / total;
        vz[i] -= cz / total;
    }
    uint64_t h = wl_f64_bits(nb_energy());
    for (uint32_t r = 0; r < n; r++) {
        for (int s = 0; s < NB_STEPS; s++) nb_step(0.001);
        h = wl_mix(h, wl_f64_bits(nb_energy()));
        h = wl_mix(h, wl_f64_bits(px[r % NB]));
    }
    return h;
}
