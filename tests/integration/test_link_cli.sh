# `fora link eval` and `fora link similar` on the bundled sample loaded from
# PostgreSQL.  The snapshot the command loads must give exactly the numbers
# that tests/unit/test_linking_sample.c measures on the same bundle read
# straight from the CSV files (seed 1, 1000 queries; see the table there), so
# this checks the load path, the zone and the JSON; then the similar-members
# answer (per-component cosines, a member without posts) and bad input.
source "$(dirname "$0")/lib.sh"
fora=$FORA_BIN

fresh_db fora_it_link
expect_exit 0 "$fora" migrate --quiet
expect_exit 0 "$fora" import --quiet --forum beer "$FORA_SOURCE_DIR/server/sample/beer"

expect_exit 0 "$fora" link eval --forum beer --episode-len 5,9 --queries 1000 --seed 1 --sybils 300
contains "$OUT" '"episodes"'
case "$OUT" in *NaN*|*nan*|*Infinity*) fail "non-finite number in: ${OUT:0:400}";; esac
[ "$(json "len(d['episodes'])")" = 2 ] || fail "two lengths"
[ "$(json "d['episodes'][1]['episode_len']")" = 9 ] || fail "order of lengths"
[ "$(json "d['episodes'][1]['queries']")" = 383 ] || fail "L=9: every eligible episode queried"
[ "$(json "round(d['episodes'][1]['views']['both']['mrr'], 4)")" = 0.476 ] || fail "L=9 both MRR: $OUT"
[ "$(json "round(d['episodes'][1]['views']['time']['mrr'], 4)")" = 0.3267 ] || fail "L=9 time MRR"
[ "$(json "round(d['episodes'][1]['views']['context']['mrr'], 4)")" = 0.3392 ] || fail "L=9 context MRR"
[ "$(json "round(d['episodes'][1]['random']['mrr'], 4)")" = 0.1044 ] || fail "L=9 random MRR"
[ "$(json "round(d['episodes'][0]['views']['both']['mrr'], 4)")" = 0.3221 ] || fail "L=5 both MRR"
# the member-balanced pool (two episodes per member): same numbers as the unit test
[ "$(json "d['episodes'][1]['balanced']['per_member']")" = 2 ] || fail "balanced pool"
[ "$(json "d['episodes'][1]['balanced']['rows']")" = 181 ] || fail "L=9 balanced rows"
[ "$(json "round(d['episodes'][1]['balanced']['views']['both']['mrr'], 4)")" = 0.2141 ] ||
    fail "L=9 balanced both MRR"
[ "$(json "round(d['episodes'][1]['balanced']['random']['mrr'], 4)")" = 0.0321 ] ||
    fail "L=9 balanced random MRR"
# the pooled baseline bounds the margin any fingerprint could show: 1 / random
[ "$(json "round(d['episodes'][1]['max_mrr_over_random'], 2)")" = 9.58 ] || fail "ceiling"
[ "$(json "d['sybils']['split_members']")" = 190 ] || fail "190 members have 6 posts"
[ "$(json "round(d['sybils']['views']['both']['mrr'], 4)")" = 0.0916 ] || fail "sybil MRR"
[ "$(json "d['sybils']['mrr_over_random']['both'] > 10")" = True ] || fail "sybils beat random"
# the view weights were fitted on each half of the members; an ablation keeps to its group
[ "$(json "d['episodes'][1]['views']['both']['fitted']")" = True ] || fail "fitted"
[ "$(json "len(d['episodes'][1]['views']['both']['weights'])")" = 2 ] || fail "two folds"
[ "$(json "all(w['embedding'] == 0 and w['category'] == 0 for w in d['episodes'][1]['views']['time']['weights'])")" = True ] ||
    fail "time-only weights"
[ "$(json "max(d['episodes'][1]['views']['both']['weights'][0].values())")" = 1.0 ] ||
    fail "weights scaled to a largest of 1"
w9=$(json "d['episodes'][1]['views']['both']['weights']")

# a length nobody reaches: a reason, not an error
expect_exit 0 "$fora" link eval --forum beer --episode-len 1000 --queries 10
contains "$(json "d['episodes'][0]['reason']")" "no row has another row"

