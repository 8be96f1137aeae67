# The recompute queue: POST /v1/forums/{forum}/recompute (admin only) queues a
# job, workers claim jobs with FOR UPDATE SKIP LOCKED (two `fora worker`
# processes share the queue, each job runs once), GET /v1/jobs/{id} follows
# it, an interrupted job is swept to failed, and `fora serve`'s own worker
# thread runs jobs too.
source "$(dirname "$0")/lib.sh"
fora=$FORA_BIN
fresh_db fora_t_jobs
expect_exit 0 "$fora" migrate --quiet
expect_exit 0 "$fora" import --quiet --forum beer "$FORA_SOURCE_DIR/server/sample/beer"
expect_exit 0 "$fora" token create --name reader
read_token=$OUT
expect_exit 0 "$fora" token create --name ops --role admin
admin_token=$OUT

start_server() { # start_server EXTRA-ARGS...: sets $pid and $base
    port=$((20000 + RANDOM % 20000))
    "$fora" serve --port "$port" "$@" 2>>"$TMP/serve.log" >/dev/null &
    pid=$!
    base="http://127.0.0.1:$port"
    for _ in $(seq 50); do curl -s "$base/healthz" >/dev/null && break; sleep 0.1; done
}
stop_server() { kill -TERM "$pid"; wait "$pid" || fail "serve did not stop cleanly"; }
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$TMP"' EXIT

# --- queue through a server without a worker
start_server --workers 0
code=$(curl -s -o "$TMP/b" -w '%{http_code}' -X POST -H "Authorization: Bearer $read_token" \
    "$base/v1/forums/beer/recompute")
[ "$code" = 403 ] || fail "a read token queued a recompute ($code)"
OUT=$(cat "$TMP/b"); [ "$(json "d['error']['code']")" = forbidden ] || fail "403 body"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$base/v1/forums/beer/recompute")
[ "$code" = 401 ] || fail "no token queued a recompute ($code)"
code=$(curl -s -o "$TMP/b" -w '%{http_code}' -X POST -H "Authorization: Bearer $admin_token" \
    "$base/v1/forums/beer/recompute?only=summary,colours")
[ "$code" = 400 ] || fail "bad only gave $code"
OUT=$(cat "$TMP/b"); [ "$(json "d['error']['detail']")" = only ] || fail "bad only not named"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $admin_token" \
    "$base/v1/forums/nosuch/recompute")
[ "$code" = 404 ] || fail "unknown forum gave $code"
for seed in 1 2 3; do
    code=$(curl -s -D "$TMP/h$seed" -o "$TMP/b$seed" -w '%{http_code}' -X POST \
        -H "Authorization: Bearer $admin_token" "$base/v1/forums/beer/recompute?seed=$seed")
    [ "$code" = 202 ] || fail "queue gave $code: $(cat "$TMP/b$seed")"
done
grep -qi '^location: /v1/jobs/[0-9]' "$TMP/h1" || fail "no Location: $(cat "$TMP/h1")"
# the same request again while the first is queued: the same job
curl -s -o "$TMP/again" -X POST -H "Authorization: Bearer $admin_token" "$base/v1/forums/beer/recompute?seed=1"
[ "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["job"]["id"] == json.load(open(sys.argv[2]))["job"]["id"])' "$TMP/b1" "$TMP/again")" = True ] ||
    fail "a repeated request queued a second job"
