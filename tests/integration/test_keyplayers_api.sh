# The key-player analysis end to end: recompute the bundled sample, then
# every keyplayers route through `fora show`, checked against the database
# and against each other, plus the error paths and the graph export.
source "$(dirname "$0")/lib.sh"
fora=$FORA_BIN
fresh_db fora_t_keyplayers
expect_exit 0 "$fora" migrate --quiet
expect_exit 0 "$fora" import --quiet --forum beer "$FORA_SOURCE_DIR/server/sample/beer"

# before any run: 404 naming the run
expect_exit 4 "$fora" show /v1/forums/beer/members
[ "$(json "d['error']['detail']")" = run ] || fail "no run: $OUT"

expect_exit 0 "$fora" recompute --quiet --forum beer --seed 7
run=$(sql "SELECT max(id) FROM analysis_runs WHERE status = 'completed'")
[ "$(sql "SELECT analyses::text FROM analysis_runs WHERE id = $run")" = "{summary,keyplayers,trajectories,linking}" ] ||
    fail "analyses of the run"
[ "$(sql "SELECT params->>'seed' FROM analysis_runs WHERE id = $run")" = 7 ] || fail "seed recorded"
[ "$(sql "SELECT params->'from' FROM analysis_runs WHERE id = $run")" = null ] || fail "open window"

# network metadata agrees with the stored summary
expect_exit 0 "$fora" show /v1/forums/beer/network
nm=$(json "d['network']['network_members']")
[ "$nm" = "$(sql "SELECT reply_graph_vertices FROM run_summary WHERE run_id = $run")" ] ||
    fail "network members $nm vs summary"
[ "$(json "d['network']['seed']")" = 7 ] || fail "seed in the network doc"
[ "$(json "d['network']['sampled']")" = False ] || fail "the sample is small: exact betweenness"

# members: every posting member is listed, sorted by composite rank by default
expect_exit 0 "$fora" show "/v1/forums/beer/members?limit=5"
total=$(json "d['total']")
[ "$total" = "$(sql "SELECT count(*) FROM (SELECT DISTINCT author_id FROM posts WHERE author_id IS NOT NULL
    UNION SELECT member_id FROM run_member_metrics WHERE run_id = $run AND in_network) x")" ] ||
    fail "members total $total"
[ "$(json "[m['composite_rank'] for m in d['items']] == [1,2,3,4,5]")" = True ] || fail "rank order: $OUT"
top=$(json "d['items'][0]['ext_id']")
# sorting by pagerank gives non-increasing values and a different header
expect_exit 0 "$fora" show "/v1/forums/beer/members?sort=-pagerank&limit=50"
[ "$(json "all(a['pagerank'] >= b['pagerank'] for a, b in zip(d['items'], d['items'][1:]))")" = True ] ||
    fail "pagerank sort"
[ "$(json "d['sort']")" = "-pagerank" ] || fail "sort echoed"
# filters
expect_exit 0 "$fora" show "/v1/forums/beer/members?status=moderator&limit=1000"
[ "$(json "d['total']")" = "$(sql "SELECT count(*) FROM run_member_metrics x JOIN members m ON m.id = x.member_id
    WHERE x.run_id = $run AND m.status = 'moderator'")" ] || fail "status filter"
expect_exit 0 "$fora" show "/v1/forums/beer/members?in_network=false&limit=3"
[ "$(json "all(not m['in_network'] and m['pagerank'] == 0 for m in d['items'])")" = True ] ||
    fail "in_network filter"
expect_exit 0 "$fora" show "/v1/forums/beer/members?community=0&limit=1000"
[ "$(json "d['total']")" = "$(sql "SELECT size FROM run_communities WHERE run_id = $run AND community = 0")" ] ||
    fail "community filter vs community size"

# CSV of a list route: one row per item, nested objects as dotted columns
"$fora" show --csv "/v1/forums/beer/members?limit=5&sort=-pagerank" >"$TMP/m.csv"
python3 - "$TMP/m.csv" "$run" <<'EOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
assert len(rows) == 5, len(rows)
assert {"ext_id", "pagerank", "composite_pct.pagerank", "in_network"} <= set(rows[0]), rows[0].keys()
p = [float(r["pagerank"]) for r in rows]
assert p == sorted(p, reverse=True), p
EOF
expect_exit 0 "$fora" show --csv /v1/forums/beer/network
contains "$ERR" "not a list route"
contains "$OUT" '"network"'

# one member, with ranks and percentiles that explain the composite
expect_exit 0 "$fora" show "/v1/forums/beer/members/$top"
[ "$(json "d['member']['composite_rank']")" = 1 ] || fail "member detail"
[ "$(json "sorted(d['member']['composite_pct'].keys()) == sorted(['pagerank','betweenness','in_degree','harmonic','out_degree','coreness','posts'])")" = True ] ||
    fail "composite percentiles: $OUT"
