# HTTP behaviour of `fora serve`: tokens and roles, ETag / If-None-Match,
# gzip, HEAD, CORS, /metrics in the Prometheus format, one JSON log line per
# request.
source "$(dirname "$0")/lib.sh"
fora=$FORA_BIN
fresh_db fora_t_http
expect_exit 0 "$fora" migrate --quiet
expect_exit 0 "$fora" import --quiet --forum beer "$FORA_SOURCE_DIR/server/sample/beer"
expect_exit 0 "$fora" recompute --quiet --forum beer

expect_exit 0 "$fora" token create --name dashboard
token=$OUT
[[ "$token" =~ ^fora_[0-9a-f]{40}$ ]] || fail "token format: $token"
# only the hash is stored
[ "$(sql "SELECT count(*) FROM api_tokens WHERE hash = sha256(convert_to('$token', 'UTF8'))")" = 1 ] ||
    fail "token hash"
[ "$(sql "SELECT count(*) FROM api_tokens WHERE encode(hash, 'escape') LIKE '%${token:5:10}%'")" = 0 ] ||
    fail "token stored in clear"
expect_exit 0 "$fora" token create --name unused
unused=$OUT
expect_exit 0 "$fora" token revoke "$(sql "SELECT id FROM api_tokens WHERE name = 'unused'")"
expect_exit 0 "$fora" token list
contains "$OUT" "dashboard"
contains "$OUT" "${token:0:12}..."
case "$OUT" in *"$token"*) fail "token list shows a whole token";; esac
expect_exit 2 "$fora" token create --name x --role root
expect_exit 4 "$fora" token revoke 999

port=$((20000 + RANDOM % 20000))
"$fora" serve --port "$port" --cors-origin "http://dash.example" 2>"$TMP/serve.log" >"$TMP/serve.out" &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$TMP"' EXIT
for _ in $(seq 50); do curl -s "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
base="http://127.0.0.1:$port"

# authentication: no token, a bad one, a revoked one -> 401 naming Authorization
code=$(curl -s -D "$TMP/h0" -o "$TMP/b0" -w '%{http_code}' "$base/v1/forums")
[ "$code" = 401 ] || fail "no token gave $code"
grep -qi '^www-authenticate: Bearer' "$TMP/h0" || fail "401 without WWW-Authenticate"
OUT=$(cat "$TMP/b0")
[ "$(json "d['error']['code']")" = unauthenticated ] || fail "401 body: $OUT"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer fora_nope" "$base/v1/forums")
[ "$code" = 401 ] || fail "bad token gave $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $unused" "$base/v1/forums")
[ "$code" = 401 ] || fail "revoked token gave $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Basic eDp5" "$base/v1/forums")
[ "$code" = 401 ] || fail "basic auth gave $code"
# public routes need no token; the built-in page is served from memory
curl -s -D "$TMP/hi" -o "$TMP/index" "$base/"
grep -qi '^content-type: text/html' "$TMP/hi" || fail "index type: $(cat "$TMP/hi")"
grep -q '<h1>fora</h1>' "$TMP/index" || fail "index page"
# public routes need no token
code=$(curl -s -o /dev/null -w '%{http_code}' "$base/readyz")
[ "$code" = 200 ] || fail "readyz gave $code"
[ -n "$(sql "SELECT last_used_at FROM api_tokens WHERE name = 'unused'")" ] && fail "revoked token used"
# every request below carries the token
curl() { command curl -H "Authorization: Bearer $token" "$@"; }

# ETag: a 200 carries one; sending it back gives 304 without a body
curl -s -D "$TMP/h1" -o "$TMP/b1" "$base/v1/forums/beer/summary"
tag=$(grep -i '^etag:' "$TMP/h1" | cut -d' ' -f2 | tr -d '\r')
[ -n "$tag" ] || fail "no ETag: $(cat "$TMP/h1")"
code=$(curl -s -o "$TMP/b2" -w '%{http_code}' -H "If-None-Match: $tag" "$base/v1/forums/beer/summary")
[ "$code" = 304 ] || fail "If-None-Match with the current tag gave $code"
[ ! -s "$TMP/b2" ] || fail "304 with a body"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'If-None-Match: "0000000000000000"' "$base/v1/forums/beer/summary")
[ "$code" = 200 ] || fail "a stale tag must give 200, got $code"
# the tag is the body's: an import + recompute changes the document and the tag
expect_exit 0 "$fora" recompute --quiet --forum beer
curl -s -D "$TMP/h3" -o /dev/null "$base/v1/forums/beer/summary"
tag2=$(grep -i '^etag:' "$TMP/h3" | cut -d' ' -f2 | tr -d '\r')
[ "$tag2" != "$tag" ] || fail "a new run kept the old ETag"
# answers come from the result cache until the forum's data or runs change
curl -s -o "$TMP/c1" "$base/v1/forums/beer/members?limit=7"
curl -s -o "$TMP/c2" "$base/v1/forums/beer/members?limit=7"
cmp -s "$TMP/c1" "$TMP/c2" || fail "cached answer differs"
curl -s -o "$TMP/m0" "$base/metrics"
grep -q '^fora_result_cache_requests_total{outcome="hit"} [1-9]' "$TMP/m0" || fail "no cache hit"
# between change notifications (migrations/0009) the stamp is not re-read from the database
grep -q '^fora_result_stamps_total{source="remembered"} [1-9]' "$TMP/m0" ||
    fail "no remembered stamp: $(grep fora_result_stamps "$TMP/m0")"