[ "$(sql "SELECT count(*) FROM recompute_jobs WHERE status = 'queued'")" = 3 ] || fail "three queued"
# run options are validated before anything is queued, naming the option
for bad in "kpp_k=0" "from=2020-13-01" "weights=pagerank:-1" "repetitions=x" "reply_rule=nobody" \
    "from=2021-01-01&to=2020-01-01" "colour=red"; do
    code=$(curl -s -o "$TMP/bad" -w '%{http_code}' -X POST -H "Authorization: Bearer $admin_token" \
        "$base/v1/forums/beer/recompute?$bad")
    [ "$code" = 400 ] || fail "$bad gave $code"
    OUT=$(cat "$TMP/bad")
    want=${bad##*&}; want=${want%%=*}
    [ "$(json "d['error']['detail']")" = "$want" ] || fail "$bad: detail should be $want: $OUT"
done
[ "$(sql "SELECT count(*) FROM recompute_jobs")" = 3 ] || fail "a bad request queued a job"
[ "$(sql "SELECT count(*) FROM recompute_jobs j JOIN api_tokens t ON t.id = j.requested_by WHERE t.name = 'ops'")" = 3 ] ||
    fail "requested_by"
OUT=$(curl -s -H "Authorization: Bearer $read_token" "$base/v1/jobs?status=queued")
[ "$(json "d['total']")" = 3 ] || fail "jobs list: $OUT"

# --- a job whose worker is gone is swept to failed by the next worker
sql "INSERT INTO recompute_jobs (forum_id, status, started_at, worker) SELECT id, 'running', now(), 'ghost:1' FROM forums" >/dev/null
ghost=$(sql "SELECT max(id) FROM recompute_jobs")

# --- two workers share the queue; every job runs exactly once
"$fora" worker --once --quiet &
w1=$!
"$fora" worker --once --quiet &
w2=$!
wait "$w1" || fail "worker 1 failed"
wait "$w2" || fail "worker 2 failed"
[ "$(sql "SELECT count(*) FROM recompute_jobs WHERE status = 'completed'")" = 3 ] ||
    fail "jobs: $(sql "SELECT id, status, error FROM recompute_jobs")"
[ "$(sql "SELECT count(DISTINCT run_id) FROM recompute_jobs WHERE status = 'completed'")" = 3 ] ||
    fail "each job has its own run"
[ "$(sql "SELECT count(*) FROM analysis_runs")" = 3 ] || fail "runs: each job ran once"
[ "$(sql "SELECT array_agg((r.params->>'seed')::int ORDER BY j.id) FROM recompute_jobs j JOIN analysis_runs r ON r.id = j.run_id")" = "{1,2,3}" ] ||
    fail "job seeds reach the runs"
[ "$(sql "SELECT status || ':' || (error LIKE 'interrupted%') FROM recompute_jobs WHERE id = $ghost")" = "failed:true" ] ||
    fail "the ghost job was not swept"
job1=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["job"]["id"])' "$TMP/b1")
OUT=$(curl -s -H "Authorization: Bearer $read_token" "$base/v1/jobs/$job1")
[ "$(json "d['status']")" = completed ] || fail "job 1: $OUT"
[ "$(json "d['run_id'] is not None and d['started_at'] is not None and d['error'] is None")" = True ] ||
    fail "job 1 fields: $OUT"
# run_url is the job's run's summary
run_url=$(json "d['run_url']")
jrun=$(json "d['run_id']")
OUT=$(curl -s -H "Authorization: Bearer $read_token" "$base$run_url")
[ "$(json "d['run']['id']")" = "$jrun" ] || fail "run_url $run_url: $OUT"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $read_token" "$base/v1/jobs/999999")
[ "$code" = 404 ] || fail "unknown job gave $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $read_token" "$base/v1/jobs/x1")
[ "$code" = 404 ] || fail "bad job id gave $code"
# a body on a route that reads none is refused past 64 KiB
head -c 70000 /dev/zero | tr '\0' a >"$TMP/big"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary @"$TMP/big" \
    -H "Authorization: Bearer $admin_token" "$base/v1/forums/beer/recompute")
[ "$code" = 413 ] || fail "a 70 kB body gave $code"
stop_server

# --- the server's own worker thread runs a queued job
start_server
curl -s -o "$TMP/b4" -X POST -H "Authorization: Bearer $admin_token" \
    "$base/v1/forums/beer/recompute?seed=4&only=summary&from=2015-01-01&to=2016-01-01"
job4=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["job"]["id"])' "$TMP/b4")
for _ in $(seq 100); do
    OUT=$(curl -s -H "Authorization: Bearer $read_token" "$base/v1/jobs/$job4")
    case "$(json "d['status']")" in completed|failed) break;; esac
    sleep 0.2
done
[ "$(json "d['status']")" = completed ] || fail "in-process worker: $OUT"
[ "$(sql "SELECT analyses::text FROM analysis_runs r JOIN recompute_jobs j ON j.run_id = r.id WHERE j.id = $job4")" = "{summary}" ] ||
    fail "only reaches the run"
[ "$(sql "SELECT (r.params->>'from')::timestamptz = '2015-01-01Z' FROM analysis_runs r JOIN recompute_jobs j ON j.run_id = r.id WHERE j.id = $job4")" = t ] ||
    fail "the window reaches the run"
[ "$(sql "SELECT s.posts < 6815 AND s.posts > 0 FROM run_summary s JOIN recompute_jobs j ON j.run_id = s.run_id WHERE j.id = $job4")" = t ] ||
    fail "the window restricts the posts"
stop_server
echo "test_jobs: ok"
