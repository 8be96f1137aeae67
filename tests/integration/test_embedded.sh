# The embedded cluster: created on first start, start is idempotent and safe
# when several fora processes race, status prints a working psql string, stop
# is clean, and everything works against it with no URL set.
source "$(dirname "$0")/lib.sh"
fora=$FORA_BIN
unset FORA_DATABASE_URL
dir="$TMP/data"

expect_exit 3 "$fora" db status --data-dir "$dir"
contains "$OUT" "not running"
# three concurrent starts: one creates the cluster, the others wait and find it up
"$fora" db start --quiet --data-dir "$dir" & a=$!
"$fora" db start --quiet --data-dir "$dir" & b=$!
"$fora" db start --quiet --data-dir "$dir" & c=$!
wait $a && wait $b && wait $c || fail "a concurrent start failed: $(tail -5 "$dir/postgres.log")"
expect_exit 0 "$fora" db start --data-dir "$dir"
contains "$OUT" "database running"
expect_exit 0 "$fora" db status --data-dir "$dir"
contains "$OUT" "running (embedded cluster)"
conninfo=$(sed -n 's/^connect with: psql "\(.*\)"$/\1/p' <<<"$OUT")
[ "$(psql "$conninfo" -qAt -c 'SELECT 1')" = 1 ] || fail "psql with the printed string"
# no TCP listener unless asked for
[ "$(psql "$conninfo" -qAt -c 'SHOW listen_addresses')" = "" ] || fail "listens on TCP"
expect_exit 0 "$fora" migrate --quiet --data-dir "$dir"
expect_exit 0 "$fora" show /readyz --data-dir "$dir"
# the server rides out a database outage: 503 while it is down, 200 after
expect_exit 0 "$fora" token create --name outage --data-dir "$dir"
auth="Authorization: Bearer $OUT"
port=$((20000 + RANDOM % 20000))
"$fora" serve --port "$port" --data-dir "$dir" 2>"$TMP/serve.log" >/dev/null &
spid=$!
trap 'kill "$spid" 2>/dev/null || true; "$fora" db stop --quiet --data-dir "$dir" 2>/dev/null || true; rm -rf "$TMP"' EXIT
for _ in $(seq 300); do curl -s "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
code=$(curl -s -o "$TMP/body" -w '%{http_code}' -H "$auth" "http://127.0.0.1:$port/v1/forums")
[ "$code" = 200 ] || fail "serve answered $code: $(cat "$TMP/body"); log: $(tail -5 "$TMP/serve.log")"
expect_exit 0 "$fora" db stop --data-dir "$dir"
code=$(curl -s -o "$TMP/body" -w '%{http_code}' -H "$auth" "http://127.0.0.1:$port/v1/forums")
[ "$code" = 503 ] || fail "expected 503 while the database is down, got $code"
contains "$(cat "$TMP/body")" '"code":"database_unavailable"'
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/healthz")" = 200 ] || fail "healthz"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz")" = 503 ] || fail "readyz"
expect_exit 0 "$fora" db start --quiet --data-dir "$dir"
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "$auth" "http://127.0.0.1:$port/v1/forums")" = 200 ] || fail "no recovery"
kill -TERM "$spid"; wait "$spid" || fail "serve did not stop cleanly"

expect_exit 0 "$fora" db stop --data-dir "$dir"
expect_exit 3 "$fora" db status --data-dir "$dir"
expect_exit 0 "$fora" db stop --data-dir "$dir"   # stopping twice is fine
# a command that needs the database starts it again by itself
expect_exit 0 "$fora" show /v1/forums --data-dir "$dir"
[ "$(json "d['total']")" = 0 ] || fail "forums after restart"
expect_exit 0 "$fora" db stop --quiet --data-dir "$dir"
echo "integration embedded: all passed"
