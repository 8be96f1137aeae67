# Member and thread longevity on the bundled sample (Beer, Wine & Spirits
# Stack Exchange), three ways:
#  1. `fora longevity` writes the observations (time, event, group) computed
#     from the loaded snapshot; for one configuration the same observations
#     are recomputed independently in SQL from the database and compared;
#  2. `fora survival --csv` computes Kaplan-Meier curves, medians, horizons
#     and the log-rank test on them;
#  3. R's survival package (survfit, summary.survfit, survdiff) does the same
#     on the same file, and every number is compared to 1e-9 relative.
# This mirrors tests/integration/test_survival_r.sh (which checks the
# estimator on textbook and synthetic data); here the input is the snapshot.
source "$(dirname "$0")/lib.sh"
fora=$FORA_BIN
command -v Rscript >/dev/null || fail "Rscript not found (scripts/install-deps.sh)"
Rscript -e 'suppressPackageStartupMessages(library(survival))' >/dev/null 2>&1 ||
    fail "R package survival missing (scripts/install-deps.sh)"

fresh_db fora_it_longevity
expect_exit 0 "$fora" migrate --quiet
expect_exit 0 "$fora" import --quiet --forum beer "$FORA_SOURCE_DIR/server/sample/beer"

# ---- R: reference tables -----------------------------------------------------
cat >"$TMP/ref.R" <<'EOF2'
suppressPackageStartupMessages(library(survival))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], colClasses = c(group = "character"))
out <- args[2]
hz <- as.numeric(strsplit(args[3], ",")[[1]])
grouped <- "group" %in% names(d)
num <- function(x) ifelse(is.na(x), "NA", sprintf("%.17g", x))
fits <- list(all = survfit(Surv(time, event) ~ 1, data = d))
if (grouped) fits$groups <- survfit(Surv(time, event) ~ group, data = d)
lab <- function(key, x) {
  if (key == "all") return(rep("all", length(x$time)))
  if (is.null(x$strata)) return(rep(d$group[1], length(x$time)))
  sub("^group=", "", as.character(x$strata))
}
rows <- NULL; med <- NULL; hor <- NULL
for (key in names(fits)) {
  f <- fits[[key]]
  s <- summary(f, censored = TRUE)
  rows <- rbind(rows, data.frame(curve = lab(key, s), time = num(s$time), n_risk = s$n.risk,
    n_event = s$n.event, surv = num(s$surv), std_err = num(s$std.err),
    lower = num(s$lower), upper = num(s$upper)))
  tb <- summary(f)$table
  if (!is.matrix(tb)) tb <- matrix(tb, nrow = 1, dimnames = list(NULL, names(tb)))
  cl <- colnames(tb)
  labels <- if (key == "all") "all" else if (is.null(f$strata)) d$group[1] else sub("^group=", "", rownames(tb))
  med <- rbind(med, data.frame(curve = labels, median = num(tb[, "median"]),
    lower = num(tb[, grep("LCL$", cl)]), upper = num(tb[, grep("UCL$", cl)])))
  h <- summary(f, times = hz, extend = TRUE)
  hor <- rbind(hor, data.frame(curve = lab(key, h), time = num(h$time), n_risk = h$n.risk,
    surv = num(h$surv), lower = num(h$lower), upper = num(h$upper)))
}
write.csv(rows, file.path(out, "rows.csv"), row.names = FALSE)
write.csv(med, file.path(out, "medians.csv"), row.names = FALSE)
write.csv(hor, file.path(out, "horizons.csv"), row.names = FALSE)
if (grouped && length(unique(d$group)) >= 2) {
  sd <- survdiff(Surv(time, event) ~ group, data = d)
  write.csv(data.frame(chisq = num(sd$chisq), df = sum(sd$exp > 0) - 1, p = num(sd$pvalue)),
            file.path(out, "logrank.csv"), row.names = FALSE)
  write.csv(data.frame(group = sub("^group=", "", names(sd$n)), observed = num(sd$obs),
            expected = num(sd$exp)), file.path(out, "logrank_groups.csv"), row.names = FALSE)
}
EOF2

cat >"$TMP/compare.py" <<'EOF2'
import csv, json, os, sys
d = json.load(open(sys.argv[1])); rdir = sys.argv[2]; name = sys.argv[3]
fails, worst, count = [], [0.0], [0]
def rnum(s):
    return None if s in ("NA", "NaN", "") else float(s)
