#!/usr/bin/env bash
# Benchmark of issue 2: import and snapshot load of a synthetic forum, side
# by side with two floors, both plain `psql \copy`:
#  - bare: the same CSV files into tables with the same columns and no keys,
#    indexes or checks (the cost of moving the bytes into PostgreSQL);
#  - keyed: the same rows, exported from fora's tables after the import (so
#    references are already resolved to ids), into a fresh database with
#    fora's schema: the same tables, keys, indexes and checks.
#
# Usage: tests/bench/bench_import.sh [MEMBERS] [POSTS]   (default 1000000 10000000)
# Needs ~3 GB of disk under $FORA_BENCH_DIR (default /tmp/fora-bench).
# Prints a Markdown table for tests/bench/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
members=${1:-1000000}
posts=${2:-10000000}
work=${FORA_BENCH_DIR:-/tmp/fora-bench}
FORA_BUILD_DIR=build-release ./scripts/build.sh -DCMAKE_BUILD_TYPE=Release -DFORA_SANITIZE= >/dev/null
fora=$PWD/build-release/fora

rm -rf "$work"; mkdir -p "$work"; chmod 755 "$work"
export FORA_DATA_DIR=$work/pg
unset FORA_DATABASE_URL
$fora db start --quiet
conn=$($fora db status | sed -n 's/^connect with: psql "\(.*\)"$/\1/p')
base=${conn% dbname=*}
export PGOPTIONS="-c client_min_messages=warning"

# measure LABEL CMD...: wall seconds and peak RSS (MiB) of CMD
measure() {
    local label=$1; shift
    /usr/bin/time -f "%e %M" -o "$work/time.$label" "$@" >"$work/log.$label" 2>&1 \
        || { cat "$work/log.$label"; exit 1; }
    read -r secs kb <"$work/time.$label"
    printf '%s %s %s\n' "$label" "$secs" "$((kb / 1024))"
}

echo "generating $members members / $posts posts ..." >&2
measure synth $fora synth --quiet --members "$members" --posts "$posts" --seed 1 --out "$work/bundle" >"$work/results"
rows=$(( $(wc -l <"$work/bundle/posts.csv") + $(wc -l <"$work/bundle/members.csv") \
       + $(wc -l <"$work/bundle/threads.csv") + $(wc -l <"$work/bundle/events.csv") \
       + $(wc -l <"$work/bundle/boards.csv") - 5 ))

# the floor: psql \copy into bare tables with the CSV's columns
psql "$base dbname=postgres" -qAt -c "CREATE DATABASE floor" >/dev/null
psql "$base dbname=floor" -qAt <<'SQL' >/dev/null
CREATE TABLE boards (board_id text, parent_id text, category text);
CREATE TABLE members (member_id text, pseudonym text, registered_at timestamptz, status text, banned_at timestamptz);
CREATE TABLE threads (thread_id text, board_id text, starter_id text, created_at timestamptz);
CREATE TABLE posts (post_id text, thread_id text, author_id text, created_at timestamptz, reply_to text);
CREATE TABLE events (member_id text, kind text, occurred_at timestamptz, board_id text);
SQL
copies=()
for t in boards members threads posts events; do
    header=$(head -1 "$work/bundle/$t.csv")
    copies+=(-c "\\copy $t ($header) FROM '$work/bundle/$t.csv' WITH (FORMAT csv, HEADER true)")
done
psql "$base dbname=postgres" -qAt -c "CHECKPOINT" >/dev/null
measure floor psql "$base dbname=floor" -q "${copies[@]}" >>"$work/results"

# fora import into the real schema
$fora migrate --quiet
psql "$base dbname=postgres" -qAt -c "CHECKPOINT" >/dev/null
measure import $fora import --forum synth "$work/bundle" >>"$work/results"
measure recompute $fora recompute --forum synth >>"$work/results"
load=$(sed -n 's/.* loaded in \([0-9.]*\) s$/\1/p' "$work/log.recompute")

# the keyed floor: fora's own rows into fora's own schema, with psql \copy
keyed_tables=(forums boards members threads posts member_events)
for t in "${keyed_tables[@]}"; do
    psql "$base dbname=fora" -qc "\\copy (SELECT * FROM $t) TO '$work/$t.tbl' WITH (FORMAT csv)"
done
psql "$base dbname=postgres" -qAt -c "CREATE DATABASE keyed" >/dev/null
FORA_DATABASE_URL="$base dbname=keyed" $fora migrate --quiet
copies=()
for t in "${keyed_tables[@]}"; do
    copies+=(-c "\\copy $t FROM '$work/$t.tbl' WITH (FORMAT csv)")
done
psql "$base dbname=postgres" -qAt -c "CHECKPOINT" >/dev/null
measure keyed psql "$base dbname=keyed" -q -v ON_ERROR_STOP=1 "${copies[@]}" >>"$work/results"
read -r _ keyed_s keyed_mb < <(grep '^keyed ' "$work/results")

read -r _ synth_s synth_mb < <(grep '^synth ' "$work/results")
read -r _ floor_s floor_mb < <(grep '^floor ' "$work/results")
read -r _ import_s import_mb < <(grep '^import ' "$work/results")
read -r _ rec_s rec_mb < <(grep '^recompute ' "$work/results")
$fora db stop --quiet

cat <<EOF2
| step | wall s | rows/s | peak RSS MiB |
|---|---:|---:|---:|
| \`fora synth\` ($members members, $posts posts requested) | $synth_s | – | $synth_mb |
| floor: \`psql \\copy\` of the same CSVs into bare tables ($rows rows) | $floor_s | $(awk "BEGIN{printf \"%.0f\", $rows/$floor_s}") | $floor_mb (psql) |
| \`fora import\` (checks, staging, merge into keyed tables, one transaction) | $import_s | $(awk "BEGIN{printf \"%.0f\", $rows/$import_s}") | $import_mb |
| keyed floor: \`psql \\copy\` of the same rows into fora's keyed tables | $keyed_s | $(awk "BEGIN{printf \"%.0f\", $rows/$keyed_s}") | $keyed_mb (psql) |
| import / bare floor | $(awk "BEGIN{printf \"%.2f×\", $import_s/$floor_s}") | | |
| import / keyed floor | $(awk "BEGIN{printf \"%.2f×\", $import_s/$keyed_s}") | | |
| \`fora recompute\` (snapshot load + summary) | $rec_s | | $rec_mb |
| of which snapshot load | $load | | |
EOF2
