# tests/integration/lib.sh - shared helpers of the integration scripts.
# Each script gets FORA_BIN, FORA_SOURCE_DIR and FORA_TEST_DATABASE_URL from ctest.
set -euo pipefail
# a command that stops the test under set -e says which one and where
trap 'echo "FAIL: ${BASH_SOURCE[0]:-?}:$LINENO: exit $? from: $BASH_COMMAND" >&2' ERR

: "${FORA_BIN:?run through ctest}"
: "${FORA_SOURCE_DIR:?run through ctest}"
: "${FORA_TEST_DATABASE_URL:?run through ctest (the pg fixture)}"

export PGOPTIONS="-c client_min_messages=warning"

fail() { echo "FAIL: $*" >&2; exit 1; }

# expect_exit CODE CMD...: runs CMD, captures stdout/stderr in $OUT/$ERR.
expect_exit() {
    local want=$1; shift
    set +e
    "$@" >"$TMP/out" 2>"$TMP/err"
    local got=$?
    set -e
    OUT=$(cat "$TMP/out"); ERR=$(cat "$TMP/err")
    [ "$got" = "$want" ] || fail "'$*' exited $got, expected $want; stderr: $ERR; stdout: ${OUT:0:400}"
}

contains() { # contains HAYSTACK NEEDLE
    case "$1" in *"$2"*) ;; *) fail "expected '$2' in: ${1:0:600}";; esac
}

# json EXPR: evaluates a Python expression on the JSON in $OUT (bound to d).
json() { python3 -c "import json,sys; d=json.loads(sys.stdin.read()); print($1)" <<<"$OUT"; }

# fresh_db NAME: a new empty database on the fixture server; sets FORA_DATABASE_URL.
fresh_db() {
    psql "$FORA_TEST_DATABASE_URL" -qAt -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" >/dev/null
    psql "$FORA_TEST_DATABASE_URL" -qAt -c "CREATE DATABASE $1" >/dev/null
    export FORA_DATABASE_URL="$FORA_TEST_DATABASE_URL dbname=$1"
}

sql() { psql "$FORA_DATABASE_URL" -qAt -c "$1"; }

TMP=$(mktemp -d /tmp/fora-it-XXXXXX)
chmod 755 "$TMP"   # the embedded cluster may run as the postgres account
trap 'rm -rf "$TMP"' EXIT
