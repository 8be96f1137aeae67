# The rhythm routes on the bundled sample, checked against PostgreSQL's own
# time-zone database and aggregates (an independent implementation):
#  - hour-of-day profiles in America/New_York and Asia/Kathmandu (+5:45) and
#    the day-of-week profile in Australia/Lord_Howe (30-minute DST): per slot
#    the number of periods, mean, median and quartiles equal SQL's avg and
#    percentile_cont (linear interpolation, R's type 7) over the local hours
#    (days) that exist between the first and the last post;
#  - weekly series in Europe/Amsterdam: posts, active members and new threads
#    per ISO week equal date_trunc('week', ... AT TIME ZONE ...);
#  - the weekly series' autocorrelation, bands, trend interval and centred
#    rolling mean equal R's acf(), confint(lm()) and stats::filter();
#  - a synthetic forum's planted circadian profile (fora synth's truth) is recovered
#    in its zone and not in UTC;
#  - engagement shares equal SQL's counts;
#  - bad parameters are 400s naming the parameter; nothing is NaN.
source "$(dirname "$0")/lib.sh"
fora=$FORA_BIN
fresh_db fora_it_rhythms
expect_exit 0 "$fora" migrate --quiet
expect_exit 0 "$fora" import --quiet --forum beer "$FORA_SOURCE_DIR/server/sample/beer"
fid=$(sql "SELECT id FROM forums WHERE name = 'beer'")

# slot_sql ZONE UNIT: per slot "slot n mean median q1 q3" from PostgreSQL, where the
# periods are the local hours (UNIT=hour) or days (UNIT=day) seen by sampling UTC
# every 15 minutes between the first and the last post.
slot_sql() {
    local zone=$1 unit=$2 slot
    if [ "$unit" = hour ]; then slot="extract(hour FROM lb)::int"; else slot="(extract(isodow FROM lb)::int - 1)"; fi
    sql "
WITH w AS (SELECT min(created_at) AS a, max(created_at) AS b FROM posts WHERE forum_id = $fid),
periods AS (
  SELECT DISTINCT date_trunc('$unit', g AT TIME ZONE '$zone') AS lb
  FROM w, generate_series(w.a - interval '2 days', w.b + interval '2 days', interval '15 minutes') g),
kept AS (
  SELECT lb FROM periods, w
  WHERE lb BETWEEN date_trunc('$unit', w.a AT TIME ZONE '$zone') AND date_trunc('$unit', w.b AT TIME ZONE '$zone')),
counts AS (
  SELECT date_trunc('$unit', created_at AT TIME ZONE '$zone') AS lb, count(*) AS c
  FROM posts WHERE forum_id = $fid GROUP BY 1),
v AS (SELECT kept.lb, coalesce(counts.c, 0)::float8 AS c FROM kept LEFT JOIN counts USING (lb))
SELECT $slot AS slot, count(*), avg(c), percentile_cont(0.5) WITHIN GROUP (ORDER BY c),
       percentile_cont(0.25) WITHIN GROUP (ORDER BY c), percentile_cont(0.75) WITHIN GROUP (ORDER BY c)
FROM v GROUP BY 1 ORDER BY 1" | tr '|' ' '
}

# compare_profile ZONE KIND UNIT
compare_profile() {
    local zone=$1 kind=$2 unit=$3
    expect_exit 0 "$fora" show "/v1/forums/beer/activity/profile?zone=$zone&kind=$kind"
    ! grep -qiE 'nan|infinity' "$TMP/out" || fail "NaN in $kind $zone"
    slot_sql "$zone" "$unit" >"$TMP/sql_$kind.txt"
    python3 - "$TMP/out" "$TMP/sql_$kind.txt" "$zone $kind" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); rows = [l.split() for l in open(sys.argv[2]) if l.strip()]
name = sys.argv[3]; fails = []
if len(rows) != len(d["slots"]): fails.append(f"{len(rows)} SQL slots vs {len(d['slots'])}")
total = 0
for r in rows:
    s = d["slots"][int(r[0])]; total += s["n"]
    if s["n"] != int(r[1]): fails.append(f"slot {r[0]}: n {s['n']} vs SQL {r[1]}")
    for k, v in zip(("mean", "median", "q1", "q3"), map(float, r[2:6])):
        if abs(s[k] - v) > 1e-9 * max(1, abs(v)): fails.append(f"slot {r[0]} {k}: {s[k]} vs SQL {v}")
