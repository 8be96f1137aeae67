#!/usr/bin/env bash
# The linking evaluation on a real forum larger than the bundled sample: SNAP
# sx-mathoverflow (24,818 members, 506,550 timestamped interactions; see its
# README in ../shared/data/forums/snap-sx-mathoverflow, not in this repository),
# with tests/bench/eval_linking_snap.c.  Prints MRR and R@10 of every view and
# episode length, pooled and balanced, and of synthetic sybils, beside random.
#
# Usage: tests/bench/eval_linking_snap.sh [FILE.txt.gz] [QUERIES] [SYBILS] [SEED]
#        (default: $FORA_SNAP_MO or ../shared/.../sx-mathoverflow.txt.gz, 1000, 1000, 1)
set -euo pipefail
cd "$(dirname "$0")/../.."
snap=${1:-${FORA_SNAP_MO:-$PWD/../shared/data/forums/snap-sx-mathoverflow/sx-mathoverflow.txt.gz}}
[ -f "$snap" ] || { echo "no SNAP file at $snap (pass its path)" >&2; exit 2; }
work=${FORA_BENCH_DIR:-/tmp/fora-eval-linking}
mkdir -p "$work"
FORA_BUILD_DIR=build-release ./scripts/build.sh -DCMAKE_BUILD_TYPE=Release -DFORA_SANITIZE= \
    >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
b=build-release
blas=$(pkg-config --exists openblas && echo openblas || true)
cc -std=c11 -O2 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Iinclude -Itests \
    -o "$b/eval_linking_snap" tests/bench/eval_linking_snap.c "$b/libfora_server.a" \
    "$b/libfora_analysis.a" $(pkg-config --libs $blas igraph gsl libpq jansson libmicrohttpd expat zlib) \
    -lpthread -lm
echo "file: $snap"
uptime | sed "s/^/machine: /"
/usr/bin/time -f "peak_rss_mib %M" "$b/eval_linking_snap" "$snap" "${2:-1000}" "${3:-1000}" "${4:-1}" 2>&1 |
    awk '/^peak_rss_mib/ { printf "peak_rss_mib %d\n", $2 / 1024; next } { print }'