# similar: the most active member of the sample
top=$(zcat "$FORA_SOURCE_DIR/server/sample/beer/posts.csv.gz" | awk -F, 'NR>1 && $3!=""{print $3}' |
      sort | uniq -c | sort -k1,1nr -k2,2 | awk 'NR==1{print $2}')
expect_exit 0 "$fora" link similar --forum beer --member "$top" --k 5
[ "$(json "len(d['similar'])")" = 5 ] || fail "five neighbours"
[ "$(json "d['reason']")" = None ] || fail "no reason for an active member"
[ "$(json "all(d['similar'][i]['similarity'] >= d['similar'][i+1]['similarity'] for i in range(4))")" = True ] ||
    fail "best first"
[ "$(json "sorted(d['similar'][0]['components'])")" = "['category', 'embedding', 'gaps', 'hour_of_week', 'session']" ] ||
    fail "components"
[ "$(json "'$top' not in [e['ext_id'] for e in d['similar']]")" = True ] || fail "itself excluded"
# the sample has one board category: after centring that component is zero for everybody
[ "$(json "d['zero_components']")" = "['category']" ] || fail "zero components: $OUT"

# a member who never posted: a reason, no neighbours
silent=$(zcat "$FORA_SOURCE_DIR/server/sample/beer/members.csv.gz" | awk -F, 'NR>1{print $1}' | sort >"$TMP/all";
         zcat "$FORA_SOURCE_DIR/server/sample/beer/posts.csv.gz" | awk -F, 'NR>1{print $3}' | sort -u >"$TMP/posting";
         comm -23 "$TMP/all" "$TMP/posting" | awk 'NR==1')
expect_exit 0 "$fora" link similar --forum beer --member "$silent"
[ "$(json "d['reason']")" = "no posts" ] || fail "reason for $silent: $OUT"
[ "$(json "d['similar']")" = "[]" ] || fail "no neighbours"

# the recompute stores the same evaluation (seed 1) and serves it
expect_exit 0 "$fora" recompute --quiet --forum beer --seed 1 --only linking
expect_exit 0 "$fora" show /v1/forums/beer/linking/eval
case "$OUT" in *NaN*|*nan*|*Infinity*) fail "non-finite number in: ${OUT:0:400}";; esac
[ "$(json "[e['episode_len'] for e in d['episodes']]")" = "[1, 3, 5, 7, 9]" ] || fail "stored lengths"
[ "$(json "[e['episode_len'] for e in d['episodes_balanced']]")" = "[1, 3, 5, 7, 9]" ] ||
    fail "stored balanced lengths"
[ "$(json "round(d['episodes'][4]['views']['both']['mrr'], 4)")" = 0.476 ] || fail "stored L=9 MRR"
[ "$(json "d['episodes_balanced'][4]['rows']")" = 181 ] || fail "stored balanced rows"
[ "$(json "round(d['episodes_balanced'][4]['views']['both']['mrr'], 4)")" = 0.2141 ] ||
    fail "stored balanced L=9 MRR: $OUT"
[ "$(json "round(d['episodes_balanced'][4]['random']['mrr'], 4)")" = 0.0321 ] ||
    fail "stored balanced random"
[ "$(json "all(abs(f[c] - g[c]) < 1e-6 for f, g in zip(d['episodes'][4]['views']['both']['weights'], $w9) for c in g)")" = True ] ||
    fail "stored weights: $OUT"
[ "$(json "'weights' in d['episodes'][4]['random']")" = False ] || fail "no weights for random"

# bad input
expect_exit 4 "$fora" link similar --forum beer --member no-such-member
contains "$ERR" 'member "no-such-member" not found'
expect_exit 4 "$fora" link eval --forum nosuch
contains "$ERR" 'forum "nosuch" not found'
expect_exit 2 "$fora" link eval --forum beer --episode-len 0
contains "$ERR" "episode-len"
expect_exit 2 "$fora" link similar --forum beer
contains "$ERR" "--member"
expect_exit 2 "$fora" link similar --forum beer --member "$top" --view text
contains "$ERR" "view"
expect_exit 2 "$fora" link frobnicate
rm -rf "$TMP"
echo ok
