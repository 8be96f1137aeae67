# The trajectories run options (traj_*) end to end: validated by POST
# .../recompute (400 naming the option), stored in the job and the run's
# params, applied by the worker's run (period, model, zero order, per-group
# orders, K range, starts, min_share, exposure, analyst labels), and the
# group profiles served: board-category shares, mean centrality from the
# keyplayers step of the same run, rule and analyst labels.
source "$(dirname "$0")/lib.sh"
fora=$FORA_BIN
fresh_db fora_t_traj_opts
expect_exit 0 "$fora" migrate --quiet
expect_exit 0 "$fora" import --quiet --forum beer "$FORA_SOURCE_DIR/server/sample/beer"
expect_exit 0 "$fora" token create --name ops --role admin
admin_token=$OUT

port=$((20000 + RANDOM % 20000))
"$fora" serve --port "$port" --workers 0 2>>"$TMP/serve.log" >/dev/null &
pid=$!
base="http://127.0.0.1:$port"
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$TMP"' EXIT
for _ in $(seq 50); do curl -s "$base/healthz" >/dev/null && break; sleep 0.1; done

post() { # post QUERY: sets $code and OUT
    code=$(curl -s -o "$TMP/b" -w '%{http_code}' -X POST -H "Authorization: Bearer $admin_token" \
        "$base/v1/forums/beer/recompute?$1")
    OUT=$(cat "$TMP/b")
}
for bad in traj_period=day traj_time=lunar traj_model=negbin traj_zero_order=4 traj_order=4 \
    "traj_order=3,,1" traj_kmin=0 traj_kmax=21 traj_starts=0 traj_min_share=1 traj_exposure=yes \
    traj_labels=0=x "traj_labels=1=a;b" traj_colour=red; do
    post "$bad"
    [ "$code" = 400 ] || fail "$bad gave $code"
    want=${bad%%=*}
    [ "$(json "d['error']['detail']")" = "$want" ] || fail "$bad: detail should be $want: $OUT"
    contains "$(json "d['error']['message']")" "$want"
done
[ "$(sql "SELECT count(*) FROM recompute_jobs")" = 0 ] || fail "a bad request queued a job"

# quarterly ZIP, zero inflation linear in time, orders 2,1,1 for K = 3, K = 1..3, analyst labels
post "only=keyplayers,trajectories&seed=5&repetitions=1&kpp_k=3&traj_period=quarter&traj_model=zip&traj_zero_order=1&traj_order=2,1,1&traj_kmax=3&traj_starts=3&traj_min_share=0.01&traj_labels=1=quiet%20ones,7=nobody"
[ "$code" = 202 ] || fail "queue gave $code: $OUT"
kill -TERM "$pid"; wait "$pid" || fail "serve did not stop cleanly"
expect_exit 0 "$fora" worker --once --quiet
[ "$(sql "SELECT status FROM recompute_jobs")" = completed ] ||
    fail "job: $(sql "SELECT status, error FROM recompute_jobs")"
run=$(sql "SELECT run_id FROM recompute_jobs")
OUT=$(sql "SELECT params->'trajectories' FROM analysis_runs WHERE id = $run")
[ "$(json "(d['period'], d['model'], d['zero_order'], d['orders'], d['order'], d['kmax'], d['starts'], d['min_share'], d['exposure'], d['labels'])")" = \
  "('quarter', 'zip', 1, [2, 1, 1], 2, 3, 3, 0.01, True, {'1': 'quiet ones', '7': 'nobody'})" ] ||
    fail "run params: $OUT"

expect_exit 0 "$fora" show /v1/forums/beer/trajectories
doc=$OUT
case "$doc" in *NaN*|*Infinity*) fail "non-finite number";; esac
[ "$(json "d['run']['id']")" = "$run" ] || fail "served run"
a="d['analysis']"
[ "$(json "($a['period'], $a['model'], $a['zero_order'], $a['orders'], $a['exposure'], $a['labels_ignored'])")" = \
  "('quarter', 'zip', 1, [2, 1, 1], True, 1)" ] || fail "analysis: $(json "$a")"
