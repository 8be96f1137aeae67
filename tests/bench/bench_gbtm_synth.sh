#!/usr/bin/env bash
# Benchmark of issue 4: a synthetic forum of MEMBERS members x MONTHS months
# (default 100000 x 60) with six planted activity groups
# (tests/bench/gen_gbtm_synth.py), Poisson GBTM with quadratic trajectories,
# K = 1..8, 10 starts each, BIC selection, through `fora trajectories fit`
# (the CSV is read and parsed inside the timing).  Prints wall time, CPU time,
# peak RSS, the BIC choice, and the adjusted Rand index of the chosen model's
# assignment against the planted groups (from a second, untimed run with
# --members).  The generated files live in a temporary folder, never in the repo.
#
# Usage: tests/bench/bench_gbtm_synth.sh [MEMBERS] [MONTHS]
set -euo pipefail
cd "$(dirname "$0")/../.."
members=${1:-100000}
months=${2:-60}
if [ -z "${FORA_BENCH_NO_BUILD:-}" ]; then
    FORA_BUILD_DIR=build-release ./scripts/build.sh -DCMAKE_BUILD_TYPE=Release -DFORA_SANITIZE= >/dev/null
fi
fora=$PWD/build-release/fora
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 tests/bench/gen_gbtm_synth.py "$members" "$months" 1 "$work/counts.csv" "$work/truth.csv"
/usr/bin/time -f "%e %U %M" -o "$work/time" \
    "$fora" trajectories fit --wide-csv "$work/counts.csv" --groups 1-8 --order 2 --starts 10 \
    --quiet >"$work/fit.json"
read -r wall cpu rss <"$work/time"
k=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['best_bic_K'])" "$work/fit.json")
"$fora" trajectories fit --wide-csv "$work/counts.csv" --groups "$k" --order 2 --starts 10 \
    --members --no-se --quiet >"$work/best.json"
python3 - "$work/fit.json" "$work/best.json" "$work/truth.csv" "$wall" "$cpu" "$rss" <<'PYEOF'
import json, sys
from collections import Counter
fit, best, truth, wall, cpu, rss = sys.argv[1:7]
doc = json.load(open(fit))
truth = dict(l.strip().split(",") for l in open(truth))
mem = json.load(open(best))["fits"][0]["members"]
a = [truth[m["id"]] for m in mem]
b = [m["group"] for m in mem]
def c2(x): return x * (x - 1) / 2
n = len(a)
sij = sum(c2(v) for v in Counter(zip(a, b)).values())
sa = sum(c2(v) for v in Counter(a).values()); sb = sum(c2(v) for v in Counter(b).values())
e = sa * sb / c2(n)
ari = (sij - e) / (0.5 * (sa + sb) - e)
print("| members x months | patterns | K range | wall s | CPU s | peak RSS MiB | BIC picks K | ARI vs planted |")
print("|---|---:|---|---:|---:|---:|---:|---:|")
f0 = doc["fits"][0]
print("| %d x %d | %d | 1-8 | %s | %s | %.0f | %d | %.4f |" % (
    doc["members"], doc["periods"], f0["patterns"], wall, cpu, int(rss) / 1024,
    doc["best_bic_K"], ari))
print()
print("| K | loglik | bic | converged | starts at best | shares |")
print("|---:|---:|---:|---|---:|---|")
for f in doc["fits"]:
    print("| %d | %.3f | %.3f | %s | %d | %s |" % (f["K"], f["loglik"], f["bic"], f["converged"],
          f["starts_at_best"], " ".join("%.3f" % g["pi"] for g in f["groups"])))
PYEOF