if d["periods"] != total: fails.append(f"periods {d['periods']} vs {total}")
print(f"{name}: {len(rows)} slots over {total} periods equal PostgreSQL's")
if fails: print("FAIL", name, *fails[:20], sep="\n  ", file=sys.stderr); sys.exit(1)
PY
}
compare_profile America/New_York hour_of_day hour
compare_profile Asia/Kathmandu hour_of_day hour
compare_profile Australia/Lord_Howe day_of_week day
# the profile moves with the zone: New York's busiest hour is not UTC's
expect_exit 0 "$fora" show "/v1/forums/beer/activity/profile?zone=UTC&kind=hour_of_day"
utc_peak=$(json "max(range(24), key=lambda h: d['slots'][h]['mean'])")
expect_exit 0 "$fora" show "/v1/forums/beer/activity/profile?zone=America/New_York&kind=hour_of_day"
ny_peak=$(json "max(range(24), key=lambda h: d['slots'][h]['mean'])")
[ "$utc_peak" != "$ny_peak" ] || fail "the same peak hour $utc_peak in UTC and New York"

# weekly series in Amsterdam
expect_exit 0 "$fora" show "/v1/forums/beer/activity/series?zone=Europe/Amsterdam&bin=week&window=5&max_lag=60"
cp "$TMP/out" "$TMP/series.json"
! grep -qiE 'nan|infinity' "$TMP/series.json" || fail "NaN in the series"
sql "
SELECT to_char(w, 'YYYY-MM-DD\"T\"HH24:MI:SS'), sum(p), sum(a), sum(t) FROM (
  SELECT date_trunc('week', created_at AT TIME ZONE 'Europe/Amsterdam') AS w, count(*) AS p,
         count(DISTINCT author_id) AS a, 0 AS t
  FROM posts WHERE forum_id = $fid GROUP BY 1
  UNION ALL
  SELECT date_trunc('week', created_at AT TIME ZONE 'Europe/Amsterdam'), 0, 0, count(*)
  FROM threads WHERE forum_id = $fid GROUP BY 1) x
GROUP BY 1 ORDER BY 1" | tr '|' ' ' >"$TMP/sql_weeks.txt"
python3 - "$TMP/series.json" "$TMP/sql_weeks.txt" <<'PY'
import json, sys, datetime
d = json.load(open(sys.argv[1])); fails = []
want = {r[0]: tuple(map(int, r[1:])) for r in (l.split() for l in open(sys.argv[2]) if l.strip())}
got = {b["local_start"]: (b["posts"], b["active_members"], b["new_threads"]) for b in d["bins"]}
for k, v in want.items():
    if got.get(k) != v: fails.append(f"week {k}: fora {got.get(k)} vs SQL {v}")
for k, v in got.items():
    if k not in want and v != (0, 0, 0): fails.append(f"week {k}: fora {v}, SQL has none")
starts = [datetime.datetime.fromisoformat(b["local_start"]) for b in d["bins"]]
if any(s.weekday() != 0 or s.hour != 0 for s in starts): fails.append("a week not starting Monday 00:00")
if any((b - a).days != 7 for a, b in zip(starts, starts[1:])): fails.append("weeks missing")
st = d["stats"]
if len(st["rolling_mean"]["values"]) != len(d["bins"]): fails.append("rolling mean length")
if st["rolling_mean"]["values"][0] is not None or st["rolling_mean"]["values"][2] is None:
    fails.append("centred 5-week mean: first undefined, third defined")
if st["acf"]["r"][0] != 1.0 or len(st["acf"]["r"]) != 61: fails.append("acf")
if not (st["trend"]["slope_lower"] <= st["trend"]["slope_per_bin"] <= st["trend"]["slope_upper"]):
    fails.append("trend interval")
print(f"weekly series: {len(d['bins'])} ISO weeks, {len(want)} with activity, equal PostgreSQL's")
if fails: print("FAIL", *fails[:20], sep="\n  ", file=sys.stderr); sys.exit(1)
PY

