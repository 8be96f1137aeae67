# Real answers of every route against api-docs/openapi.yaml: the server runs
# on a loopback port with tokens against the bundled sample after a
# recompute, and openapi_check.py calls every operation of the spec (success,
# every parameter's accepted and rejected values, 400/401/403/404/405/413,
# and 503 from a second server whose database was dropped), validates each
# body against its schema (JSON Schema 2020-12) and fails if a documented
# status was never seen or the spec and the server's route tables differ.
source "$(dirname "$0")/lib.sh"
fora=$FORA_BIN
py=${FORA_PYTHON3:-python3}
fresh_db fora_t_openapi
expect_exit 0 "$fora" migrate --quiet
expect_exit 0 "$fora" import --quiet --forum beer "$FORA_SOURCE_DIR/server/sample/beer"
expect_exit 0 "$fora" recompute --quiet --forum beer --seed 7
# a second forum for the cross-forum routes (linking_cross, run option link_with)
mkdir -p "$TMP/tiny"
printf 'name,source,timezone\ntiny,test,UTC\n' >"$TMP/tiny/forum.csv"
printf 'board_id,parent_id,category\nb1,,tag\n' >"$TMP/tiny/boards.csv"
printf 'member_id,pseudonym,registered_at,status,banned_at\nu1,,,,\nu2,,,,\n' >"$TMP/tiny/members.csv"
printf 'thread_id,board_id,starter_id,created_at\nt1,b1,u1,2030-01-07T01:00:00\n' >"$TMP/tiny/threads.csv"
{ echo 'post_id,thread_id,author_id,created_at,reply_to'
  for d in 07 14 21 28; do printf 'a%s,t1,u1,2030-01-%sT01:00:00,\nb%s,t1,u2,2030-01-%sT13:00:00,\n' $d $d $d $d; done
} >"$TMP/tiny/posts.csv"
expect_exit 0 "$fora" import --quiet "$TMP/tiny"
expect_exit 0 "$fora" recompute --quiet --forum beer --seed 7 --only linking_cross --link-with tiny
expect_exit 0 "$fora" token create --name reader
read_token=$OUT
expect_exit 0 "$fora" token create --name ops --role admin
admin_token=$OUT

pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$TMP"' EXIT
start_server() { # start_server URL-VAR: starts `fora serve` without a worker
    local port up= try
    for try in 1 2 3 4 5; do # another process may hold a random port: take another
        port=$((20000 + RANDOM % 20000))
        "$fora" serve --port "$port" --workers 0 2>>"$TMP/serve.log" >/dev/null &
        pids+=($!)
        for _ in $(seq 300); do
            curl -s "http://127.0.0.1:$port/healthz" >/dev/null && { up=1; break; }
            kill -0 "${pids[-1]}" 2>/dev/null || break
            sleep 0.1
        done
        [ -n "$up" ] && break
        kill "${pids[-1]}" 2>/dev/null || true
        wait "${pids[-1]}" 2>/dev/null || true
        unset 'pids[-1]'
    done
    [ -n "$up" ] || fail "fora serve did not come up: $(tail -5 "$TMP/serve.log")"
    printf -v "$1" '%s' "http://127.0.0.1:$port"
}
start_server base

# a finished job (a summary-only recompute, run by a worker) for /v1/jobs/{job}
OUT=$(curl -s -X POST -H "Authorization: Bearer $admin_token" \
    "$base/v1/forums/beer/recompute?only=summary&seed=3") || fail "queueing a job"
job=$(json "d['job']['id']")
expect_exit 0 "$fora" worker --once
[ "$(sql "SELECT status FROM recompute_jobs WHERE id = $job")" = completed ] || fail "job $job did not complete"
# the composite's top member, for /members/{member}
OUT=$(curl -s -H "Authorization: Bearer $read_token" "$base/v1/forums/beer/members?limit=1") ||
    fail "reading the members"
member=$(json "d['items'][0]['ext_id']")

# a second server whose database disappears: 503
db_url=$FORA_DATABASE_URL
fresh_db fora_t_openapi_down
expect_exit 0 "$fora" migrate --quiet
expect_exit 0 "$fora" token create --name down
down_token=$OUT
start_server down
psql "$FORA_TEST_DATABASE_URL" -qAt -c "DROP DATABASE fora_t_openapi_down WITH (FORCE)" >/dev/null
export FORA_DATABASE_URL=$db_url

"$py" "$FORA_SOURCE_DIR/tests/integration/openapi_check.py" \
    --spec "$FORA_SOURCE_DIR/api-docs/openapi.yaml" --source "$FORA_SOURCE_DIR" \
    --base "$base" --read "$read_token" --admin "$admin_token" \
    --member "$member" --job "$job" --down "$down" --down-token "$down_token" ||
    fail "responses do not match api-docs/openapi.yaml (see above)"
for p in "${pids[@]}"; do kill -TERM "$p"; wait "$p" || fail "serve did not stop cleanly"; done
pids=()
echo "integration openapi responses: all passed"