[ "$(json "d['ranks']['of']")" = "$total" ] || fail "ranks out of"
expect_exit 4 "$fora" show "/v1/forums/beer/members/no-such-member"
[ "$(json "d['error']['detail']")" = member ] || fail "unknown member"

# key players by method
expect_exit 0 "$fora" show "/v1/forums/beer/keyplayers?method=kpp_neg"
[ "$(json "len(d['items'])")" = 20 ] || fail "KPP-Neg k=20: $OUT"
[ "$(json "d['set']['objective'] > d['set']['objective_base']")" = True ] || fail "KPP-Neg raises F"
expect_exit 0 "$fora" show "/v1/forums/beer/keyplayers?method=kpp_pos&limit=5"
[ "$(json "[x['rank'] for x in d['items']] == [1,2,3,4,5]")" = True ] || fail "KPP-Pos ranks"
expect_exit 0 "$fora" show "/v1/forums/beer/keyplayers?method=betweenness&limit=3&offset=2"
[ "$(json "[x['rank'] for x in d['items']] == [3,4,5]")" = True ] || fail "offset ranks: $OUT"
b3=$(json "d['items'][0]['value']")
[ "$(sql "SELECT betweenness FROM run_member_metrics WHERE run_id = $run ORDER BY betweenness DESC, member_id OFFSET 2 LIMIT 1")" = "$b3" ] ||
    fail "third betweenness $b3"
expect_exit 0 "$fora" show "/v1/forums/beer/keyplayers"
[ "$(json "d['method']")" = composite ] || fail "default method"
[ "$(json "d['items'][0]['member']['ext_id']")" = "$top" ] || fail "composite top"
expect_exit 2 "$fora" show "/v1/forums/beer/keyplayers?method=shoe-size"
[ "$(json "d['error']['detail']")" = method ] || fail "bad method not named"

# disruption: targeted removal fragments faster than random
expect_exit 0 "$fora" show /v1/forums/beer/disruption
[ "$(json "len(d['strategies'])")" = 7 ] || fail "seven strategies"
[ "$(json "{s['strategy']: s['robustness'] for s in d['strategies']}['degree'] < {s['strategy']: s['robustness'] for s in d['strategies']}['random']")" = True ] ||
    fail "degree removal not stronger than random"
[ "$(json "all(s['curve'][0]['lcc_share'] >= s['curve'][-1]['lcc_share'] for s in d['strategies'])")" = True ] ||
    fail "curves must not grow"
[ "$(json "[s for s in d['strategies'] if s['strategy']=='random'][0]['repetitions']")" = 10 ] ||
    fail "random repetitions"
expect_exit 0 "$fora" show "/v1/forums/beer/disruption?strategy=pagerank"
[ "$(json "len(d['strategies'][0]['first_removed']) == d['grid']['max_removed']")" = True ] ||
    fail "removal order"
expect_exit 2 "$fora" show "/v1/forums/beer/disruption?strategy=fire"
[ "$(json "d['error']['detail']")" = strategy ] || fail "bad strategy"

# communities, threads, concentration, validation
expect_exit 0 "$fora" show "/v1/forums/beer/communities?limit=3"
[ "$(json "d['items'][0]['size'] >= d['items'][1]['size']")" = True ] || fail "communities by size"
[ "$(json "0 < d['modularity'] < 1")" = True ] || fail "modularity"
expect_exit 0 "$fora" show /v1/forums/beer/threads/stats
[ "$(json "sum(x['threads'] for x in d['threads']['size_distribution']) == d['threads']['threads']")" = True ] ||
    fail "size distribution sums to the threads"
[ "$(json "d['threads']['threads']")" = "$(sql "SELECT count(DISTINCT thread_id) FROM posts")" ] ||
    fail "threads with posts"
expect_exit 0 "$fora" show /v1/forums/beer/concentration
[ "$(json "0 < d['concentration']['gini'] < 1 and d['concentration']['top10_share'] > 0.1")" = True ] ||
    fail "concentration: $OUT"
[ "$(json "d['concentration']['lorenz'][-1] == [1.0, 1.0]")" = True ] || fail "lorenz ends at (1,1)"
expect_exit 0 "$fora" show /v1/forums/beer/validation
[ "$(json "d['staff']")" = 6 ] || fail "six moderators in the sample: $OUT"
[ "$(json "len(d['items'])")" = "$(sql "SELECT count(*) FROM run_role_validation WHERE run_id = $run")" ] ||
    fail "validation rows"
[ "$(json "all(x['auc'] is None or 0 <= x['auc'] <= 1 for x in d['items'])")" = True ] || fail "auc range"