# the series' statistics against R: acf(), confint(lm()), a centred moving average
# (stats::filter with sides = 2) and the white-noise and Bartlett bands
python3 -c "
import json; d = json.load(open('$TMP/series.json'))
print('\n'.join(str(b['posts']) for b in d['bins']))" >"$TMP/weekly_posts.txt"
cat >"$TMP/stats.R" <<'EOF2'
x <- scan(commandArgs(trailingOnly = TRUE)[1], quiet = TRUE)
n <- length(x); t <- seq_len(n) - 1
a <- acf(x, lag.max = 60, plot = FALSE)$acf[, 1, 1]
ci <- confint(lm(x ~ t), level = 0.95)
rm <- stats::filter(x, rep(1 / 5, 5), sides = 2)
z95 <- qnorm(0.975)
bart <- z95 * sqrt((1 + 2 * c(0, cumsum(a[2:60]^2))) / n)
f <- function(v) sprintf("%.17g", v)
cat("acf", f(a), "\n")
cat("trend", f(coef(lm(x ~ t))[2]), f(ci[2, 1]), f(ci[2, 2]), "\n")
cat("rolling", ifelse(is.na(rm), "NA", f(rm)), "\n")
cat("white95", f(z95 / sqrt(n)), "\n")
cat("bartlett95", f(bart), "\n")
EOF2
Rscript "$TMP/stats.R" "$TMP/weekly_posts.txt" >"$TMP/stats_r.txt" || fail "R failed on the series"
python3 - "$TMP/series.json" "$TMP/stats_r.txt" <<'PY'
import json, sys
st = json.load(open(sys.argv[1]))["stats"]
r = {l.split()[0]: l.split()[1:] for l in open(sys.argv[2]) if l.strip()}
fails = []; count = 0
def close(a, b, what):
    global count; count += 1
    if a is None or b is None:
        if a is not None or b is not None: fails.append(f"{what}: fora {a} vs R {b}")
    elif abs(a - b) > 1e-9 * max(1.0, abs(b)): fails.append(f"{what}: fora {a} vs R {b}")
num = lambda s: None if s == "NA" else float(s)
for k, (a, b) in enumerate(zip(st["acf"]["r"], r["acf"])): close(a, num(b), f"acf lag {k}")
if len(st["acf"]["r"]) != len(r["acf"]): fails.append("acf lengths")
tr = st["trend"]
for key, v in zip(("slope_per_bin", "slope_lower", "slope_upper"), r["trend"]): close(tr[key], num(v), key)
for i, (a, b) in enumerate(zip(st["rolling_mean"]["values"], r["rolling"])): close(a, num(b), f"rolling {i}")
close(st["acf"]["white_noise_95"], num(r["white95"][0]), "white noise band")
for k, (a, b) in enumerate(zip(st["acf"]["bartlett_95"][1:], r["bartlett95"]), 1):
    close(a, num(b), f"bartlett lag {k}")
if fails: print("FAIL", *fails[:20], sep="\n  ", file=sys.stderr); sys.exit(1)
print(f"series statistics: {count} numbers equal R's acf, lm, filter")
PY

# the long-term trend of a subgroup's share (status rep_1 among active members, per month):
# shares from the series' own counts, slope by closed-form least squares over defined months
expect_exit 0 "$fora" show \
    "/v1/forums/beer/activity/series?bin=month&split=status&group=rep_1&value=share&measure=active_members&window=3"
python3 - "$TMP/out" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); st = d["stats"]
g = [x for x in d["groups"] if x["label"] == "rep_1"][0]["active_members"]
tot = [b["active_members"] for b in d["bins"]]
want = [g[i] / tot[i] if tot[i] else None for i in range(len(tot))]
assert all((a is None and b is None) or abs(a - b) < 1e-15 for a, b in zip(st["values"], want)), "shares"
pts = [(i, y) for i, y in enumerate(want) if y is not None]
n = len(pts); mx = sum(i for i, _ in pts) / n; my = sum(y for _, y in pts) / n
slope = sum((i - mx) * (y - my) for i, y in pts) / sum((i - mx) ** 2 for i, _ in pts)
assert st["trend"]["n"] == n and abs(st["trend"]["slope_per_bin"] - slope) < 1e-12 * max(1, abs(slope)), st["trend"]
assert st["value"] == "share" and st["trend"]["slope_lower"] < slope < st["trend"]["slope_upper"]
print(f"share trend: {n} months, slope {slope:.6g} per month")
PY

# heat map: 7 x 24 cells whose periods add up to the hourly bins
expect_exit 0 "$fora" show "/v1/forums/beer/activity/heatmap?zone=Europe/Amsterdam&measure=posts"
posts=$(sql "SELECT count(*) FROM posts WHERE forum_id = $fid")
[ "$(json "len(d['days']), len(d['days'][0]['hours'])")" = "7 24" ] || fail "heat map shape"
[ "$(json "round(sum(c['mean'] * c['n'] for r in d['days'] for c in r['hours']))")" = "$posts" ] ||
    fail "heat map does not add up to $posts posts"
# a share by status and its amplitude
expect_exit 0 "$fora" show "/v1/forums/beer/activity/profile?split=status&group=rep_1&kind=hour_of_day"
[ "$(json "len(d['share']['posts']), d['share']['posts_amplitude'] >= 1")" = "24 True" ] ||
    fail "share: $(json "d['share']")"

