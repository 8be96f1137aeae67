#!/usr/bin/python3
"""NetworkX side of the key-player benchmark (tests/bench/RESULTS.md).

Usage: nx_bench.py EDGES [BUDGET_SECONDS]

EDGES is the reply graph bench_keyplayers --edges wrote ("src dst weight",
network vertex ids).  Each metric is timed the way fora computes it; where
NetworkX would take hours, it is timed on a sample and extrapolated, and the
line says so:
  betweenness      nx.betweenness_centrality(k=20) x (500/20): the same
                   500-source estimator fora runs
  closeness/harm.  20 single-source BFS (nx.single_source_shortest_path_length)
                   x 500 sources (fora's estimator); exact would be x n
  constraint, effective size, clustering
                   on 2000 random members, x n/2000
  KPP-Neg          one greedy candidate evaluation (remove a member, count
                   components) x n candidates x 20 steps
  disruption       one step (components) x grid steps x (6 + 10) orders
NX_BENCH_ONLY=pagerank,eigenvector (comma-separated labels' first words)
times only those steps.
Times are CPU seconds of this process (time.process_time), as fora's
bench reports them, so a shared machine skews both sides alike.  Every
measured call is stopped after BUDGET_SECONDS of wall time (default 600) and
then reported as "> budget".
"""
import os
import random
import signal
import sys
import time

import networkx as nx


class Budget(Exception):
    pass


def alarm(_sig, _frm):
    raise Budget()


ONLY = [w for w in os.environ.get("NX_BENCH_ONLY", "").split(",") if w]


def timed(label, fn, budget, scale=1.0, note=""):
    if ONLY and label.split()[0] not in ONLY:
        return None
    signal.signal(signal.SIGALRM, alarm)
    signal.alarm(int(budget))
    t = time.process_time()
    try:
        fn()
        dt = time.process_time() - t
        signal.alarm(0)
        est = dt * scale
        print(f"nx {label:22s} {est:12.2f} s" + (f"  ({dt:.2f} s measured {note})" if scale != 1
                                                 else ""))
        return est
    except Budget:
        print(f"nx {label:22s}      > {budget * scale:.0f} s  (stopped after {budget} s {note})")
        return float("inf")


def main():
    path = sys.argv[1]
    budget = float(sys.argv[2]) if len(sys.argv) > 2 else 600
    t = time.perf_counter()
    R = nx.DiGraph()
    with open(path) as fh:
        for line in fh:
            a, b, w = line.split()
            R.add_edge(int(a), int(b), weight=float(w))
    U = nx.Graph()
    for a, b, dd in R.edges(data=True):
        if U.has_edge(a, b):
            U[a][b]["weight"] += dd["weight"]
        else:
            U.add_edge(a, b, weight=dd["weight"])
    n = U.number_of_nodes()
    print(f"nx graph: {n} nodes, {R.number_of_edges()} arcs, {U.number_of_edges()} edges "
          f"(built in {time.perf_counter() - t:.1f} s); networkx {nx.__version__}")
    rng = random.Random(1)
    nodes = list(U.nodes())
    sample = rng.sample(nodes, min(2000, n))
    sources = rng.sample(nodes, min(20, n))

    timed("degree+strength", lambda: (dict(R.in_degree(weight="weight")),
                                      dict(R.out_degree(weight="weight")),
                                      dict(R.in_degree()), dict(R.out_degree())), budget)
    timed("pagerank", lambda: nx.pagerank(R, alpha=0.85, weight="weight"), budget)
    timed("betweenness k=500", lambda: nx.betweenness_centrality(U, k=min(20, n), seed=1),
          budget, 500 / 20, "for k=20")

    def bfs():
        for s in sources:
            nx.single_source_shortest_path_length(U, s)

    timed("closeness+harmonic", bfs, budget, 500 / len(sources), f"for {len(sources)} BFS")
    timed("eigenvector", lambda: nx.eigenvector_centrality_numpy(U, weight="weight"), budget)
    timed("coreness", lambda: nx.core_number(U), budget)
    timed("constraint", lambda: nx.constraint(U, nodes=sample, weight="weight"), budget,
          n / len(sample), f"on {len(sample)} members")
    timed("effective_size", lambda: nx.effective_size(U, nodes=sample, weight="weight"), budget,
          n / len(sample), f"on {len(sample)} members")
    timed("clustering", lambda: nx.clustering(U, nodes=sample), budget, n / len(sample),
          f"on {len(sample)} members")
    timed("louvain", lambda: nx.algorithms.community.louvain_communities(U, weight="weight",
                                                                          seed=1), budget)

    def one_eval():
        H = U.copy()
        H.remove_node(nodes[0])
        sum(len(c) ** 2 for c in nx.connected_components(H))

    timed("KPP-Neg k=20 greedy", one_eval, budget, n * 20, "for one candidate")

    def one_step():
        sum(1 for _ in nx.connected_components(U))

    steps = 101 + 200
    timed("disruption", one_step, budget, steps * 16, f"for one step, x {steps} x 16")


if __name__ == "__main__":
    main()
