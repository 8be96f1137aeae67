# `fora link pairs`: account linking across two forums loaded from
# PostgreSQL.  The bundled sample is cut at its median post time into two
# bundles - beer_before and beer_after, where every member who posted after
# the cut has a new account "EXT~after" - exactly as fora_link_migration_split
# does, and links.csv records the true pairs in member_links.  The command
# must then give the numbers tests/unit/test_linking_cross_sample.c measures
# on the same split made in memory (median cut, defaults: 33 usable pairs,
# MRR 0.1263 before->after, 0.1150 after->before, random 0.0303), so this
# checks the load path, the known pairs read from member_links and the
# JSON; then a tiny third forum in another zone and years later (no overlap
# in time, no known pairs: notes and reasons), one member's list, and bad input.
source "$(dirname "$0")/lib.sh"
fora=$FORA_BIN

python3 "$FORA_SOURCE_DIR/tests/integration/migration_split.py" "$FORA_SOURCE_DIR/server/sample/beer" "$TMP"

fresh_db fora_it_link_pairs
expect_exit 0 "$fora" migrate --quiet
expect_exit 0 "$fora" import --quiet --forum beer_before "$TMP/before"
expect_exit 0 "$fora" import --quiet --forum beer_after "$TMP/after"
[ "$(sql "SELECT count(*) FROM member_links")" = 84 ] || fail "84 known pairs"

expect_exit 0 "$fora" link pairs --forum beer_before --other beer_after --limit 20
case "$OUT" in *NaN*|*nan*|*Infinity*) fail "non-finite number in: ${OUT:0:400}";; esac
[ "$(json "d['forum']['compared']")" = 219 ] || fail "219 members of A with >= 3 posts: $OUT"
[ "$(json "d['other']['compared']")" = 193 ] || fail "193 of B"
[ "$(json "d['evaluation']['known_pairs']")" = 84 ] || fail "84 known pairs"
[ "$(json "d['evaluation']['usable']")" = 33 ] || fail "33 usable pairs"
[ "$(json "round(d['evaluation']['forum_to_other']['views']['time']['mrr'], 4)")" = 0.1263 ] ||
    fail "A->B MRR: ${OUT:0:3000}"
[ "$(json "round(d['evaluation']['other_to_forum']['views']['time']['mrr'], 4)")" = 0.115 ] ||
    fail "B->A MRR"
[ "$(json "round(d['evaluation']['forum_to_other']['random']['mrr'], 4)")" = 0.0303 ] || fail "random"
[ "$(json "d['evaluation']['forum_to_other']['mrr_over_random']['time'] > 3")" = True ] || fail "ratio"
# the forums do not overlap in time: said, and the time components are still compared
[ "$(json "d['overlap_seconds']")" = 0 ] || fail "overlap"
contains "$(json "d['notes']")" "no overlap in time"
contains "$(json "d['notes']")" "fewer than two board category names" # one category: "tag"
[ "$(json "d['components']")" = "['hour_of_week', 'gaps', 'session']" ] || fail "components"
contains "$(json "d['not_compared']")" "embedding"
[ "$(json "len(d['candidates']['items'])")" = 20 ] || fail "limit 20"
[ "$(json "all(x['similarity'] >= y['similarity'] for x, y in zip(d['candidates']['items'], d['candidates']['items'][1:]))")" = True ] ||
    fail "best first"
[ "$(json "d['candidates']['items'][0]['components']['category']")" = None ] || fail "category not compared: null"
[ "$(json "all(i['posts'] >= 3 and i['other_posts'] >= 3 for i in d['candidates']['items'])")" = True ] ||
    fail "min_posts"
[ "$(json "d['forum']['not_compared']['fewer posts than min_posts: too little to compare'] > 0")" = True ] ||
    fail "reason counts"