sql "UPDATE forums SET data_version = data_version + 1 WHERE name = 'beer'" >/dev/null
OUT=$(curl -s "$base/v1/forums/beer/members?limit=7")
[ "$(json "d['run']['stale']")" = True ] || fail "a cached answer hid new data: $OUT"

# gzip when asked (and only then), same document once decompressed
curl -s -D "$TMP/hz" -o "$TMP/bz" -H 'Accept-Encoding: gzip' "$base/v1/forums/beer/members?limit=100"
grep -qi '^content-encoding: gzip' "$TMP/hz" || fail "no gzip: $(cat "$TMP/hz")"
curl -s -o "$TMP/bp" "$base/v1/forums/beer/members?limit=100"
[ "$(gzip -dc "$TMP/bz" | cmp - "$TMP/bp" && echo same)" = same ] || fail "gzip body differs"
curl -s -D "$TMP/hq" -o /dev/null -H 'Accept-Encoding: gzip;q=0' "$base/v1/forums/beer/members?limit=100"
! grep -qi '^content-encoding' "$TMP/hq" || fail "gzip;q=0 must not be compressed"

# CSV when asked, for list routes; JSON otherwise
curl -s -D "$TMP/hcsv" -o "$TMP/csv" -H 'Accept: text/csv' "$base/v1/forums/beer/keyplayers?method=kpp_neg"
grep -qi '^content-type: text/csv' "$TMP/hcsv" || fail "no CSV: $(cat "$TMP/hcsv")"
python3 -c 'import csv,sys; r = list(csv.DictReader(open(sys.argv[1]))); assert [int(x["rank"]) for x in r] == list(range(1, 21)) and all(x["member.ext_id"] for x in r), r[0]' "$TMP/csv" ||
    fail "CSV: $(head -2 "$TMP/csv")"
[ "$(wc -l <"$TMP/csv")" = 21 ] || fail "CSV rows"
curl -s -D "$TMP/hcsv2" -o /dev/null -H 'Accept: text/csv' "$base/v1/forums/beer/summary"
grep -qi '^content-type: application/json' "$TMP/hcsv2" || fail "summary is not tabular"

# HEAD: headers only
curl -s -I -o "$TMP/hh" "$base/v1/forums/beer"
grep -q ' 200' "$TMP/hh" || fail "HEAD: $(cat "$TMP/hh")"
grep -qi '^etag:' "$TMP/hh" || fail "HEAD without ETag"

# CORS: the configured origin on answers, and preflights answered
curl -s -D "$TMP/hc" -o /dev/null "$base/v1/forums"
grep -qi '^access-control-allow-origin: http://dash.example' "$TMP/hc" || fail "no CORS header"
code=$(curl -s -D "$TMP/hp" -o /dev/null -w '%{http_code}' -X OPTIONS \
    -H 'Origin: http://dash.example' -H 'Access-Control-Request-Method: GET' "$base/v1/forums")
[ "$code" = 204 ] || fail "preflight gave $code"
grep -qi '^access-control-allow-methods: GET' "$TMP/hp" || fail "preflight methods"

# errors: bad parameter, unknown route, method
code=$(curl -s -o "$TMP/be" -w '%{http_code}' "$base/v1/forums/beer/members?sort=-shoe")
[ "$code" = 400 ] || fail "bad sort gave $code"
OUT=$(cat "$TMP/be")
[ "$(json "d['error']['detail']")" = sort ] || fail "bad sort not named: $OUT"
code=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$base/v1/forums/beer")
[ "$code" = 405 ] || fail "DELETE gave $code"

# /metrics counts what was served, by route pattern and status
curl -s -o "$TMP/m" "$base/metrics"
grep -q '^fora_http_requests_total{route="/v1/forums/{forum}/summary",status="304"} 1$' "$TMP/m" ||
    fail "304 not counted: $(grep summary "$TMP/m" | head -5)"
