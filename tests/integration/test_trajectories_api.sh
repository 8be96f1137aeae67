# The trajectories analysis end to end: recompute the bundled sample, then
# the three trajectories routes through `fora show`, checked against the
# database and against each other, plus the error paths.
source "$(dirname "$0")/lib.sh"
fora=$FORA_BIN
fresh_db fora_t_trajectories
expect_exit 0 "$fora" migrate --quiet
expect_exit 0 "$fora" import --quiet --forum beer "$FORA_SOURCE_DIR/server/sample/beer"

# before any run: 404 naming the run
expect_exit 4 "$fora" show /v1/forums/beer/trajectories
[ "$(json "d['error']['detail']")" = run ] || fail "no run: $OUT"

expect_exit 0 "$fora" recompute --quiet --forum beer --seed 3 --only trajectories
run=$(sql "SELECT max(id) FROM analysis_runs WHERE status = 'completed'")
[ "$(sql "SELECT analyses::text FROM analysis_runs WHERE id = $run")" = "{summary,trajectories}" ] ||
    fail "analyses of the run"
echo "trajectories computed in $(sql "SELECT timings->'trajectories' FROM analysis_runs WHERE id = $run" 2>/dev/null) s"

expect_exit 0 "$fora" show /v1/forums/beer/trajectories
doc=$OUT
case "$doc" in *NaN*|*Infinity*) fail "non-finite number";; esac
# every posting member is fitted, the others are counted as non-posting
posting=$(sql "SELECT count(DISTINCT author_id) FROM posts p JOIN members m ON m.id = p.author_id
    JOIN forums f ON f.id = m.forum_id WHERE f.name = 'beer'")
allm=$(sql "SELECT count(*) FROM members m JOIN forums f ON f.id = m.forum_id WHERE f.name = 'beer'")
[ "$(json "d['analysis']['members']")" = "$posting" ] || fail "members fitted vs posting members $posting"
[ "$(json "d['analysis']['members'] + d['analysis']['nonposting']")" = "$allm" ] || fail "nonposting"
# one selected model, and it has the smallest BIC among the eligible ones
[ "$(json "sum(m['selected'] for m in d['models'])")" = 1 ] || fail "one selected model"
[ "$(json "min((m['bic'], m['k']) for m in d['models'] if m['eligible'])[1] == d['analysis']['selected_k']")" = True ] ||
    fail "selected K is not the smallest BIC"
K=$(json "d['analysis']['selected_k']")
[ "$(json "len(d['groups'])")" = "$K" ] || fail "groups of the selected model"
[ "$(json "abs(sum(g['pi'] for g in d['groups']) - 1) < 1e-9")" = True ] || fail "pi sum to 1"
[ "$(json "sum(g['size'] for g in d['groups'])")" = "$posting" ] || fail "group sizes sum to the members"
T=$(json "d['analysis']['periods']")
[ "$(json "all(len(g['curve']['lambda']) == $T for g in d['groups'])")" = True ] || fail "curve length"
[ "$(json "all(l <= c <= u for g in d['groups'] if g['curve']['lower'][0] is not None
    for l, c, u in zip(g['curve']['lower'], g['curve']['lambda'], g['curve']['upper']))")" = True ] ||
    fail "bands enclose the curve"
[ "$(json "all(g['label'] in ('lurker','escalator','declining','manager','vested','browser','occasional','empty') for g in d['groups'])")" = True ] ||
    fail "labels"
# stored rows agree with the document
[ "$(sql "SELECT count(*) FROM run_trajectory_models WHERE run_id = $run")" = "$(json "len(d['models'])")" ] ||
    fail "models rows"
[ "$(sql "SELECT count(*) FROM run_trajectory_members WHERE run_id = $run")" = "$posting" ] || fail "member rows"

# a group's members: sizes, paging, order by posterior
g1size=$(json "d['groups'][0]['size']")
expect_exit 0 "$fora" show "/v1/forums/beer/trajectories/groups/1/members?limit=3"
[ "$(json "d['total']")" = "$g1size" ] || fail "group 1 total"
[ "$(json "len(d['items']) == min(3, $g1size)")" = True ] || fail "group 1 page"
[ "$(json "all(a['posterior'] >= b['posterior'] for a, b in zip(d['items'], d['items'][1:]))")" = True ] ||
    fail "posterior order"
[ "$(json "all(m['group'] == 1 for m in d['items'])")" = True ] || fail "members of group 1"
first=$(json "d['items'][0]['ext_id']")
expect_exit 0 "$fora" show "/v1/forums/beer/trajectories/groups/1/members?limit=1&offset=1"
[ "$g1size" -lt 2 ] || [ "$(json "d['items'][0]['ext_id'] != '$first'")" = True ] || fail "offset"
# all groups' members together are every posting member
tot=0
for g in $(seq 1 "$K"); do
    expect_exit 0 "$fora" show "/v1/forums/beer/trajectories/groups/$g/members?limit=1000"
    tot=$((tot + $(json "len(d['items'])")))
done
[ "$tot" = "$posting" ] || fail "members over all groups $tot vs $posting"

# one member: posteriors sum to 1, its counts agree with the posts table
expect_exit 0 "$fora" show "/v1/forums/beer/members/$first/trajectory"
[ "$(json "len(d['posteriors'])")" = "$K" ] || fail "posteriors length"
[ "$(json "abs(sum(d['posteriors']) - 1) < 1e-9")" = True ] || fail "posteriors sum"
[ "$(json "max(d['posteriors']) == d['member']['posterior']")" = True ] || fail "assigned posterior"
[ "$(json "len(d['counts']) == $T and len(d['group_curve']['lambda']) == $T")" = True ] || fail "lengths"
[ "$(json "sum(c for c in d['counts'] if c is not None)")" = \
  "$(sql "SELECT count(*) FROM posts p JOIN members m ON m.id = p.author_id JOIN forums f ON f.id = m.forum_id
     WHERE f.name = 'beer' AND m.ext_id = '$first'")" ] || fail "member's counts vs posts"
[ "$(json "d['member']['posts'] == sum(c for c in d['counts'] if c is not None)")" = True ] || fail "posts"
[ "$(json "d['member']['trend']['defined'] is False or d['member']['trend']['lower'] <= d['member']['trend']['slope'] <= d['member']['trend']['upper']")" = True ] ||
    fail "trend interval"

# bad input: 400/404 naming the parameter (a {group} that is no group number is a 404)
expect_exit 4 "$fora" show "/v1/forums/beer/trajectories/groups/x/members"
[ "$(json "d['error']['detail']")" = group ] || fail "bad group: $OUT"
expect_exit 4 "$fora" show "/v1/forums/beer/trajectories/groups/0/members"
[ "$(json "d['error']['detail']")" = group ] || fail "group 0: $OUT"
expect_exit 4 "$fora" show "/v1/forums/beer/trajectories/groups/999/members"
[ "$(json "d['error']['detail']")" = group ] || fail "group 999: $OUT"
expect_exit 2 "$fora" show "/v1/forums/beer/trajectories/groups/1/members?limit=0"
[ "$(json "d['error']['detail']")" = limit ] || fail "limit: $OUT"
expect_exit 2 "$fora" show "/v1/forums/beer/trajectories?shoe=1"
[ "$(json "d['error']['detail']")" = shoe ] || fail "unknown parameter: $OUT"
expect_exit 4 "$fora" show "/v1/forums/beer/members/no-such-member/trajectory"
[ "$(json "d['error']['detail']")" = member ] || fail "unknown member: $OUT"
expect_exit 4 "$fora" show "/v1/forums/nosuchforum/trajectories"
[ "$(json "d['error']['detail']")" = forum ] || fail "unknown forum: $OUT"
# a run without the analysis is not picked
expect_exit 0 "$fora" recompute --quiet --forum beer --only summary
expect_exit 0 "$fora" show /v1/forums/beer/trajectories
[ "$(json "d['run']['id']")" = "$run" ] || fail "picked a run without trajectories"
echo "test_trajectories_api: ok"
