"""tests/integration/migration_split.py SAMPLE_DIR OUT_DIR - the synthetic
migration of fora_link_migration_split (analysis/linking_cross.c) as two CSV
bundles: OUT_DIR/before (posts before the median post time, the members who
posted then or never) and OUT_DIR/after (the posts from it on; every member
who posted then has a new account "EXT~after"; links.csv names the true
pairs, source "migration-test", for member_links).  Used by
test_link_pairs_cli.sh and test_link_pairs_api.sh."""
import csv, gzip, io, os, sys
from datetime import datetime, timezone
src, out = sys.argv[1], sys.argv[2]
def rows(name):
    with gzip.open(os.path.join(src, name + ".csv.gz"), "rt", newline="") as f:
        r = list(csv.reader(f))
    return r[0], r[1:]
def secs(s):  # floor seconds, as the snapshot keeps them
    return int(datetime.fromisoformat(s).replace(tzinfo=timezone.utc).timestamp() // 1)
def write(d, name, header, body):
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name + ".csv"), "w", newline="") as f:
        w = csv.writer(f); w.writerow(header); w.writerows(body)
bh, boards = rows("boards"); mh, members = rows("members")
th, threads = rows("threads"); ph, posts = rows("posts")
cut = sorted(secs(p[3]) for p in posts)[len(posts) // 2]
before = {p[0] for p in posts if secs(p[3]) < cut}
author_b = {p[2] for p in posts if p[0] in before and p[2]}
author_a = {p[2] for p in posts if p[0] not in before and p[2]}
first = {}
for i, p in sorted(enumerate(posts), key=lambda x: (secs(x[1][3]), x[0])):
    first.setdefault(p[1], p[0])  # within a second the order does not matter: same side
tb = {p[1] for p in posts if p[0] in before}; ta = {p[1] for p in posts if p[0] not in before}
A, B = os.path.join(out, "before"), os.path.join(out, "after")
write(A, "boards", bh, boards); write(B, "boards", bh, boards)
write(A, "members", mh, [m for m in members if m[0] in author_b or m[0] not in author_a])
write(B, "members", mh, [[m[0] + "~after", "", "", m[3], ""] for m in members if m[0] in author_a])
write(A, "threads", th, [[t[0], t[1], t[2] if (t[2] in author_b or t[2] not in author_a) else "", t[3]]
                         for t in threads if t[0] in tb])
write(B, "threads", th, [[t[0], t[1], t[2] + "~after" if t[2] in author_a and first[t[0]] not in before else "", t[3]]
                         for t in threads if t[0] in ta])
write(A, "posts", ph, [[p[0], p[1], p[2], p[3], p[4] if p[4] in before else ""] for p in posts if p[0] in before])
write(B, "posts", ph, [[p[0], p[1], p[2] + "~after" if p[2] else "", p[3], p[4] if p[4] and p[4] not in before else ""]
                       for p in posts if p[0] not in before])
write(B, "links", ["member_id", "other_forum", "other_member_id", "source"],
      [[m + "~after", "beer_before", m, "migration-test"] for m in sorted(author_a & author_b)])
print(len(author_a & author_b), "migrants")