def cmp(got, want, what):
    count[0] += 1
    if got is None or want is None:
        if got is not None or want is not None:
            fails.append(f"{what}: fora {got} vs R {want}")
        return
    scale = max(abs(got), abs(want)); diff = abs(got - want)
    if diff > 1e-15 and scale > 0: worst[0] = max(worst[0], diff / scale)
    if not (diff <= 1e-9 * scale or diff <= 1e-15):
        fails.append(f"{what}: fora {got!r} vs R {want!r}")
def rcsv(f):
    p = os.path.join(rdir, f)
    return list(csv.DictReader(open(p))) if os.path.exists(p) else None
curves = {"all": d["all"]}
for g in d["groups"]: curves[g["label"]] = g
want_rows = {}
for r in rcsv("rows.csv"): want_rows.setdefault(r["curve"], []).append(r)
if set(want_rows) != set(curves): fails.append(f"curves: fora {sorted(curves)} vs R {sorted(want_rows)}")
for label, want in want_rows.items():
    got = curves.get(label, {"curve": []})["curve"]
    if len(got) != len(want):
        fails.append(f"{label}: {len(got)} rows vs R {len(want)}"); continue
    for i, (g, w) in enumerate(zip(got, want)):
        for f in ("n_risk", "n_event"):
            if g[f] != int(w[f]): fails.append(f"{label} row {i} {f}: {g[f]} vs {w[f]}")
        for f in ("time", "surv", "std_err", "lower", "upper"):
            cmp(g[f], rnum(w[f]), f"{label} row {i} {f}")
for w in rcsv("medians.csv"):
    m = curves[w["curve"]]["median"]
    for f, rf in (("time", "median"), ("lower", "lower"), ("upper", "upper")):
        cmp(m[f], rnum(w[rf]), f"{w['curve']} median {f}")
for w in rcsv("horizons.csv"):
    pts = [p for p in curves[w["curve"]]["horizons"] if p["time"] == rnum(w["time"])]
    if len(pts) != 1: fails.append(f"{w['curve']}: horizon {w['time']} missing"); continue
    if pts[0]["n_risk"] != int(w["n_risk"]): fails.append(f"{w['curve']} horizon n_risk")
    for f in ("surv", "lower", "upper"):
        cmp(pts[0][f], rnum(w[f]), f"{w['curve']} horizon {w['time']} {f}")
lr = rcsv("logrank.csv")
if lr is not None:
    st = lr[0]
    cmp(d["logrank"]["chisq"], rnum(st["chisq"]), "log-rank chisq")
    cmp(d["logrank"]["p"], rnum(st["p"]), "log-rank p")
    if d["logrank"]["df"] != int(st["df"]): fails.append("log-rank df")
    at = {g: i for i, g in enumerate(d["logrank"]["groups"])}
    for w in rcsv("logrank_groups.csv"):
        cmp(d["logrank"]["observed"][at[w["group"]]], rnum(w["observed"]), f"observed {w['group']}")
        cmp(d["logrank"]["expected"][at[w["group"]]], rnum(w["expected"]), f"expected {w['group']}")
elif d["logrank"] is not None and len(d["groups"]) >= 2:
    fails.append("R ran no log-rank test")
print(f"{name}: {count[0]} numbers compared with R, max relative deviation {worst[0]:.3g}")
if fails:
    print(f"FAIL {name}:", *fails[:30], sep="\n  ", file=sys.stderr); sys.exit(1)
EOF2

# check NAME HORIZONS FORA-LONGEVITY-ARGS...: observations, fora survival, R, comparison
check() {
    local name=$1 hz=$2; shift 2
    local csv="$TMP/$name.csv" dir="$TMP/r-$name"
    mkdir -p "$dir"
    expect_exit 0 "$fora" longevity --forum beer --out "$csv" "$@"
    [ "$(wc -l <"$csv")" -gt 100 ] || fail "$name: only $(wc -l <"$csv") lines"
    expect_exit 0 "$fora" survival --csv "$csv" --horizons "$hz"
    cp "$TMP/out" "$dir.json"
    ! grep -qiE 'nan|infinity' "$dir.json" || fail "$name: NaN in the JSON"
    Rscript "$TMP/ref.R" "$csv" "$dir" "$hz" 2>"$dir.rerr" || fail "$name: R failed: $(cat "$dir.rerr")"
    python3 "$TMP/compare.py" "$dir.json" "$dir" "$name" || fail "$name differs from R"
}

check status_silence "2,5,60,70,365" --group-by status --event silence --silence-days 180
# the API computes the same from its own snapshot: compare it with the same R tables
expect_exit 0 "$fora" show \
    "/v1/forums/beer/survival/members?group_by=status&event=silence&silence_days=180&horizons=2,5,60,70,365"