grep -q '^fora_http_requests_total{route="/v1/forums/{forum}/summary",status="200"} 4$' "$TMP/m" ||
    fail "200s not counted: $(grep summary "$TMP/m" | head -5)"
grep -q '^fora_http_requests_total{route="/v1/forums/{forum}/members",status="400"} 1$' "$TMP/m" ||
    fail "400 not counted"
grep -q '^fora_http_request_duration_seconds_bucket{route="/v1/forums/{forum}/summary",status="200",le="+Inf"} 4$' "$TMP/m" ||
    fail "histogram"
grep -q '^fora_recompute_runs_total{forum="beer",status="completed"} 2$' "$TMP/m" || fail "recompute runs"
grep -q '^# TYPE fora_http_request_duration_seconds histogram$' "$TMP/m" || fail "TYPE line"

kill -TERM "$pid"
wait "$pid" || fail "serve did not stop cleanly"
# one JSON object per request line, with the route pattern, never the query string
python3 - "$TMP/serve.log" <<'EOF'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{") and '"route"' in l]
assert len(lines) >= 10, len(lines)
assert any(l["route"] == "/v1/forums/{forum}/members" and l["status"] == 400 for l in lines)
assert all("?" not in l["path"] for l in lines)
EOF
[ -n "$(sql "SELECT last_used_at FROM api_tokens WHERE name = 'dashboard'")" ] || fail "last_used_at"
# ---- native TLS (--tls-cert/--tls-key) and the statement timeout --------------
command -v openssl >/dev/null || fail "openssl not found (scripts/install-deps.sh)"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TMP/key.pem" -out "$TMP/cert.pem" -days 2 \
    -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" 2>/dev/null || fail "openssl req"
expect_exit 2 "$fora" serve --port 1 --tls-cert "$TMP/cert.pem"
contains "$ERR" "--tls-cert and --tls-key go together"
expect_exit 2 "$fora" serve --port 1 --tls-cert "$TMP/cert.pem" --tls-key "$TMP/nosuch.pem"
contains "$ERR" "nosuch.pem"
expect_exit 2 "$fora" serve --port 1 --tls-cert "$TMP/serve.log" --tls-key "$TMP/key.pem"
contains "$ERR" "is not a PEM file"
tport=$((port + 1))
"$fora" serve --port "$tport" --workers 0 --statement-timeout 1 --tls-cert "$TMP/cert.pem" \
    --tls-key "$TMP/key.pem" 2>"$TMP/tls.log" >"$TMP/tls.out" &
tpid=$!
trap 'kill "$tpid" 2>/dev/null || true; rm -rf "$TMP"' EXIT
for _ in $(seq 100); do command curl -s --cacert "$TMP/cert.pem" "https://127.0.0.1:$tport/healthz" >/dev/null && break; sleep 0.1; done
contains "$(cat "$TMP/tls.out")" "https://127.0.0.1:$tport/"
code=$(curl -s -o "$TMP/tls_body" -w '%{http_code}' --cacert "$TMP/cert.pem" "https://127.0.0.1:$tport/v1/forums/beer/summary")
[ "$code" = 200 ] || fail "HTTPS summary: $code"
cmp -s <(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["summary"]["posts"])' "$TMP/tls_body") \
    <(sql "SELECT count(*) FROM posts") || fail "HTTPS summary body"
code=$(command curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$tport/healthz" || true)
[ "$code" != 200 ] || fail "plain HTTP answered on the TLS port"
# a statement blocked longer than --statement-timeout: 503 after about a second, and the
# server keeps answering
psql "$FORA_DATABASE_URL" -qAt -c "BEGIN; LOCK TABLE run_keyplayer_sets IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(6); COMMIT;" >/dev/null 2>&1 &
lpid=$!
sleep 1
t0=$(date +%s.%N)
code=$(curl -s -o "$TMP/slow" -w '%{http_code}' --cacert "$TMP/cert.pem" "https://127.0.0.1:$tport/v1/forums/beer/keyplayers?method=kpp_neg&limit=3")
t1=$(date +%s.%N)
[ "$code" = 503 ] || fail "a blocked statement gave $code: $(cat "$TMP/slow")"
contains "$(cat "$TMP/slow")" "statement timeout"
contains "$(cat "$TMP/slow")" '"code":"timeout"'
python3 -c "import sys; d = $t1 - $t0; assert 0.9 < d < 4, d" || fail "the timeout took $(python3 -c "print($t1 - $t0)") s"
wait "$lpid" || true
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$TMP/cert.pem" "https://127.0.0.1:$tport/v1/forums/beer/keyplayers?method=kpp_neg&limit=3")
[ "$code" = 200 ] || fail "after the lock: $code"
kill -TERM "$tpid"
wait "$tpid" || fail "the TLS server did not stop cleanly"
echo "test_serve_http: ok"