# one member's list: a migrant with many posts
m=$(python3 -c "
import csv
rows = list(csv.reader(open('$TMP/before/posts.csv')))[1:]
links = [r[2] for r in list(csv.reader(open('$TMP/after/links.csv')))[1:]]
from collections import Counter
c = Counter(r[2] for r in rows if r[2] in links)
print(sorted(c.items(), key=lambda x: (-x[1], x[0]))[0][0])")
expect_exit 0 "$fora" link pairs --forum beer_before --other beer_after --member "$m" --k 5 --limit 0
[ "$(json "len(d['member']['similar'])")" = 5 ] || fail "five neighbours"
[ "$(json "d['member']['reason']")" = None ] || fail "no reason"
[ "$(json "all(e['ext_id'].endswith('~after') for e in d['member']['similar'])")" = True ] ||
    fail "neighbours are in the other forum"
[ "$(json "sorted(d['member']['similar'][0]['components'])")" = "['category', 'gaps', 'hour_of_week', 'session']" ] ||
    fail "components"
[ "$(json "d['candidates']['items']")" = "[]" ] || fail "limit 0"
# a member who never posted
silent=$(python3 -c "
import csv
ms = [r[0] for r in list(csv.reader(open('$TMP/before/members.csv')))[1:]]
ps = {r[2] for r in list(csv.reader(open('$TMP/before/posts.csv')))[1:]}
print(sorted(m for m in ms if m not in ps)[0])")
expect_exit 0 "$fora" link pairs --forum beer_before --other beer_after --member "$silent"
[ "$(json "d['member']['reason']")" = "no posts" ] || fail "reason for $silent: $OUT"
[ "$(json "d['member']['similar']")" = "[]" ] || fail "no neighbours"

# a tiny forum in Tokyo, in 2030: no overlap, no known pairs, local frame
mkdir -p "$TMP/tiny"
printf 'name,source,timezone\ntiny,test,Asia/Tokyo\n' >"$TMP/tiny/forum.csv"
printf 'board_id,parent_id,category\nb1,,tag\n' >"$TMP/tiny/boards.csv"
printf 'member_id,pseudonym,registered_at,status,banned_at\nu1,,,,\nu2,,,,\nu3,,,,\n' >"$TMP/tiny/members.csv"
printf 'thread_id,board_id,starter_id,created_at\nt1,b1,u1,2030-01-07T01:00:00\n' >"$TMP/tiny/threads.csv"
{ echo 'post_id,thread_id,author_id,created_at,reply_to'
  for w in 0 1 2 3; do
    d=$((7 + 7 * w)); printf 'p1%d,t1,u1,2030-01-%02dT01:00:00,\np2%d,t1,u2,2030-01-%02dT13:00:00,\n' $w $d $w $d
  done; } >"$TMP/tiny/posts.csv"
expect_exit 0 "$fora" import --quiet "$TMP/tiny"
expect_exit 0 "$fora" link pairs --forum tiny --other beer_after --frame local --k 3
case "$OUT" in *NaN*|*nan*|*Infinity*) fail "non-finite number in: ${OUT:0:400}";; esac
[ "$(json "d['frame']")" = local ] || fail "frame"
[ "$(json "d['forum']['timezone']")" = Asia/Tokyo ] || fail "zone"
[ "$(json "d['forum']['compared']")" = 2 ] || fail "u1 and u2 compared, u3 never posted"
[ "$(json "d['forum']['not_compared']['no posts']")" = 1 ] || fail "u3 no posts"
[ "$(json "d['evaluation']['known_pairs']")" = 0 ] || fail "no known pairs"
contains "$(json "d['evaluation']['reason']")" "no pair between these two forums"
contains "$(json "d['notes']")" "no overlap in time"
[ "$(json "d['candidates']['total'] > 0")" = True ] || fail "candidates"

# bad input
expect_exit 2 "$fora" link pairs --forum beer_before
contains "$ERR" "--other"
expect_exit 2 "$fora" link pairs --forum beer_before --other beer_before
contains "$ERR" "another forum"
expect_exit 4 "$fora" link pairs --forum beer_before --other nosuch
contains "$ERR" 'forum "nosuch" not found'
expect_exit 4 "$fora" link pairs --forum beer_before --other beer_after --member no-such
contains "$ERR" 'member "no-such" not found'
expect_exit 2 "$fora" link pairs --forum beer_before --other beer_after --frame solar
contains "$ERR" "frame"
expect_exit 2 "$fora" link pairs --forum beer_before --other beer_after --min-posts 0
contains "$ERR" "min-posts"
expect_exit 2 "$fora" link pairs --forum beer_before --other beer_after --view context
contains "$ERR" "view"
expect_exit 0 "$fora" link pairs --help
contains "$OUT" "Across forums"
echo ok
