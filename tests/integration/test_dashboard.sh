# The dashboard in Debian's headless Chromium: the real server with a token
# against the bundled sample after a recompute; dashboard.cjs (playwright-core)
# opens it, checks every panel against the API's answers and that the console
# shows no errors, and saves screenshots into BUILD/test-artefacts/dashboard.
source "$(dirname "$0")/lib.sh"
fora=$FORA_BIN
: "${FORA_BUILD_DIR:?run through ctest}"
[ -x /usr/bin/chromium ] || fail "/usr/bin/chromium is missing (scripts/install-deps.sh installs it)"
[ -d "$FORA_BUILD_DIR/dashboard/node_modules/playwright-core" ] ||
    fail "playwright-core is not installed in $FORA_BUILD_DIR/dashboard (the build runs npm ci)"
t_start=$SECONDS
fresh_db fora_t_dashboard
expect_exit 0 "$fora" migrate --quiet
expect_exit 0 "$fora" import --quiet --forum beer "$FORA_SOURCE_DIR/server/sample/beer"
expect_exit 0 "$fora" recompute --quiet --forum beer --seed 7
# a second forum that has data but no analysis run yet
expect_exit 0 "$fora" synth --quiet --import --forum tiny --members 80 --posts 400 --months 3 --boards 3
expect_exit 0 "$fora" token create --name dashboard-test
token=$OUT

# the static files come from the binary, with their types, and need no token
port=$((20000 + RANDOM % 20000))
"$fora" serve --port "$port" --workers 0 2>"$TMP/serve.log" >/dev/null &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$TMP"' EXIT
base="http://127.0.0.1:$port"
for _ in $(seq 50); do curl -s "$base/healthz" >/dev/null && break; sleep 0.1; done
for a in /dashboard/app.js /dashboard/vendor/chart.umd.min.js /dashboard/vendor/cytoscape.min.js; do
    [ "$(curl -s -o /dev/null -w '%{http_code} %{content_type}' "$base$a")" = "200 text/javascript; charset=utf-8" ] ||
        fail "asset $a"
done
grep -q 'src="/dashboard/vendor/chart.umd.min.js"' <(curl -s "$base/") || fail "index loads Chart.js locally"
grep -q 'https\?://' <(curl -s "$base/") && fail "the index page refers to another host"

# the cytoscape graph format: bounded by limit, edges only among the listed members
auth="Authorization: Bearer $token"
OUT=$(curl -s -H "$auth" "$base/v1/forums/beer/graph?format=cytoscape&limit=30")
[ "$(json "len(d['elements']['nodes'])")" = 30 ] || fail "cytoscape limit 30: ${OUT:0:300}"
[ "$(json "[n['data']['composite_rank'] for n in d['elements']['nodes']] == list(range(1, 31))")" = True ] ||
    fail "cytoscape nodes are the top 30 by composite rank"
[ "$(json "all(e['data']['source'] in {n['data']['id'] for n in d['elements']['nodes']} and e['data']['target'] in {n['data']['id'] for n in d['elements']['nodes']} for e in d['elements']['edges'])")" = True ] ||
    fail "cytoscape edges among listed nodes"
run=$(sql "SELECT max(id) FROM analysis_runs WHERE status = 'completed'")
ids=$(json "','.join(\"'\" + n['data']['id'] + \"'\" for n in d['elements']['nodes'])")
[ "$(json "len(d['elements']['edges'])")" = "$(sql "SELECT count(*) FROM run_reply_edges e
    JOIN members s ON s.id = e.source_id JOIN members t ON t.id = e.target_id
    WHERE e.run_id = $run AND s.ext_id IN ($ids) AND t.ext_id IN ($ids)")" ] || fail "cytoscape edge count"
[ "$(json "sum(e['data']['weight'] for e in d['elements']['edges'])")" = "$(sql "SELECT sum(e.weight)::int FROM run_reply_edges e
    JOIN members s ON s.id = e.source_id JOIN members t ON t.id = e.target_id
    WHERE e.run_id = $run AND s.ext_id IN ($ids) AND t.ext_id IN ($ids)")" ] || fail "cytoscape edge weights"
[ "$(json "all(sorted(e['data']) == ['source', 'target', 'weight'] for e in d['elements']['edges'])")" = True ] ||
    fail "cytoscape edge data"
[ "$(json "d['network_members']")" = "$(sql "SELECT reply_graph_vertices FROM run_summary WHERE run_id = $run")" ] ||
    fail "cytoscape network_members"
# GraphML with the same limit: the same members and edges
curl -s -H "$auth" "$base/v1/forums/beer/graph?format=graphml&limit=30" >"$TMP/g.xml"
python3 - "$TMP/g.xml" "$ids" "$(json "len(d['elements']['edges'])")" <<'PY' || fail "graphml limit 30"
import sys, xml.etree.ElementTree as ET
ns = {"g": "http://graphml.graphdrawing.org/xmlns"}
root = ET.parse(sys.argv[1]).getroot()
nodes = {n.get("id") for n in root.iterfind(".//g:node", ns)}
assert nodes == {i.strip("'") for i in sys.argv[2].split(",")}, nodes
assert len(root.findall(".//g:edge", ns)) == int(sys.argv[3])
PY
for bad in "limit=0" "limit=2001" "limit=x"; do
    code=$(curl -s -o "$TMP/b" -w '%{http_code}' -H "$auth" "$base/v1/forums/beer/graph?format=cytoscape&$bad")
    OUT=$(cat "$TMP/b")
    [ "$code" = 400 ] && [ "$(json "d['error']['detail']")" = limit ] || fail "graph $bad gave $code: $OUT"
done
# the route list names the routes the dashboard relies on
OUT=$(curl -s -H "$auth" "$base/v1/routes")
[ "$(json "sum(r['pattern'] in ('/v1/forums/{forum}/members', '/v1/forums/{forum}/graph') for r in d['items'])")" = 2 ] ||
    fail "routes list: ${OUT:0:300}"
[ "$(json "[r['role'] for r in d['items'] if r['pattern'] == '/v1/forums/{forum}/recompute'] == ['admin']")" = True ] ||
    fail "routes list roles"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$base/v1/routes")" = 401 ] || fail "routes without a token"

echo "setup and API checks: $((SECONDS - t_start)) s"
shots="$FORA_BUILD_DIR/test-artefacts/dashboard"
mkdir -p "$shots"
rm -f "$shots"/*.png
FORA_BASE=$base FORA_TOKEN=$token FORA_FORUM=beer FORA_EMPTY_FORUM=tiny FORA_SHOTS=$shots FORA_DASH_TIMES=1 \
    timeout 120 node "$(dirname "$0")/dashboard.cjs" || fail "dashboard checks (server log: $(tail -5 "$TMP/serve.log"))"
for s in dashboard member; do
    [ "$(head -c 8 "$shots/$s.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "$s.png is not a PNG"
done
echo "screenshots: $shots"