# trajectory groups (issue 4's run) as a split: posts and active members per UTC month
# and trajectory group equal SQL's join of posts with run_trajectory_members; the share of
# group 1 per local hour equals SQL's too
# no run with trajectories yet: 404 naming "run"
expect_exit 4 "$fora" show "/v1/forums/beer/activity/series?split=trajectory"
[ "$(json "d['error']['detail']")" = run ] || fail "split=trajectory without a run: $OUT"
expect_exit 0 "$fora" recompute --quiet --forum beer --seed 1 --only trajectories
trun=$(sql "SELECT max(id) FROM analysis_runs WHERE status = 'completed' AND 'trajectories' = ANY(analyses)")
expect_exit 0 "$fora" show "/v1/forums/beer/activity/series?bin=month&zone=UTC&split=trajectory&group=1"
cp "$TMP/out" "$TMP/traj_series.json"
sql "SELECT to_char(date_trunc('month', p.created_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD\"T\"HH24:MI:SS'),
            t.grp, count(*), count(DISTINCT p.author_id)
     FROM posts p JOIN run_trajectory_members t ON t.member_id = p.author_id AND t.run_id = $trun
     WHERE p.forum_id = $fid GROUP BY 1, 2" | tr '|' ' ' >"$TMP/traj_sql.txt"
sql "SELECT grp, label FROM run_trajectory_groups WHERE run_id = $trun" | tr '|' ' ' >"$TMP/traj_names.txt"
python3 - "$TMP/traj_series.json" "$TMP/traj_sql.txt" "$TMP/traj_names.txt" "$trun" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); fails = []
names = dict(l.split(None, 1) for l in open(sys.argv[3]) if l.strip())
want = {}
for l in open(sys.argv[2]):
    if l.strip():
        b, g, p, a = l.split(); want[(b, g)] = (int(p), int(a))
at = {b["local_start"]: i for i, b in enumerate(d["bins"])}
groups = {g["label"]: g for g in d["groups"]}
if d["split"] != "trajectory" or d["trajectory_run"] != int(sys.argv[4]): fails.append("split/run")
if set(groups) != set(names): fails.append(f"groups {sorted(groups)} vs run's {sorted(names)}")
for k, g in groups.items():
    if g["name"] != names[k].strip(): fails.append(f"group {k} name {g['name']} vs {names[k]}")
n = 0
for (b, g), (p, a) in want.items():
    i = at[b]; n += 1
    if groups[g]["posts"][i] != p or groups[g]["active_members"][i] != a:
        fails.append(f"{b} group {g}: {groups[g]['posts'][i]}/{groups[g]['active_members'][i]} vs SQL {p}/{a}")
tot = sum(sum(g["posts"]) for g in groups.values())
if tot != sum(p for p, _ in want.values()): fails.append("total posts of the groups")
if fails: print("FAIL", *fails[:20], sep="\n  ", file=sys.stderr); sys.exit(1)
print(f"trajectory split: {n} (month, group) cells equal SQL's; {len(groups)} groups")
PY
expect_exit 0 "$fora" show "/v1/forums/beer/activity/profile?kind=hour_of_day&zone=UTC&split=trajectory&group=1"
cp "$TMP/out" "$TMP/traj_profile.json"
sql "SELECT extract(hour FROM p.created_at AT TIME ZONE 'UTC')::int,
            count(*) FILTER (WHERE t.grp = 1), count(*)
     FROM posts p LEFT JOIN run_trajectory_members t ON t.member_id = p.author_id AND t.run_id = $trun
     WHERE p.forum_id = $fid GROUP BY 1" | tr '|' ' ' >"$TMP/traj_hours.txt"
python3 - "$TMP/traj_profile.json" "$TMP/traj_hours.txt" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); sh = d["share"]["posts"]
rows = [list(map(int, l.split())) for l in open(sys.argv[2]) if l.strip()]
for h, g, a in rows:
    assert abs(sh[h] - g / a) < 1e-12, (h, sh[h], g / a)
assert d["group_name"] and d["trajectory_run"] > 0
print(f"trajectory share by hour: {len(rows)} hours equal SQL's")
PY
# engagement
expect_exit 0 "$fora" show "/v1/forums/beer/engagement?limit=5"
want=$(sql "SELECT round((SELECT count(DISTINCT author_id) FROM posts WHERE forum_id = $fid)::numeric
            / (SELECT count(*) FROM members WHERE forum_id = $fid), 12)")
[ "$(json "'%.12f' % d['share_posters']")" = "$want" ] || fail "share_posters: $(json "d['share_posters']") vs $want"
[ "$(json "d['downloads'], d['share_downloaders'], len(d['involvement']) <= 5")" = "0 0.0 True" ] ||
    fail "engagement: $OUT"

