#!/usr/bin/env bash
# Benchmark of issue 7: whole-history linking fingerprints of every member of
# a synthetic forum and the all-pairs top-10 (combined view), from a snapshot
# built straight from `fora synth`'s CSV bundle (no database).  Generated data
# go to $FORA_BENCH_DIR (default /tmp/fora-bench-linking), not the repository.
#
# Usage: tests/bench/bench_linking.sh [MEMBERS] [POSTS] [MODE] [PROJ_DIM] [CAND]
#        (default 100000 1000000 projected 32 50; MODE exact|projected|both|step,
#        step: the recompute step's computation phase by phase, see bench_linking.c)
set -euo pipefail
cd "$(dirname "$0")/../.."
members=${1:-100000}
posts=${2:-1000000}
mode=${3:-projected}
proj=${4:-32}
cand=${5:-50}
work=${FORA_BENCH_DIR:-/tmp/fora-bench-linking}
mkdir -p "$work"
FORA_BUILD_DIR=build-release ./scripts/build.sh -DCMAKE_BUILD_TYPE=Release -DFORA_SANITIZE= \
    >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
b=build-release
blas=$(pkg-config --exists openblas && echo openblas || true)
cc -std=c11 -O2 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Iinclude -Itests -o "$b/bench_linking" \
    tests/bench/bench_linking.c "$b/libfora_server.a" "$b/libfora_analysis.a" \
    $(pkg-config --libs $blas igraph gsl libpq jansson libmicrohttpd expat zlib) -lpthread -lm
if [ ! -f "$work/done-$members-$posts" ]; then
    rm -rf "$work/bundle"
    "$b/fora" synth --quiet --members "$members" --posts "$posts" --seed 1 --out "$work/bundle" >/dev/null
    touch "$work/done-$members-$posts"
fi
echo "cblas: ${blas:-gsl}"
uptime | sed "s/^/machine: /"
/usr/bin/time -f "peak_rss_mib %M" "$b/bench_linking" "$work/bundle" "$mode" "$proj" "$cand" 2>&1 |
    awk '/^peak_rss_mib/ { printf "peak_rss_mib %d\n", $2 / 1024; next } { print }'
uptime | sed "s/^/machine after: /"
