# nbody.py: a gravitational n-body simulation, a Python benchmark for
# bench/python/.  Floating-point arithmetic on Python floats held in lists,
# attribute-free inner loops: the eval loop's float and list paths.  The
# bodies are a made-up system (a heavy star and eight planets on circular
# orbits), integrated with a fixed step; the result is the energy before
# and after, which must agree across runtimes to the printed digits.
# Usage: nbody.py [STEPS] (default 10000); prints the energies and the seconds.
import math
import sys
import time


def make_system():
    bodies = [[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 40.0]]        # x y z vx vy vz m
    for k in range(1, 9):
        r = 1.5 * k
        a = 0.9 * k
        v = math.sqrt(40.0 / r)
        m = 0.002 * (k % 4 + 1)
        bodies.append([r * math.cos(a), r * math.sin(a), 0.05 * k,
                       -v * math.sin(a), v * math.cos(a), 0.0, m])
    # move to the centre-of-momentum frame, so the system does not drift
    px = sum(b[3] * b[6] for b in bodies)
    py = sum(b[4] * b[6] for b in bodies)
    pz = sum(b[5] * b[6] for b in bodies)
    bodies[0][3] -= px / bodies[0][6]
    bodies[0][4] -= py / bodies[0][6]
    bodies[0][5] -= pz / bodies[0][6]
    return bodies


def energy(bodies):
    e = 0.0
    for i, (x, y, z, vx, vy, vz, m) in enumerate(bodies):
        e += 0.5 * m * (vx * vx + vy * vy + vz * vz)
        for (x2, y2, z2, _, _, _, m2) in bodies[i + 1:]:
            dx, dy, dz = x - x2, y - y2, z - z2
            e -= m * m2 / math.sqrt(dx * dx + dy * dy + dz * dz)
    return e


def advance(bodies, steps, dt):
    pairs = [(bodies[i], bodies[j]) for i in range(len(bodies)) for j in range(i + 1, len(bodies))]
    for _ in range(steps):
        for a, b in pairs:
            dx = a[0] - b[0]
            dy = a[1] - b[1]
            dz = a[2] - b[2]
            d2 = dx * dx + dy * dy + dz * dz
            mag = dt / (d2 * math.sqrt(d2))
            bm = b[6] * mag
            am = a[6] * mag
            a[3] -= dx * bm
            a[4] -= dy * bm
            a[5] -= dz * bm
            b[3] += dx * am
            b[4] += dy * am
            b[5] += dz * am
        for b in bodies:
            b[0] += dt * b[3]
            b[1] += dt * b[4]
            b[2] += dt * b[5]


def main():
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    bodies = make_system()
    t0 = time.perf_counter()
    e0 = energy(bodies)
    advance(bodies, steps, 0.001)
    e1 = energy(bodies)
    dt = time.perf_counter() - t0
    print(f"result {e0:.12f} {e1:.12f}")
    print(f"seconds {dt:.6f}")


main()
