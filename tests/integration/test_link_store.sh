# The recompute step `linking` (server/run_linking.c) end to end on the
# bundled sample: what it stores (run_link_similar, run_link_eval,
# run_link_skipped) against the sample's own counts and against `fora link
# eval`, which computes the same numbers without storing (seed 1; see
# tests/integration/test_link_cli.sh), and the similar-members route.
source "$(dirname "$0")/lib.sh"
fora=$FORA_BIN
fresh_db fora_t_link_store
expect_exit 0 "$fora" migrate --quiet
expect_exit 0 "$fora" import --quiet --forum beer "$FORA_SOURCE_DIR/server/sample/beer"
expect_exit 0 "$fora" recompute --quiet --forum beer --seed 1 --only linking
run=$(sql "SELECT max(id) FROM analysis_runs WHERE status = 'completed'")
[ -n "$run" ] || fail "no completed run"

# the sample's posting members (a post's author is column 3; empty: deleted account)
posting=$(zcat "$FORA_SOURCE_DIR/server/sample/beer/posts.csv.gz" | awk -F, 'NR>1 && $3!=""{print $3}' | sort -u | wc -l)
members=$(zcat "$FORA_SOURCE_DIR/server/sample/beer/members.csv.gz" | awk 'NR>1' | wc -l)
[ "$(sql "SELECT count(DISTINCT member_id) FROM run_link_similar WHERE run_id = $run")" = "$posting" ] ||
    fail "every posting member ($posting) has neighbours"
[ "$(sql "SELECT count(*) FROM run_link_similar WHERE run_id = $run")" = $((posting * 10)) ] ||
    fail "ten neighbours each (one COPY for all of them)"
[ "$(sql "SELECT count(*) FROM run_link_similar WHERE run_id = $run AND member_id = other_id")" = 0 ] ||
    fail "nobody is their own neighbour"
# best first (ranked by single-precision products, stored in double: equal to 1e-6)
[ "$(sql "SELECT count(*) FROM run_link_similar a JOIN run_link_similar b ON a.run_id = b.run_id
          AND a.member_id = b.member_id AND b.rank = a.rank + 1 WHERE a.run_id = $run
          AND b.similarity > a.similarity + 1e-6")" = 0 ] ||
    fail "best first: $(sql "SELECT max(b.similarity - a.similarity) FROM run_link_similar a JOIN
          run_link_similar b ON a.run_id = b.run_id AND a.member_id = b.member_id AND b.rank = a.rank + 1
          WHERE a.run_id = $run")"
[ "$(sql "SELECT count(*) FROM run_link_skipped WHERE run_id = $run AND reason = 'no posts'")" = $((members - posting)) ] ||
    fail "members without posts listed with the reason"

# the evaluation: five lengths pooled and balanced, and the sybils, four views
# each; the sample is under the cap of 20000 episodes, so every episode is ranked
[ "$(sql "SELECT count(*) FROM run_link_eval WHERE run_id = $run")" = 44 ] || fail "11 protocols x 4 views"
[ "$(sql "SELECT rows FROM run_link_eval WHERE run_id = $run AND protocol = 'episodes' AND episode_len = 1 AND view = 'both'")" = 6740 ] ||
    fail "L=1: all 6740 episodes"
[ "$(sql "SELECT params->'linking'->>'episode_max_rows' FROM analysis_runs WHERE id = $run")" = 20000 ] ||
    fail "the cap is recorded"
expect_exit 0 "$fora" link eval --forum beer --episode-len 9 --queries 1000 --seed 1 --sybils 300
for v in time context both; do
    cli=$(json "round(d['episodes'][0]['views']['$v']['mrr'], 6)")
    db=$(sql "SELECT round(mrr::numeric, 6) FROM run_link_eval WHERE run_id = $run AND protocol = 'episodes' AND episode_len = 9 AND view = '$v'")
    python3 -c "import sys; sys.exit(abs($cli - $db) > 1e-6)" || fail "L=9 $v: stored $db, computed $cli"
    cli=$(json "round(d['episodes'][0]['balanced']['views']['$v']['mrr'], 6)")
    db=$(sql "SELECT round(mrr::numeric, 6) FROM run_link_eval WHERE run_id = $run AND protocol = 'episodes_balanced' AND episode_len = 9 AND view = '$v'")
    python3 -c "import sys; sys.exit(abs($cli - $db) > 1e-6)" || fail "balanced L=9 $v: stored $db, computed $cli"
    cli=$(json "round(d['sybils']['views']['$v']['mrr'], 6)")
    db=$(sql "SELECT round(mrr::numeric, 6) FROM run_link_eval WHERE run_id = $run AND protocol = 'sybils' AND view = '$v'")
    python3 -c "import sys; sys.exit(abs($cli - $db) > 1e-6)" || fail "sybils $v: stored $db, computed $cli"
done

# the route serves the stored list
top=$(zcat "$FORA_SOURCE_DIR/server/sample/beer/posts.csv.gz" | awk -F, 'NR>1 && $3!=""{print $3}' |
      sort | uniq -c | sort -k1,1nr -k2,2 | awk 'NR==1{print $2}')
expect_exit 0 "$fora" show "/v1/forums/beer/members/$top/similar"
[ "$(json "len(d['items'])")" = 10 ] || fail "ten items: $OUT"
first=$(json "round(d['items'][0]['similarity'], 6)")
db=$(sql "SELECT round(s.similarity::numeric, 6) FROM run_link_similar s JOIN members m ON m.id = s.member_id
          WHERE s.run_id = $run AND m.ext_id = '$top' AND s.rank = 1")
python3 -c "import sys; sys.exit(abs($first - $db) > 1e-6)" || fail "route vs table: $first vs $db"
echo ok
