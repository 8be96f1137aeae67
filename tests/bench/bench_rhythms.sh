#!/usr/bin/env bash
# Benchmark of issue 5: the hourly profile and the Kaplan-Meier estimate on a
# synthetic forum, from a snapshot built straight from `fora synth`'s CSV
# bundle (no database).  Generated data go to $FORA_BENCH_DIR (default
# /tmp/fora-bench-rhythms) and are not kept in the repository.
#
# Usage: tests/bench/bench_rhythms.sh [MEMBERS] [POSTS]   (default 1000000 10000000)
set -euo pipefail
cd "$(dirname "$0")/../.."
members=${1:-1000000}
posts=${2:-10000000}
work=${FORA_BENCH_DIR:-/tmp/fora-bench-rhythms}
mkdir -p "$work"
FORA_BUILD_DIR=build-release ./scripts/build.sh -DCMAKE_BUILD_TYPE=Release -DFORA_SANITIZE= \
    >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
b=build-release
cc -std=c11 -O2 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Iinclude -o "$b/bench_rhythms" \
    tests/bench/bench_rhythms.c "$b/libfora_server.a" "$b/libfora_analysis.a" \
    $(pkg-config --libs igraph gsl libpq jansson libmicrohttpd expat zlib) -lpthread -lm
if [ ! -f "$work/done-$members-$posts" ]; then
    rm -rf "$work/bundle"
    "$b/fora" synth --quiet --members "$members" --posts "$posts" --seed 1 --out "$work/bundle" >/dev/null
    touch "$work/done-$members-$posts"
fi
uptime | sed "s/^/machine: /"
/usr/bin/time -f "peak_rss_mib %M" "$b/bench_rhythms" "$work/bundle" 2>&1 |
    awk '/^peak_rss_mib/ { printf "peak_rss_mib %d\n", $2 / 1024; next } { print }'
