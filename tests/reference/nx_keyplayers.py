#!/usr/bin/python3
"""Reference check of fora's key-player metrics against NetworkX.

Usage: nx_keyplayers.py BUNDLE_DIR OUT_DIR

BUNDLE_DIR is a fora CSV bundle (api-docs/csv-bundle.md); OUT_DIR holds what
tests/unit/test_keyplayers_nx.c wrote (fora's values).  This script rebuilds
the member reply graph from the CSV files itself (reply rule
explicit_or_starter, self-replies and deleted accounts dropped), recomputes
every value with NetworkX and exits 1 on any difference above 1e-9 relative
(absolute floor 1e-12; 1e-9 for eigenvector centrality, whose solvers differ).

Matched definitions (api-docs/keyplayers.md, "Reference comparison"):
  closeness     = nx.closeness_centrality(U, wf_improved=False)
  closeness_wf  = nx.closeness_centrality(U)            (Wasserman-Faust)
  harmonic      = nx.harmonic_centrality(U) / (n - 1)
  eigenvector   = nx.eigenvector_centrality_numpy(U, weight) / its max
  betweenness   = nx.betweenness_centrality(U, normalized=False)
Run with Debian's python3-networkx (2.8) and python3-scipy.
"""
import csv
import gzip
import math
import os
import sys

import networkx as nx
from networkx.algorithms import bipartite

REL = 1e-9
FAILS = []
T0 = [0.0]


def lap(what):
    import time

    t = time.perf_counter()
    if T0[0]:
        print(f"    ({what}: {t - T0[0]:.1f} s)")
    T0[0] = t


def rows(bundle, name):
    path = os.path.join(bundle, name + ".csv.gz")
    opener = gzip.open if os.path.exists(path) else open
    if not os.path.exists(path):
        path = os.path.join(bundle, name + ".csv")
    with opener(path, "rt", encoding="utf-8", newline="") as fh:
        yield from csv.DictReader(fh)


def parse_time(s):
    # ISO-8601 (the sample's format) or Unix seconds, floored to whole seconds as fora does
    from datetime import datetime, timezone

    if not s:
        return None
    try:
        return float(s)
    except ValueError:
        pass
    s = s.replace(" ", "T").rstrip("Z")
    dt = datetime.fromisoformat(s)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return math.floor(dt.timestamp())


def close(name, key, ours, ref, rel=REL, absf=1e-12):
    if isinstance(ref, float) and math.isnan(ref):
        ok = math.isnan(ours)
    else:
        ok = abs(ours - ref) <= rel * abs(ref) + absf
    if not ok:
        FAILS.append((name, key, ours, ref))
    return ok


