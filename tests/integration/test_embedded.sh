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
expect_exit 0 "$fora" db stop --data-dir "$dir"
expect_exit 3 "$fora" db status --data-dir "$dir"
expect_exit 0 "$fora" db stop --data-dir "$dir"   # stopping twice is fine
# a command that needs the database starts it again by itself
expect_exit 0 "$fora" show /v1/forums --data-dir "$dir"
[ "$(json "d['total']")" = 0 ] || fail "forums after restart"
expect_exit 0 "$fora" db stop --quiet --data-dir "$dir"
echo "integration embedded: all passed"
