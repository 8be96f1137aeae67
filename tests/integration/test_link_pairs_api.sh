# The "linking_cross" analysis of a run (run option link_with) and its
# routes: the bundled sample split at its median post time into two
# imported forums (tests/integration/migration_split.py), a run of
# beer_before with link_with=beer_after, then
# /v1/forums/{forum}/linking/candidates and
# /v1/forums/{forum}/members/{member}/similar?other= must serve what
# `fora link pairs` prints for the same two forums (same evaluation, same
# candidate list, same member list); a member without posts, a forum or run
# without cross results, and bad input.
source "$(dirname "$0")/lib.sh"
fora=$FORA_BIN

python3 "$FORA_SOURCE_DIR/tests/integration/migration_split.py" \
    "$FORA_SOURCE_DIR/server/sample/beer" "$TMP" >/dev/null
fresh_db fora_it_link_pairs_api
expect_exit 0 "$fora" migrate --quiet
expect_exit 0 "$fora" import --quiet --forum beer_before "$TMP/before"
expect_exit 0 "$fora" import --quiet --forum beer_after "$TMP/after"

# a run without link_with does not compute linking_cross
expect_exit 0 "$fora" recompute --quiet --forum beer_before --only summary,linking_cross
[ "$(sql "SELECT analyses::text FROM analysis_runs ORDER BY id DESC LIMIT 1")" = "{summary}" ] ||
    fail "analyses without link_with"
expect_exit 4 "$fora" show "/v1/forums/beer_before/linking/candidates"
contains "$(json "d['error']['message']")" "no completed run of this forum linked with another forum"

# a bad link_with fails the run with a clear message
expect_exit 4 "$fora" recompute --quiet --forum beer_before --only linking_cross --link-with nosuch
contains "$ERR" 'forum "nosuch" not found'
expect_exit 2 "$fora" recompute --quiet --forum beer_before --only linking_cross --link-with beer_before
contains "$ERR" "another forum"

expect_exit 0 "$fora" recompute --quiet --forum beer_before --only linking_cross --link-with beer_after
run=$(sql "SELECT max(run_id) FROM run_link_cross")
[ "$(sql "SELECT analyses::text FROM analysis_runs WHERE id = $run")" = "{summary,linking_cross}" ] ||
    fail "analyses with link_with"
[ "$(sql "SELECT params->'linking_cross'->>'link_with' FROM analysis_runs WHERE id = $run")" = beer_after ] ||
    fail "the run's params name the other forum"

expect_exit 0 "$fora" link pairs --forum beer_before --other beer_after --limit 100 --member 68
cli=$OUT

expect_exit 0 "$fora" show "/v1/forums/beer_before/linking/candidates?other=beer_after&limit=100"
case "$OUT" in *NaN*|*nan*|*Infinity*) fail "non-finite number in: ${OUT:0:400}";; esac
api=$OUT
[ "$(json "d['run']['id']")" = "$run" ] || fail "run"
[ "$(json "d['other']['name']")" = beer_after ] || fail "other"
[ "$(json "d['total']")" = 2690 ] || fail "2690 candidate pairs: ${OUT:0:600}"
[ "$(json "len(d['items'])")" = 100 ] || fail "limit"
[ "$(json "round(d['summary']['evaluation']['forum_to_other']['views']['time']['mrr'], 4)")" = 0.1263 ] ||
    fail "the stored evaluation"
[ "$(json "d['summary']['evaluation']['usable']")" = 33 ] || fail "usable"
contains "$(json "d['summary']['notes']")" "no overlap in time"
# the same list as the command
python3 - "$cli" "$api" <<'EOF' || fail "API and CLI candidates differ"
import json, sys
c, a = json.loads(sys.argv[1]), json.loads(sys.argv[2])
ci, ai = c["candidates"]["items"], a["items"]
assert len(ci) == len(ai) == 100
for x, y in zip(ci, ai):
    assert (x["rank"], x["member"], x["other_member"], x["mutual"]) == \
        (y["rank"], y["member"]["ext_id"], y["other_member"]["ext_id"], y["mutual"]), (x, y)
    assert abs(x["similarity"] - y["similarity"]) < 1e-5
    for k in ("hour_of_week", "gaps", "session"):
        assert abs(x["components"][k] - y["components"][k]) < 1e-5
    assert y["components"]["category"] is None
