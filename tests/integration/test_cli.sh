# End to end through the `fora` binary: migrate, import (the bundled sample,
# a synthetic forum, bad input), recompute, show and serve.
source "$(dirname "$0")/lib.sh"
fora=$FORA_BIN
fresh_db fora_t_cli

# a schema that is behind is refused, with the fix in the message
expect_exit 10 "$fora" serve --port 18081
contains "$ERR" "run \`fora migrate\`"
expect_exit 0 "$fora" migrate --quiet
expect_exit 0 "$fora" migrate
contains "$OUT" "0 migrations applied"

# the bundled sample
expect_exit 0 "$fora" import --quiet --forum beer "$FORA_SOURCE_DIR/server/sample/beer"
[ "$(sql "SELECT count(*) FROM posts")" = 6815 ] || fail "sample posts"
expect_exit 0 "$fora" import --forum beer "$FORA_SOURCE_DIR/server/sample/beer"
contains "$OUT" "data version 1)"

# bad input: exit 3, file:line:field named, nothing written
mkdir "$TMP/bad"
cp "$FORA_SOURCE_DIR"/server/sample/beer/*.csv.gz "$TMP/bad/"
gunzip "$TMP/bad/posts.csv.gz"
sed -i '5s/,20[0-9][0-9]-[0-9][0-9]-[0-9][0-9]T/,2019-02-30T/' "$TMP/bad/posts.csv"
expect_exit 3 "$fora" import --quiet --forum other "$TMP/bad"
contains "$ERR" "posts.csv:5: field \"created_at\": bad timestamp \"2019-02-30T"
contains "$ERR" "nothing was imported"
[ "$(sql "SELECT count(*) FROM forums WHERE name = 'other'")" = 0 ] || fail "half import"
expect_exit 2 "$fora" import --forum x --format xml "$TMP/bad"
expect_exit 4 "$fora" import --quiet --forum x "$TMP/nonexistent"

# recompute and the summary it stores
expect_exit 0 "$fora" recompute --quiet --forum beer
contains "$OUT" "run 1 completed"
expect_exit 0 "$fora" show /v1/forums/beer/summary
[ "$(json "d['summary']['posts']")" = 6815 ] || fail "summary posts: $OUT"
[ "$(json "d['summary']['members']")" = 6863 ] || fail "summary members"
[ "$(json "d['summary']['threads']")" = 1029 ] || fail "summary threads"
[ "$(json "d['run']['stale']")" = False ] || fail "fresh run reported stale"
# the reply graph carries every reply: its total weight equals the replies
[ "$(json "d['summary']['reply_graph_weight'] == d['summary']['replies']")" = True ] || fail "weight"
expect_exit 0 "$fora" show /v1/forums/1/runs
[ "$(json "d['items'][0]['status']")" = completed ] || fail "runs list"
expect_exit 4 "$fora" show /v1/forums/nosuch/summary
[ "$(json "d['error']['code']")" = not_found ] || fail "error shape"
expect_exit 2 "$fora" show "/v1/forums?limit=0"
[ "$(json "d['error']['detail']")" = limit ] || fail "bad parameter not named"
expect_exit 2 "$fora" show "/v1/forums?limti=5"
contains "$OUT" "unknown parameter"

# new data makes the latest run stale until the next recompute
cp -r "$FORA_SOURCE_DIR/server/sample/beer" "$TMP/more"
gunzip "$TMP/more/posts.csv.gz"
echo "c999999,1,,2020-06-01T00:00:00Z,1" >>"$TMP/more/posts.csv"
expect_exit 0 "$fora" import --quiet --forum beer "$TMP/more"
expect_exit 0 "$fora" show /v1/forums/beer
[ "$(json "d['latest_run']['stale']")" = True ] || fail "not stale after import: $OUT"
expect_exit 0 "$fora" recompute --quiet --all
expect_exit 0 "$fora" show /v1/forums/beer/summary
[ "$(json "d['summary']['posts']")" = 6816 ] || fail "appended post"
expect_exit 0 "$fora" show "/v1/forums/beer/summary?run=1"
[ "$(json "d['summary']['posts']")" = 6815 ] || fail "earlier run"
expect_exit 4 "$fora" recompute --forum nosuch

# a run left 'running' by a process that died is marked failed by the next
# recompute, and the results served stay those of the last completed run
sql "INSERT INTO analysis_runs (forum_id, watermark) SELECT id, data_version FROM forums WHERE name = 'beer'" >/dev/null
ghost=$(sql "SELECT max(id) FROM analysis_runs")
expect_exit 0 "$fora" show /v1/forums/beer/summary
[ "$(json "d['run']['id']")" != "$ghost" ] || fail "a running run was served"
expect_exit 0 "$fora" recompute --quiet --forum beer
[ "$(sql "SELECT status || ':' || error FROM analysis_runs WHERE id = $ghost")" = \
  "failed:interrupted: the process computing the run ended before it finished" ] || fail "ghost run not swept"
expect_exit 0 "$fora" show "/v1/forums/beer/runs?status=failed"
[ "$(json "d['total']")" = 1 ] || fail "failed runs filter"
expect_exit 4 "$fora" show "/v1/forums/beer/summary?run=$ghost"
contains "$OUT" "is failed, not completed"

# a Stack Exchange dump imports directly (converted on the fly)
expect_exit 0 "$fora" import --quiet --forum mini --format stackexchange "$FORA_SOURCE_DIR/tests/data/se-mini"
[ "$(sql "SELECT count(*) FROM posts p JOIN forums f ON f.id = p.forum_id WHERE f.name = 'mini'")" -gt 0 ] \
    || fail "no posts from the Stack Exchange dump"
expect_exit 3 "$fora" import --quiet --forum mini2 --format stackexchange "$FORA_SOURCE_DIR/tests/data/se-mini/malformed"
contains "$ERR" "Posts.xml:"

# a synthetic forum straight into the database
expect_exit 0 "$fora" synth --quiet --import --forum syn --members 500 --posts 5000 --seed 7
expect_exit 0 "$fora" recompute --quiet --forum syn
expect_exit 0 "$fora" show /v1/forums/syn/summary
posts=$(json "d['summary']['posts']")
[ "$posts" -gt 4500 ] && [ "$posts" -lt 5500 ] || fail "synthetic posts $posts"

# an empty forum (headers only) gives a well-formed, empty summary
mkdir "$TMP/empty"
printf 'board_id\n' >"$TMP/empty/boards.csv"
printf 'member_id\n' >"$TMP/empty/members.csv"
printf 'thread_id,board_id,created_at\n' >"$TMP/empty/threads.csv"
printf 'post_id,thread_id,created_at\n' >"$TMP/empty/posts.csv"
expect_exit 0 "$fora" import --quiet --forum empty "$TMP/empty"
expect_exit 0 "$fora" recompute --quiet --forum empty
expect_exit 0 "$fora" show /v1/forums/empty/summary
[ "$(json "d['summary']['posts']")" = 0 ] || fail "empty forum"
[ "$(json "d['summary']['first_post_at']")" = None ] || fail "empty forum time"

# the server answers what `fora show` prints (with a read token)
expect_exit 0 "$fora" token create --name cli-test
token=$OUT
auth=(-H "Authorization: Bearer $token")
port=$((20000 + RANDOM % 20000))
"$fora" serve --port "$port" 2>"$TMP/serve.log" >"$TMP/serve.out" &
pid=$!
for _ in $(seq 50); do curl -s "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
OUT=$(curl -s "${auth[@]}" "http://127.0.0.1:$port/v1/forums/beer/summary")
served=$OUT
expect_exit 0 "$fora" show /v1/forums/beer/summary
[ "$(python3 -c 'import json,sys; print(json.loads(sys.argv[1]) == json.loads(sys.argv[2]))' "$served" "$OUT")" = True ] \
    || fail "served JSON differs from fora show"
code=$(curl -s -o /dev/null -w '%{http_code}' "${auth[@]}" "http://127.0.0.1:$port/v1/forums/nosuch")
[ "$code" = 404 ] || fail "404 expected, got $code"
code=$(curl -s -o /dev/null -w '%{http_code}' "${auth[@]}" -X POST "http://127.0.0.1:$port/v1/forums")
[ "$code" = 405 ] || fail "405 expected, got $code"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz")
[ "$code" = 200 ] || fail "readyz $code"
kill -TERM "$pid"
wait "$pid" || fail "serve did not stop cleanly"
contains "$(cat "$TMP/serve.log")" '"status":404'
# recompute's progress: a bar of phases on a terminal (script(1) gives it one), lines otherwise
script -qec "$fora recompute --forum beer --only summary" /dev/null >"$TMP/tty.txt" 2>&1 ||
    fail "recompute on a terminal: $(cat "$TMP/tty.txt")"
tr '\r' '\n' <"$TMP/tty.txt" | grep -qE 'beer run [0-9]+: storing +\[#+\.*\] 2/3' ||
    fail "no progress bar on a terminal: $(cat -v "$TMP/tty.txt")"
expect_exit 0 "$fora" recompute --forum beer --only summary
contains "$ERR" 'summary computed in'
! grep -q $'\r' "$TMP/err" || fail "a bar drawn into a file"
echo "integration cli: all passed"
