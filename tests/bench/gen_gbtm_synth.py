#!/usr/bin/env python3
"""Writes a synthetic forum's members x months post counts (wide CSV) with
planted activity groups, for tests/bench/bench_gbtm_synth.sh.

Usage: gen_gbtm_synth.py MEMBERS MONTHS SEED OUT.csv [TRUTH.csv]
Groups (share, log-mean as a function of x in [-1, 1] over the months):
lurkers 60 % (-4.0), occasional 15 % (-1.5 - 0.8x), escalators 10 %
(-0.5 + 1.5x), vested 5 % (1.5), early decliners 7 % (0.8 - 1.5x - 0.5x^2),
managers 3 % (2.5 + 0.3x)."""
import math, random, sys

n, T, seed, out = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
truth = sys.argv[5] if len(sys.argv) > 5 else None
groups = [
    (0.60, lambda x: -4.0),
    (0.15, lambda x: -1.5 - 0.8 * x),
    (0.10, lambda x: -0.5 + 1.5 * x),
    (0.05, lambda x: 1.5),
    (0.07, lambda x: 0.8 - 1.5 * x - 0.5 * x * x),
    (0.03, lambda x: 2.5 + 0.3 * x),
]
rng = random.Random(seed)
xs = [-1 + 2 * t / (T - 1) for t in range(T)]
lam = [[math.exp(f(x)) for x in xs] for _, f in groups]
cum = []
acc = 0.0
for s, _ in groups:
    acc += s
    cum.append(acc)

def poisson(l):
    # Knuth for small means, normal approximation above 30
    if l > 30:
        return max(0, int(round(rng.gauss(l, math.sqrt(l)))))
    L, k, p = math.exp(-l), 0, 1.0
    while True:
        p *= rng.random()
        if p <= L:
            return k
        k += 1

with open(out, "w") as f, (open(truth, "w") if truth else open("/dev/null", "w")) as tf:
    f.write("id," + ",".join("m%d" % t for t in range(T)) + "\n")
    for i in range(n):
        u = rng.random()
        g = next(j for j, c in enumerate(cum) if u < c) if u < cum[-1] else len(groups) - 1
        tf.write("%d,%d\n" % (i + 1, g))
        f.write("%d," % (i + 1) + ",".join(str(poisson(l)) for l in lam[g]) + "\n")