# graph export: well-formed GraphML and GEXF with the network's nodes and edges
edges=$(sql "SELECT count(*) FROM run_reply_edges WHERE run_id = $run")
"$fora" show "/v1/forums/beer/graph?format=graphml" >"$TMP/g.graphml"
python3 - "$TMP/g.graphml" "$nm" "$edges" <<'EOF'
import sys, xml.etree.ElementTree as ET
ns = {"g": "http://graphml.graphdrawing.org/xmlns"}
root = ET.parse(sys.argv[1]).getroot()
nodes = root.findall(".//g:node", ns); edges = root.findall(".//g:edge", ns)
assert len(nodes) == int(sys.argv[2]), (len(nodes), sys.argv[2])
assert len(edges) == int(sys.argv[3]), (len(edges), sys.argv[3])
ids = {n.get("id") for n in nodes}
assert all(e.get("source") in ids and e.get("target") in ids for e in edges)
EOF
"$fora" show "/v1/forums/beer/graph?format=gexf" >"$TMP/g.gexf"
python3 -c "import sys, xml.etree.ElementTree as ET; r = ET.parse(sys.argv[1]).getroot(); \
n = r.findall('.//{http://gexf.net/1.3}node'); assert len(n) == int(sys.argv[2]), len(n)" "$TMP/g.gexf" "$nm"
expect_exit 2 "$fora" show "/v1/forums/beer/graph?format=dot"

# a run restricted to summary has no key-player results: ?run= says so
expect_exit 0 "$fora" recompute --quiet --forum beer --only summary
only=$(sql "SELECT max(id) FROM analysis_runs")
expect_exit 4 "$fora" show "/v1/forums/beer/members?run=$only"
contains "$(json "d['error']['message']")" "did not compute keyplayers"
# ... and the latest run with key players is still served by default
expect_exit 0 "$fora" show "/v1/forums/beer/members?limit=1"
[ "$(json "d['run']['id']")" = "$run" ] || fail "default run should be $run"
expect_exit 2 "$fora" recompute --forum beer --only colours

# run options: a window, the KPP size and composite weights reach the results
expect_exit 0 "$fora" recompute --quiet --forum beer --from 2014-01-01 --to 2015-01-01 --kpp-k 5 \
    --weights pagerank:2,betweenness:1 --repetitions 3
win=$(sql "SELECT max(id) FROM analysis_runs")
expect_exit 0 "$fora" show "/v1/forums/beer/summary?run=$win"
[ "$(json "d['summary']['posts']")" = "$(sql "SELECT count(*) FROM posts WHERE created_at >= '2014-01-01' AND created_at < '2015-01-01'")" ] ||
    fail "window posts"
expect_exit 0 "$fora" show "/v1/forums/beer/keyplayers?method=kpp_neg&run=$win"
[ "$(json "len(d['items'])")" = 5 ] || fail "kpp_k=5"
expect_exit 0 "$fora" show "/v1/forums/beer/members?run=$win&limit=1"
[ "$(json "sorted(d['items'][0]['composite_pct'])")" = "['betweenness', 'pagerank']" ] || fail "weights"
[ "$(json "d['total']")" = "$(sql "SELECT count(DISTINCT author_id) FROM posts WHERE created_at >= '2014-01-01' AND created_at < '2015-01-01' AND author_id IS NOT NULL")" ] ||
    fail "members of the window"
expect_exit 0 "$fora" show "/v1/forums/beer/disruption?run=$win&strategy=random"
[ "$(json "d['strategies'][0]['repetitions']")" = 3 ] || fail "repetitions"
expect_exit 2 "$fora" recompute --forum beer --kpp-k 0
contains "$ERR" "kpp_k"
expect_exit 2 "$fora" recompute --forum beer --from 2016-01-01 --to 2015-01-01
contains "$ERR" "from < to"
expect_exit 2 "$fora" recompute --forum beer --weights "pagerank:-1"
expect_exit 2 "$fora" recompute --forum beer --from yesterday

# an empty forum gives well-formed, empty results
mkdir "$TMP/empty"
printf 'board_id\n' >"$TMP/empty/boards.csv"
printf 'member_id\n' >"$TMP/empty/members.csv"
printf 'thread_id,board_id,created_at\n' >"$TMP/empty/threads.csv"
printf 'post_id,thread_id,created_at\n' >"$TMP/empty/posts.csv"
expect_exit 0 "$fora" import --quiet --forum empty "$TMP/empty"
expect_exit 0 "$fora" recompute --quiet --forum empty
for route in members keyplayers "keyplayers?method=kpp_neg" disruption communities threads/stats \
    concentration validation network; do
    expect_exit 0 "$fora" show "/v1/forums/empty/$route"
    contains "$OUT" '"run"'
    case "$OUT" in *NaN*|*Infinity*) fail "non-finite number in $route";; esac
done
echo "test_keyplayers_api: ok"