cp "$TMP/out" "$TMP/api_status.json"
! grep -qiE 'nan|infinity' "$TMP/api_status.json" || fail "NaN in the API's survival"
python3 "$TMP/compare.py" "$TMP/api_status.json" "$TMP/r-status_silence" api_status_silence ||
    fail "the API's survival differs from R"
expect_exit 0 "$fora" show "/v1/forums/beer/survival/threads?group_by=category&silence_days=30&horizons=1,7,30"
cp "$TMP/out" "$TMP/api_threads.json"
check cohort_first_post "1,30,365" --origin first_post --group-by cohort --cohort year
check threads_category "1,7,30" --of threads --group-by category --silence-days 30
python3 "$TMP/compare.py" "$TMP/api_threads.json" "$TMP/r-threads_category" api_threads ||
    fail "the API's thread survival differs from R"
check all_default "2,5,60,70"

# ---- the observations of status_silence, recomputed in SQL -------------------
# origin = registration; last activity = latest post or event (or registration);
# end = latest post, event, registration or ban; silent when end - last >= 180 days.
# Compared in whole seconds (fora's days times 86400).
# obs_sql MEMBERS TIME: the observations "time,event,group" (silence of 180 days from
# registration) in SQL, for the members MEMBERS selects as (id, grp, reg); TIME turns the
# seconds into the output's unit
obs_sql() {
    sql "
WITH f AS (SELECT id FROM forums WHERE name = 'beer'),
mem AS ($1),
lp AS (SELECT author_id AS m, max(floor(extract(epoch FROM created_at))) AS t FROM posts
       WHERE forum_id = (SELECT id FROM f) AND author_id IS NOT NULL GROUP BY 1),
le AS (SELECT member_id AS m, max(floor(extract(epoch FROM occurred_at))) AS t FROM member_events
       WHERE forum_id = (SELECT id FROM f) GROUP BY 1),
e AS (SELECT greatest(
        (SELECT max(floor(extract(epoch FROM created_at))) FROM posts WHERE forum_id = (SELECT id FROM f)),
        (SELECT max(floor(extract(epoch FROM occurred_at))) FROM member_events WHERE forum_id = (SELECT id FROM f)),
        (SELECT max(floor(extract(epoch FROM registered_at))) FROM members WHERE forum_id = (SELECT id FROM f)),
        (SELECT max(floor(extract(epoch FROM banned_at))) FROM members WHERE forum_id = (SELECT id FROM f))) AS t),
o AS (SELECT mem.grp, mem.reg, greatest(mem.reg, lp.t, le.t) AS act, e.t AS end_t
      FROM mem LEFT JOIN lp ON lp.m = mem.id LEFT JOIN le ON le.m = mem.id CROSS JOIN e)
SELECT (((CASE WHEN end_t - act >= 180 * 86400 THEN act ELSE end_t END) - reg)$2)
       || ',' || (CASE WHEN end_t - act >= 180 * 86400 THEN 1 ELSE 0 END) || ',' || grp
FROM o"
}
obs_sql "SELECT id, status AS grp, floor(extract(epoch FROM registered_at)) AS reg
         FROM members WHERE forum_id = (SELECT id FROM f) AND registered_at IS NOT NULL" \
    "::bigint" | sort >"$TMP/sql_obs.txt"
tail -n +2 "$TMP/status_silence.csv" |
    awk -F, '{ printf "%.0f,%s,%s\n", $1 * 86400, $2, $3 }' | sort >"$TMP/fora_obs.txt"
[ "$(wc -l <"$TMP/sql_obs.txt")" -gt 1000 ] || fail "SQL gave $(wc -l <"$TMP/sql_obs.txt") rows"
diff "$TMP/sql_obs.txt" "$TMP/fora_obs.txt" >"$TMP/obs.diff" ||
    fail "observations differ from SQL: $(head -5 "$TMP/obs.diff")"
events=$(awk -F, '$2 == 1' "$TMP/fora_obs.txt" | wc -l)
echo "status_silence: $(wc -l <"$TMP/fora_obs.txt") observations ($events events) equal SQL's"
[ "$events" -gt 100 ] || fail "too few events ($events) for a meaningful comparison"