# bad parameters: 400 naming the parameter
bad() { # bad QUERY PARAM
    expect_exit 2 "$fora" show "/v1/forums/beer/$1"
    [ "$(json "d['error']['detail']")" = "$2" ] || fail "$1: $OUT"
}
bad 'activity/series?bin=fortnight' bin
bad 'activity/series?zone=Mars/Olympus_Mons' zone
bad 'activity/series?zone=../../etc/passwd' zone
bad 'activity/series?split=board' split
bad 'activity/series?window=4' window
bad 'activity/series?group=x' group
bad 'activity/series?split=status&group=nosuch' group
bad 'activity/series?value=share' value
bad 'activity/series?value=ratio' value
bad 'activity/series?from=2020-01-01&to=2019-01-01' from
bad 'activity/profile?kind=week' kind
bad 'activity/profile?from=0001-01-01' from
bad 'survival/members?at=3000-01-01' at
bad 'activity/profile?drop=100' drop
bad 'activity/heatmap?kind=hour_of_day' kind
bad 'survival/members?horizons=1,-5' horizons
bad 'survival/members?horizons=1,' horizons
bad 'survival/members?group_by=board' group_by
bad 'survival/members?silence_days=0' silence_days
bad 'survival/members?event=suspension' event
bad 'survival/threads?group_by=status' group_by
bad 'survival/threads?origin=first_post' origin
bad 'engagement?download_kind=' download_kind
bad 'engagement?bogus=1' bogus
bad "activity/profile?split=status&run=$trun" run
bad 'activity/heatmap?split=trajectory&group=99' group
bad 'activity/series?split=trajectory&run=abc' run
# a window without data: well-formed and empty
expect_exit 0 "$fora" show "/v1/forums/beer/activity/series?from=2030-01-01&to=2030-01-01"
[ "$(json "d['bins'], d['stats']['trend']['slope_per_bin'], d['stats']['acf']['seasonal_lag']")" = "[] None None" ] ||
    fail "empty window: $OUT"
expect_exit 0 "$fora" show "/v1/forums/beer/activity/profile?from=2030-01-01&to=2030-01-01"
[ "$(json "d['periods'], d['slots'][0]['mean']")" = "0 None" ] || fail "empty profile: $OUT"
# a window after the data: its hours exist and hold no posts (31 days x 24 h)
expect_exit 0 "$fora" show "/v1/forums/beer/activity/profile?from=2030-01-01&to=2030-02-01&zone=UTC"
[ "$(json "d['periods'], d['slots'][5]['n'], d['slots'][5]['max']")" = "744 31 0.0" ] ||
    fail "profile after the data: $(json "d['periods']")"
# a synthetic forum with a planted circadian profile in Europe/Amsterdam (truth.json's
# hour_profile_local, the share of posts per local hour): the hour-of-day profile in the
# forum's zone recovers it; read in UTC it is shifted by the zone's one or two hours
expect_exit 0 "$fora" synth --quiet --members 3000 --posts 100000 --months 24 --seed 5 --out "$TMP/synth"
expect_exit 0 "$fora" import --quiet --forum synth "$TMP/synth"
expect_exit 0 "$fora" show "/v1/forums/synth/activity/profile?kind=hour_of_day"
cp "$TMP/out" "$TMP/synth_local.json"
expect_exit 0 "$fora" show "/v1/forums/synth/activity/profile?kind=hour_of_day&zone=UTC"
python3 - "$TMP/synth/truth.json" "$TMP/synth_local.json" "$TMP/out" <<'PY'
import json, sys
truth = json.load(open(sys.argv[1]))["hour_profile_local"]
def shares(path):
    d = json.load(open(path)); c = [s["mean"] * s["n"] for s in d["slots"]]
    return d["zone"], [x / sum(c) for x in c]
zl, local = shares(sys.argv[2]); zu, utc = shares(sys.argv[3])
dl = max(abs(a - b) for a, b in zip(local, truth)); du = max(abs(a - b) for a, b in zip(utc, truth))
print(f"planted profile: max deviation {dl:.4f} in {zl}, {du:.4f} in {zu}")
assert zl == "Europe/Amsterdam" and zu == "UTC", (zl, zu)
assert dl < 0.004, f"local profile off the planted one by {dl}"
assert du > 2 * dl, "the UTC profile is as close to the planted one as the local"
PY
expect_exit 4 "$fora" show "/v1/forums/nosuch/engagement"
echo "rhythms api: all checks passed"
