#!/usr/bin/env bash
# Benchmark of issue 3: the full key-player recompute of a synthetic forum
# through the real binary and database (snapshot load, every metric,
# composite rank, KPP-Neg/Pos with k = 20, disruption with 10 random
# repetitions, communities, thread statistics, concentration, storing).
#
# Usage: tests/bench/bench_recompute.sh [MEMBERS] [POSTS]   (default 100000 1000000)
# FORA_BENCH_ONLY=LIST passes --only LIST to the recompute (e.g. trajectories).
# Prints the run's per-step timings (analysis_runs.timings) and the peak RSS
# of `fora recompute`, for tests/bench/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
members=${1:-100000}
posts=${2:-1000000}
work=${FORA_BENCH_DIR:-/tmp/fora-bench-recompute}
FORA_BUILD_DIR=build-release ./scripts/build.sh -DCMAKE_BUILD_TYPE=Release -DFORA_SANITIZE= >/dev/null
fora=$PWD/build-release/fora

rm -rf "$work"; mkdir -p "$work"; chmod 755 "$work"
export FORA_DATA_DIR=$work/pg
unset FORA_DATABASE_URL
trap '$fora db stop --quiet || true' EXIT
$fora db start --quiet
$fora migrate --quiet
export PGOPTIONS="-c client_min_messages=warning"
conn=$($fora db status | sed -n 's/^connect with: psql "\(.*\)"$/\1/p')

echo "generating and importing $members members / $posts posts ..." >&2
$fora synth --quiet --members "$members" --posts "$posts" --seed 1 --out "$work/bundle" >/dev/null
$fora import --quiet --forum synth "$work/bundle"
/usr/bin/time -f "%e %M %U %S" -o "$work/time" $fora recompute --forum synth --seed 1 ${FORA_BENCH_ONLY:+--only "$FORA_BENCH_ONLY"} >"$work/log" 2>&1 ||
    { cat "$work/log"; exit 1; }
read -r secs kb usr sys <"$work/time"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "date: $(date -u +%Y-%m-%d)"
echo "recompute wall: ${secs} s, CPU: ${usr} s user + ${sys} s system, peak RSS: $((kb / 1024)) MiB; load average $(cut -d" " -f1-3 /proc/loadavg)"
psql "$conn" -qAt -c "SELECT timings FROM analysis_runs WHERE status = 'completed' ORDER BY id DESC LIMIT 1"
psql "$conn" -qAt -c "SELECT doc->'network' FROM run_keyplayer_doc ORDER BY run_id DESC LIMIT 1"
psql "$conn" -qAt -c "SELECT doc FROM run_trajectory_doc ORDER BY run_id DESC LIMIT 1"
psql "$conn" -qAt -c "SELECT grp, label, size, round(rate::numeric, 3), trend FROM run_trajectory_groups
    WHERE run_id = (SELECT max(run_id) FROM run_trajectory_doc) ORDER BY grp"
