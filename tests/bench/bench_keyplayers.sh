#!/usr/bin/env bash
# Key-player benchmark, fora and NetworkX side by side on the same graphs
# (tests/bench/RESULTS.md, "Issue 3").  Usage:
#   tests/bench/bench_keyplayers.sh [BUILD_DIR] [NX_BUDGET_SECONDS]
# Builds bench_keyplayers (Release) in BUILD_DIR (default build-bench), makes
# the 100 k member / 1 M post synthetic forum, runs fora on it and on the SNAP
# sx-mathoverflow network under /usr/bin/time -v, then NetworkX
# (tests/bench/nx_bench.py) on the very reply graphs fora used.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
bdir=${1:-$here/build-bench}
budget=${2:-120}
work=$(mktemp -d /tmp/fora-kpbench-XXXXXX)
snap=${FORA_SNAP_MO:-$here/../shared/data/forums/snap-sx-mathoverflow/sx-mathoverflow.txt.gz}
cmake -S "$here" -B "$bdir" -DCMAKE_BUILD_TYPE=Release >/dev/null
make -C "$bdir" -j2 fora bench_keyplayers >/dev/null
"$bdir/fora" synth --members 100000 --posts 1000000 --seed 1 --out "$work/synth" >/dev/null
for g in synth mo; do
    if [ $g = synth ]; then src=(--bundle "$work/synth"); else src=(--snap "$snap"); fi
    echo "== fora on $g"
    /usr/bin/time -v "$bdir/tests/bench_keyplayers" "${src[@]}" --edges "$work/$g.edges" \
        2> "$work/$g.time"
    grep -E "Maximum resident|Elapsed" "$work/$g.time"
    echo "== NetworkX on $g"
    /usr/bin/python3 "$here/tests/bench/nx_bench.py" "$work/$g.edges" "$budget"
done
rm -rf "$work"