def near(x, y):  # the command prints 6 significant digits, the run stores 17
    if isinstance(x, dict):
        return x.keys() == y.keys() and all(near(x[k], y[k]) for k in x)
    if isinstance(x, float) or isinstance(y, float):
        return abs(x - y) <= 1e-5 * max(1, abs(y))
    return x == y
assert near(c["evaluation"], a["summary"]["evaluation"])
EOF
# paging, and the other forum by default
expect_exit 0 "$fora" show "/v1/forums/beer_before/linking/candidates?limit=2&offset=98"
[ "$(json "[i['rank'] for i in d['items']]")" = "[99, 100]" ] || fail "offset"
[ "$(json "d['other']['name']")" = beer_after ] || fail "the other forum by default"

# one member's list in the other forum
expect_exit 0 "$fora" show "/v1/forums/beer_before/members/68/similar?other=beer_after"
python3 - "$cli" "$OUT" <<'EOF' || fail "API and CLI member lists differ"
import json, sys
c, a = json.loads(sys.argv[1]), json.loads(sys.argv[2])
assert a["reason"] is None and a["member"]["ext_id"] == "68"
assert [e["ext_id"] for e in c["member"]["similar"]] == [e["member"]["ext_id"] for e in a["items"]]
assert [e["rank"] for e in a["items"]] == list(range(1, 11))
assert all(e["member"]["ext_id"].endswith("~after") for e in a["items"])
EOF
# without ?other the route is the within-forum one (no linking run here: 404)
expect_exit 4 "$fora" show "/v1/forums/beer_before/members/68/similar"
contains "$(json "d['error']['message']")" "linking"
silent=$(python3 -c "
import csv
ms = [r[0] for r in list(csv.reader(open('$TMP/before/members.csv')))[1:]]
ps = {r[2] for r in list(csv.reader(open('$TMP/before/posts.csv')))[1:]}
print(sorted(m for m in ms if m not in ps)[0])")
expect_exit 0 "$fora" show "/v1/forums/beer_before/members/$silent/similar?other=beer_after"
[ "$(json "d['reason']")" = "no posts" ] || fail "reason: $OUT"
[ "$(json "d['items']")" = "[]" ] || fail "no items"

# bad input and missing results
expect_exit 4 "$fora" show "/v1/forums/beer_before/linking/candidates?other=nosuch"
[ "$(json "d['error']['detail']")" = other ] || fail "detail other"
contains "$(json "d['error']['message']")" 'forum "nosuch" not found'
expect_exit 4 "$fora" show "/v1/forums/beer_after/linking/candidates?other=beer_before"
contains "$(json "d['error']['message']")" 'linked with forum "beer_before"'
expect_exit 4 "$fora" show "/v1/forums/beer_before/members/no-such/similar?other=beer_after"
[ "$(json "d['error']['detail']")" = member ] || fail "detail member"
expect_exit 2 "$fora" show "/v1/forums/beer_before/linking/candidates?limit=0"
[ "$(json "d['error']['detail']")" = limit ] || fail "detail limit"
expect_exit 2 "$fora" show "/v1/forums/beer_before/linking/candidates?colour=red"
[ "$(json "d['error']['detail']")" = colour ] || fail "detail colour"
first=$(sql "SELECT min(id) FROM analysis_runs WHERE status = 'completed'")
expect_exit 4 "$fora" show "/v1/forums/beer_before/linking/candidates?run=$first"
[ "$(json "d['error']['detail']")" = run ] || fail "a run without linking_cross"
echo ok