def main():
    bundle, out = sys.argv[1], sys.argv[2]

    summary = {}
    with open(os.path.join(out, "summary.tsv")) as fh:
        for line in fh:
            k, v = line.rstrip("\n").split("\t")
            summary[k] = v
    t_from, t_to = int(summary["from"]), int(summary["to"])

    # ---- the forum ----
    threads = {}
    for r in rows(bundle, "threads"):
        threads[r["thread_id"]] = (r["board_id"], r["starter_id"], parse_time(r["created_at"]))
    posts = []
    for k, r in enumerate(rows(bundle, "posts")):
        posts.append((parse_time(r["created_at"]), k, r["post_id"], r["thread_id"],
                      r["author_id"], r["reply_to"]))
    posts.sort()
    author_of = {p[2]: p[4] for p in posts}
    first_post = {}
    for p in posts:
        first_post.setdefault(p[3], p[2])
    # the window [from, to) selects posts by their own time; the post answered may be older
    posts = [p for p in posts if t_from <= p[0] < t_to]
    members = [r["member_id"] for r in rows(bundle, "members")]
    status = {r["member_id"]: r.get("status", "") for r in rows(bundle, "members")}

    # ---- the reply graph (explicit_or_starter) ----
    R = nx.DiGraph()
    for _, _, pid, tid, au, rt in posts:
        if not au:
            continue
        if rt:
            tgt = author_of.get(rt, "")
        else:
            starter = threads[tid][1]
            if first_post[tid] == pid and starter == au:
                continue
            tgt = starter
        if not tgt or tgt == au:
            continue
        w = R[au][tgt]["weight"] + 1 if R.has_edge(au, tgt) else 1
        R.add_edge(au, tgt, weight=w)
    U = nx.Graph()
    for a, b, dd in R.edges(data=True):
        w = dd["weight"]
        if U.has_edge(a, b):
            U[a][b]["weight"] += w
        else:
            U.add_edge(a, b, weight=w)
    n = R.number_of_nodes()
    print(f"reference: {n} network members, {R.number_of_edges()} reply pairs")

    # ---- fora's values ----
    with open(os.path.join(out, "metrics.tsv")) as fh:
        rd = csv.DictReader(fh, delimiter="\t")
        ours = {r["member"]: r for r in rd}
    if int(summary["n_network"]) != n:
        FAILS.append(("n_network", "", summary["n_network"], n))

    # ---- activity ----
    posts_of, threads_of, boards_of, started = {}, {}, {}, {}
    for _, _, pid, tid, au, _ in posts:
        if not au:
            continue
        posts_of[au] = posts_of.get(au, 0) + 1
        threads_of.setdefault(au, set()).add(tid)
        boards_of.setdefault(au, set()).add(threads[tid][0])
    for tid, (_, st, at) in threads.items():
        if st and t_from <= at < t_to:
            started[st] = started.get(st, 0) + 1
    for m in members:
        o = ours[m]
        close("posts", m, float(o["posts"]), float(posts_of.get(m, 0)), 0, 0)
        close("threads", m, float(o["threads"]), float(len(threads_of.get(m, ()))), 0, 0)
        close("boards", m, float(o["boards"]), float(len(boards_of.get(m, ()))), 0, 0)
        close("threads_started", m, float(o["threads_started"]), float(started.get(m, 0)), 0, 0)
        close("in_network", m, float(o["in_network"]), float(m in R), 0, 0)

    # ---- network metrics ----
    lap("")
    pr = nx.pagerank(R, alpha=0.85, weight="weight", tol=1e-15, max_iter=100000)
    lap("pagerank")
    bet = nx.betweenness_centrality(U, normalized=False)
    betn = {v: x / ((n - 1) * (n - 2) / 2) for v, x in bet.items()}
    lap("betweenness")
    clo = nx.closeness_centrality(U, wf_improved=False)
    clo_wf = nx.closeness_centrality(U)
    harm = nx.harmonic_centrality(U)
    lap("closeness")
    ev = nx.eigenvector_centrality_numpy(U, weight="weight")
    evmax = max(ev.values())
    core = nx.core_number(U)
    lap("eigenvector+core")
    con = nx.constraint(U, weight="weight")
    lap("constraint")
    es = nx.effective_size(U, weight="weight")
    lap("effective size")
    cl = nx.clustering(U)
    lap("clustering")
    checks = {
        "in_degree": dict(R.in_degree()),
        "out_degree": dict(R.out_degree()),
        "in_strength": dict(R.in_degree(weight="weight")),
        "out_strength": dict(R.out_degree(weight="weight")),
        "pagerank": pr,
        "betweenness": bet,
        "betweenness_norm": betn,
        "closeness": clo,
        "closeness_wf": clo_wf,
        "harmonic": {v: x / (n - 1) for v, x in harm.items()},
        "coreness": core,
        "constraint": con,
        "effective_size": es,
        "clustering": cl,
    }
    for name, ref in checks.items():
        worst = 0.0
        for v, x in ref.items():
            o = float(ours[v][name])
            close(name, v, o, float(x))
            if x:
                worst = max(worst, abs(o - x) / abs(x))
        print(f"  {name:16s} {len(ref)} members, max relative difference {worst:.2e}")
    worst = 0.0
    for v, x in ev.items():
        ref = abs(x) / evmax
        o = float(ours[v]["eigenvector"])
        close("eigenvector", v, o, ref, 1e-9, 1e-9)
        worst = max(worst, abs(o - ref))
    print(f"  {'eigenvector':16s} {len(ev)} members, max absolute difference {worst:.2e}")
    for m in members:
        if m not in R:
            for name in checks:
                if name != "constraint":
                    close(name, m, float(ours[m][name]), 0.0, 0, 0)

    # communities: modularity of fora's partition, by NetworkX
    parts = {}
    for v in R.nodes():
        parts.setdefault(int(ours[v]["community"]), set()).add(v)
    q = nx.algorithms.community.modularity(U, list(parts.values()), weight="weight")
    close("modularity", "", float(summary["modularity"]), q)
    print(f"  modularity       {len(parts)} communities, Q = {q:.6f}")

    # ---- projection (Newman), threads with more than 20 participants left out ----
    B = nx.Graph()
    for _, _, pid, tid, au, _ in posts:
        if au:
            B.add_edge(("m", au), ("t", tid))
    big = [t for t in B if t[0] == "t" and B.degree(t) > 20]
    close("projection_skipped", "", float(summary["projection_skipped"]), float(len(big)), 0, 0)
    B.remove_nodes_from(big)
    P = bipartite.collaboration_weighted_projected_graph(B, [v for v in B if v[0] == "m"])
    P.remove_edges_from([(a, b) for a, b, dd in P.edges(data=True) if dd["weight"] == 0])
    ne = 0
    with open(os.path.join(out, "projection.tsv")) as fh:
        for line in fh:
            a, b, w = line.rstrip("\n").split("\t")
            ne += 1
            if not P.has_edge(("m", a), ("m", b)):
                FAILS.append(("projection edge", f"{a}-{b}", w, "missing"))
                continue
            close("projection weight", f"{a}-{b}", float(w), P[("m", a)][("m", b)]["weight"])
    close("projection edges", "", float(ne), float(P.number_of_edges()), 0, 0)
    print(f"  projection       {ne} pairs")
    lap("projection")

    # ---- KPP-Neg objective of fora's set ----
    kset = summary["kpp_set"].split(",")

    def frag(G):
        m = G.number_of_nodes()
        if m < 2:
            return 0.0
        s = sum(len(c) * (len(c) - 1) for c in nx.connected_components(G))
        return 1 - s / (m * (m - 1))

    def dwfrag(G):
        m = G.number_of_nodes()
        if m < 2:
            return 0.0
        tot = 0.0
        for _, dist in nx.all_pairs_shortest_path_length(G):
            tot += sum(1.0 / x for x in dist.values() if x > 0)
        return 1 - tot / (m * (m - 1))

    Uk = U.copy()
    Uk.remove_nodes_from(kset)
    close("kpp F", "", float(summary["kpp_f"]), frag(Uk))
    close("kpp F intact", "", float(summary["kpp_f_base"]), frag(U))
    close("kpp DF", "", float(summary["kpp_df"]), dwfrag(Uk))
    close("kpp DF intact", "", float(summary["kpp_df_base"]), dwfrag(U))
    print(f"  KPP-Neg          F {frag(Uk):.6f}, DF {dwfrag(Uk):.6f}")
    lap("kpp")

    # ---- the degree strategy's disruption curve ----
    with open(os.path.join(out, "order.tsv")) as fh:
        order = [line.rstrip("\n") for line in fh]
    deg = dict(U.degree())
    for i in range(1, len(order)):
        if deg[order[i - 1]] < deg[order[i]]:
            FAILS.append(("degree order", i, deg[order[i - 1]], deg[order[i]]))
    total = sum(dd["weight"] for _, _, dd in R.edges(data=True))
    G = U.copy()
    done = 0
    steps = 0
    with open(os.path.join(out, "curve.tsv")) as fh:
        for line in fh:
            r, lcc, ncomp, fr, lost = line.rstrip("\n").split("\t")
            r = int(r)
            while done < r:
                G.remove_node(order[done])
                done += 1
            comps = list(nx.connected_components(G))
            close("curve lcc", r, float(lcc), max((len(c) for c in comps), default=0) / n)
            close("curve components", r, float(ncomp), float(len(comps)), 0, 0)
            close("curve F", r, float(fr), frag(G))
            alive = sum(dd["weight"] for _, _, dd in G.edges(data=True))
            close("curve lost", r, float(lost), 1 - alive / total)
            steps += 1
    print(f"  disruption       {steps} grid steps of the degree strategy")
    lap("disruption")

    # ---- role validation: AUC by counting pairs ----
    staff = {m for m in members if status[m].lower() in ("administrator", "admin", "moderator",
                                                         "staff")}
    comp = {}
    with open(os.path.join(out, "composite.tsv")) as fh:
        for line in fh:
            m, x = line.rstrip("\n").split("\t")
            comp[m] = float(x)

    def auc(score):
        pos = [score[m] for m in members if m in staff]
        neg = [score[m] for m in members if m not in staff]
        neg.sort()
        import bisect

        tot = 0.0
        for p in pos:
            lo = bisect.bisect_left(neg, p)
            hi = bisect.bisect_right(neg, p)
            tot += lo + 0.5 * (hi - lo)
        return tot / (len(pos) * len(neg))

    with open(os.path.join(out, "validation.tsv")) as fh:
        for line in fh:
            name, a, _ = line.rstrip("\n").split("\t")
            if name == "composite":
                score = comp
            elif name == "constraint":
                score = {m: (-float(ours[m][name]) if ours[m][name] != "nan" else -math.inf)
                         for m in members}
            elif name == "closeness":
                score = {m: float(ours[m]["closeness"]) for m in members}
            else:
                score = {m: float(ours[m][name]) for m in members}
            close("auc " + name, "", float(a), auc(score))
    print(f"  validation       {len(staff)} staff members")
    lap("validation")

    # ---- concentration and threads ----
    counts = sorted(posts_of.values())
    k = len(counts)
    tot = sum(counts)
    gini = sum((2 * (i + 1) - k - 1) * x for i, x in enumerate(counts)) / (k * tot)
    close("gini", "", float(summary["gini"]), gini)
    close("top1", "", float(summary["top1"]), sum(counts[k - math.ceil(0.01 * k):]) / tot)
    close("top10", "", float(summary["top10"]), sum(counts[k - math.ceil(0.10 * k):]) / tot)
    from scipy.stats import spearmanr

    size, parts_of = {}, {}
    for _, _, pid, tid, au, _ in posts:
        size[tid] = size.get(tid, 0) + 1
        if au:
            parts_of.setdefault(tid, set()).add(au)
    xs, ys = [], []
    for tid in size:
        p = parts_of.get(tid, set())
        xs.append(size[tid])
        ys.append(sum(posts_of[a] for a in p) / len(p) if p else 0.0)
    rho = spearmanr(xs, ys).correlation
    close("spearman", "", float(summary["spearman"]), rho)
    close("threads with posts", "", float(summary["threads_with_posts"]), float(len(size)), 0, 0)
    print(f"  concentration    gini {gini:.6f}; threads {len(size)}, spearman {rho:.6f}")

    if FAILS:
        for f in FAILS[:40]:
            print("MISMATCH", *f)
        print(f"{len(FAILS)} mismatches")
        return 1
    print("all values agree with NetworkX")
    return 0


if __name__ == "__main__":
    sys.exit(main())
