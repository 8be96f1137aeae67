#!/usr/bin/env bash
# Load benchmark of issue 6 with wrk (Debian package): a results endpoint and
# a paginated member list of the bundled sample at 50 connections, then a
# soak run that samples the server's RSS.
#
# Usage: tests/bench/bench_http.sh [SECONDS] [SOAK_SECONDS]   (default 30 600)
# Prints wrk's summaries and the RSS samples, for tests/bench/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-30}
soak=${2:-600}
work=${FORA_BENCH_DIR:-/tmp/fora-bench-http}
FORA_BUILD_DIR=build-release ./scripts/build.sh -DCMAKE_BUILD_TYPE=Release -DFORA_SANITIZE= >/dev/null
fora=$PWD/build-release/fora
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }

rm -rf "$work"; mkdir -p "$work"; chmod 755 "$work"
export FORA_DATA_DIR=$work/pg
unset FORA_DATABASE_URL
$fora db start --quiet
$fora migrate --quiet
$fora import --quiet --forum beer server/sample/beer
$fora recompute --quiet --forum beer >/dev/null
token=$($fora token create --quiet --name bench)
port=$((20000 + RANDOM % 20000))
$fora serve --port "$port" --workers 0 2>/dev/null >/dev/null &
pid=$!
trap 'kill $pid 2>/dev/null || true; $fora db stop --quiet || true' EXIT
for _ in $(seq 50); do curl -s "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
base="http://127.0.0.1:$port/v1/forums/beer"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "date: $(date -u +%Y-%m-%dT%H:%MZ)"
for route in "summary" "members?limit=50&offset=100&sort=-pagerank"; do
    echo "== GET /v1/forums/beer/$route, 50 connections, ${secs}s"
    wrk -t2 -c50 -d"${secs}s" --latency -H "Authorization: Bearer $token" "$base/$route" |
        grep -E "Latency|50%|90%|99%|requests in|Requests/sec|Non-2xx|Socket errors"
done
rss() { awk '/VmRSS/ {print $2}' "/proc/$pid/status"; }
echo "== soak: ${soak}s on both routes, RSS (KiB) every 60 s"
echo "rss_start_kib: $(rss)"
wrk -t1 -c25 -d"${soak}s" -H "Authorization: Bearer $token" "$base/summary" >"$work/soak1" &
w1=$!
wrk -t1 -c25 -d"${soak}s" -H "Authorization: Bearer $token" "$base/members?limit=50&offset=100&sort=-pagerank" >"$work/soak2" &
w2=$!
for ((t = 60; t <= soak; t += 60)); do sleep 60; echo "t=${t}s rss_kib: $(rss)"; done
wait $w1 $w2
grep -hE "requests in|Non-2xx|Socket errors" "$work/soak1" "$work/soak2"
echo "rss_end_kib: $(rss)"