# ---- trajectory groups (issue 4's run) as survival groups ---------------------
# The same observations as status_silence, grouped by the trajectory group that
# the run assigned (members who never posted have none and are left out), built
# in SQL from run_trajectory_members and given to R; the API's
# group_by=trajectory must equal R's tables.
expect_exit 0 "$fora" recompute --quiet --forum beer --seed 1 --only trajectories
trun=$(sql "SELECT max(id) FROM analysis_runs WHERE status = 'completed' AND 'trajectories' = ANY(analyses)")
mkdir -p "$TMP/r-trajectory"
{
    echo "time,event,group"
    obs_sql "SELECT m.id, t.grp, floor(extract(epoch FROM m.registered_at)) AS reg
             FROM members m JOIN run_trajectory_members t ON t.member_id = m.id AND t.run_id = $trun
             WHERE m.forum_id = (SELECT id FROM f) AND m.registered_at IS NOT NULL" "::float8 / 86400"
} >"$TMP/trajectory.csv"
ngrp=$(sql "SELECT count(*) FROM run_trajectory_groups WHERE run_id = $trun")
[ "$ngrp" -ge 2 ] || fail "the sample's trajectory model has $ngrp groups; the test needs two or more"
Rscript "$TMP/ref.R" "$TMP/trajectory.csv" "$TMP/r-trajectory" "2,5,60,70,365" 2>"$TMP/rerr" ||
    fail "R failed on the trajectory groups: $(cat "$TMP/rerr")"
expect_exit 0 "$fora" show \
    "/v1/forums/beer/survival/members?group_by=trajectory&event=silence&silence_days=180&horizons=2,5,60,70,365&at=2015-01-01T00:00:00Z"
cp "$TMP/out" "$TMP/api_traj.json"
! grep -qiE 'nan|infinity' "$TMP/api_traj.json" || fail "NaN in the trajectory survival"
python3 "$TMP/compare.py" "$TMP/api_traj.json" "$TMP/r-trajectory" api_trajectory ||
    fail "survival by trajectory group differs from R"
# each group carries its number as label and the run's rule label as name
sql "SELECT grp || ' ' || label FROM run_trajectory_groups WHERE run_id = $trun ORDER BY grp" >"$TMP/names_sql.txt"
python3 -c "
import json; d = json.load(open('$TMP/api_traj.json'))
assert d['params']['trajectory_run'] == $trun, d['params']
for g in d['groups']: print(g['label'], g['name'])
assert [g['label'] for g in d['still_active']['groups']] == [g['label'] for g in d['groups']]
assert all('name' in g for g in d['still_active']['groups'])
" >"$TMP/names_api.txt" || fail "trajectory group names or run missing"
grep -Fxf "$TMP/names_api.txt" "$TMP/names_sql.txt" >/dev/null || fail "group names differ from the run's"
[ "$(comm -23 <(sort "$TMP/names_api.txt") <(sort "$TMP/names_sql.txt") | wc -l)" -eq 0 ] ||
    fail "API group names not in the run: $(cat "$TMP/names_api.txt")"
# ?run= picks the trajectory run; it needs the trajectory grouping; unknown runs are 404
expect_exit 0 "$fora" show "/v1/forums/beer/survival/members?group_by=trajectory&event=silence&silence_days=180&horizons=2,5,60,70,365&at=2015-01-01T00:00:00Z&run=$trun"
cmp -s "$TMP/out" "$TMP/api_traj.json" || fail "?run=$trun answered differently from the latest run"
expect_exit 2 "$fora" show "/v1/forums/beer/survival/members?run=$trun"
contains "$OUT$ERR" '"run"'
expect_exit 4 "$fora" show "/v1/forums/beer/survival/members?group_by=trajectory&run=999999"
contains "$OUT$ERR" 'no run 999999'
expect_exit 2 "$fora" show "/v1/forums/beer/survival/threads?cohort=year"
contains "$OUT$ERR" 'parameter \"cohort\" does not apply to threads'
expect_exit 2 "$fora" show "/v1/forums/beer/survival/members?cohort=year"
contains "$OUT$ERR" 'needs group_by=cohort'

# ---- bad options name the parameter -------------------------------------------
expect_exit 2 "$fora" longevity --forum beer --out "$TMP/x.csv" --event suspension
contains "$ERR" 'parameter "event"'
expect_exit 2 "$fora" longevity --forum beer --out "$TMP/x.csv" --group-by board
contains "$ERR" 'parameter "group-by"'
expect_exit 2 "$fora" longevity --forum beer --out "$TMP/x.csv" --silence-days 0
expect_exit 2 "$fora" longevity --forum beer --out "$TMP/x.csv" --of threads --group-by status
expect_exit 2 "$fora" longevity --forum beer --out "$TMP/x.csv" --group-by cohort --zone Mars/Base
contains "$ERR" 'unknown time zone "Mars/Base"'
expect_exit 4 "$fora" longevity --forum nosuchforum --out "$TMP/x.csv"
echo "longevity: all comparisons passed"