# quarters: the span in quarters of the members' posts
span=$(sql "SELECT (extract(year FROM max(p.created_at AT TIME ZONE 'UTC')) * 4 + (extract(month FROM max(p.created_at AT TIME ZONE 'UTC')) - 1) / 3)::int
    - (extract(year FROM min(p.created_at AT TIME ZONE 'UTC')) * 4 + (extract(month FROM min(p.created_at AT TIME ZONE 'UTC')) - 1) / 3)::int + 1
    FROM posts p JOIN members m ON m.id = p.author_id AND m.forum_id = p.forum_id JOIN forums f ON f.id = p.forum_id WHERE f.name = 'beer'")
[ "$(json "$a['periods']")" = "$span" ] || fail "periods $(json "$a['periods']") vs quarters $span"
[ "$(json "[m['k'] for m in d['models']]")" = "[1, 2, 3]" ] || fail "K range"
K=$(json "$a['selected_k']")
[ "$(json "all(len(g['zero_coef']) == 2 for g in d['groups'])")" = True ] || fail "zero_coef"
if [ "$K" = 3 ]; then
    [ "$(json "sorted(len(g['coef']) - 1 for g in d['groups'])")" = "[1, 1, 2]" ] || fail "orders 2,1,1"
fi
# labels: group 1 is the analyst's, the others the rules'
[ "$(json "(d['groups'][0]['label'], d['groups'][0]['label_overridden'])")" = "('quiet ones', True)" ] ||
    fail "analyst label: $(json "d['groups'][0]")"
[ "$(json "all(g['label'] == g['rule_label'] and not g['label_overridden'] for g in d['groups'][1:])")" = True ] ||
    fail "rule labels"
# category shares: sum to 1 per group, and agree with the posts table for group 1
[ "$(json "all(abs(sum(g['category_shares'].values()) - 1) < 1e-9 for g in d['groups'] if g['size'] > 0)")" = True ] ||
    fail "category shares"
OUT2=$(sql "SELECT json_object_agg(cat, n::float / tot) FROM (SELECT b.category AS cat, count(*) AS n,
    sum(count(*)) OVER () AS tot FROM run_trajectory_members x JOIN posts p ON p.author_id = x.member_id
    JOIN threads t ON t.forum_id = p.forum_id AND t.id = p.thread_id JOIN boards b ON b.forum_id = t.forum_id AND b.id = t.board_id
    WHERE x.run_id = $run AND x.grp = 1 GROUP BY b.category) q")
[ "$(python3 -c "import json,sys; a=json.loads(sys.argv[1]); b=json.loads(sys.argv[2])['groups'][0]['category_shares']
print(all(abs(a.get(k or '', 0) - (v or 0)) < 1e-9 for k, v in b.items()) and abs(sum(a.values()) - 1) < 1e-9)" "$OUT2" "$doc")" = True ] ||
    fail "group 1 category shares vs posts: $OUT2"
# centrality: the mean of the keyplayers rows of the same run
OUT=$doc
[ "$(json "d['groups'][0]['centrality']['members'] == d['groups'][0]['size']")" = True ] || fail "centrality members"
want=$(sql "SELECT avg(k.pagerank) FROM run_trajectory_members x JOIN run_member_metrics k
    ON k.run_id = x.run_id AND k.member_id = x.member_id WHERE x.run_id = $run AND x.grp = 1")
[ "$(json "abs(d['groups'][0]['centrality']['pagerank'] - $want) < 1e-12")" = True ] || fail "mean pagerank"
# exposures: every member's first and last period at risk is a share in (0, 1]
[ "$(sql "SELECT count(*) FROM run_trajectory_members WHERE run_id = $run
    AND NOT (exposure_first > 0 AND exposure_first <= 1 AND exposure_last > 0 AND exposure_last <= 1)")" = 0 ] ||
    fail "exposures"
[ "$(sql "SELECT count(*) > 0 FROM run_trajectory_members WHERE run_id = $run AND exposure_first < 1")" = t ] ||
    fail "no partial first quarter"

# without keyplayers in the run: no centrality; default options
expect_exit 0 "$fora" recompute --quiet --forum beer --only trajectories
expect_exit 0 "$fora" show /v1/forums/beer/trajectories
[ "$(json "all(g['centrality'] is None for g in d['groups'])")" = True ] || fail "centrality without keyplayers"
[ "$(json "(d['analysis']['period'], d['analysis']['model'], d['analysis']['orders'], d['analysis']['labels'])")" = \
  "('month', 'poisson', None, {})" ] || fail "defaults"
echo "test_trajectories_opts: ok"
