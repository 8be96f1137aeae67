# Reads during a recompute: while a new run is computed and committed, the
# API keeps answering 200 from a whole run — the previous one until the new
# one commits, then the new one — never a half-written run.
source "$(dirname "$0")/lib.sh"
fora=$FORA_BIN
fresh_db fora_t_concurrent
expect_exit 0 "$fora" migrate --quiet
expect_exit 0 "$fora" import --quiet --forum beer "$FORA_SOURCE_DIR/server/sample/beer"
expect_exit 0 "$fora" recompute --quiet --forum beer --seed 1
old=$(sql "SELECT max(id) FROM analysis_runs")
expect_exit 0 "$fora" token create --quiet --name reader
token=$OUT
port=$((20000 + RANDOM % 20000))
"$fora" serve --port "$port" --workers 0 2>"$TMP/serve.log" >/dev/null &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$TMP"' EXIT
base="http://127.0.0.1:$port/v1/forums/beer"
for _ in $(seq 50); do curl -s "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done

# readers: four loops of members/disruption requests until the recompute ends
"$fora" recompute --quiet --forum beer --seed 2 >"$TMP/recompute.out" 2>&1 &
rpid=$!
readers=()
for r in 1 2 3 4; do
    (
        i=0
        while kill -0 "$rpid" 2>/dev/null || [ $i -lt 5 ]; do
            curl -s -o "$TMP/r$r.$i.json" -w '%{http_code}\n' -H "Authorization: Bearer $token" \
                "$base/members?limit=1000&sort=-pagerank" >>"$TMP/codes" || echo curl-failed >>"$TMP/codes"
            i=$((i + 1))
        done
    ) &
    readers+=($!)
done
wait "$rpid" || fail "recompute failed: $(cat "$TMP/recompute.out")"
wait "${readers[@]}"
new=$(sql "SELECT max(id) FROM analysis_runs")
[ "$new" -gt "$old" ] || fail "no new run"
[ "$(sort -u "$TMP/codes")" = 200 ] || fail "answers during the recompute: $(sort "$TMP/codes" | uniq -c)"
# every document is one whole run: its item count is that run's row count
python3 - "$TMP" "$old" "$new" "$(sql "SELECT count(*) FROM run_member_metrics WHERE run_id = $old")" \
    "$(sql "SELECT count(*) FROM run_member_metrics WHERE run_id = $new")" <<'PY'
import glob, json, sys
tmp, old, new, n_old, n_new = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
seen = {}
for f in glob.glob(tmp + "/r*.json"):
    d = json.load(open(f))
    run = d["run"]["id"]
    assert run in (old, new), (f, run)
    want = n_old if run == old else n_new
    assert d["total"] == want and len(d["items"]) == min(want, 1000), (f, d["total"], want)
    seen[run] = seen.get(run, 0) + 1
assert sum(seen.values()) >= 20, seen
print("documents per run:", seen)
PY
# after the commit the new run is served
OUT=$(curl -s -H "Authorization: Bearer $token" "$base/members?limit=1")
[ "$(json "d['run']['id']")" = "$new" ] || fail "the new run is not served: $OUT"
kill -TERM "$pid"; wait "$pid" || fail "serve did not stop cleanly"
echo "test_concurrent_reads: ok"
