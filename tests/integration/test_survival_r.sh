# `fora survival` against R's survival package, number by number.
#
# For each data set (the fixtures in tests/data/survival/ and synthetic data
# that R generates with a fixed seed: integer times full of ties, heavy
# censoring, events at time 0, three groups) this runs `fora survival --csv`
# and R side by side - survfit(Surv(time, event) ~ group) with
# summary(fit, censored = TRUE) for the rows, summary(fit)$table for the
# medians, summary(fit, times = ..., extend = TRUE) for the horizons, and
# survdiff() for the log-rank test - and compares every number to 1e-9
# relative.  R is required: without Rscript and the survival package the test
# fails (scripts/install-deps.sh installs r-base-core and r-cran-survival).
# Bad input is checked last: exit 3 with file, line and field named.
source "$(dirname "$0")/lib.sh"
fora=$FORA_BIN
data=$FORA_SOURCE_DIR/tests/data/survival

command -v Rscript >/dev/null ||
    fail "Rscript not found: install r-base-core and r-cran-survival (scripts/install-deps.sh)"
Rscript -e 'suppressPackageStartupMessages(library(survival))' >/dev/null 2>&1 ||
    fail "R package survival missing: install r-cran-survival (scripts/install-deps.sh)"
command -v python3 >/dev/null || fail "python3 not found"

# ---- R's side: reference tables as CSV, numbers with 17 digits ------------
cat >"$TMP/ref.R" <<'EOF'
suppressPackageStartupMessages(library(survival))
args <- commandArgs(trailingOnly = TRUE)
csv <- args[1]; out <- args[2]; conf <- as.numeric(args[3])
hz <- if (length(args) >= 4 && nzchar(args[4])) as.numeric(strsplit(args[4], ",")[[1]]) else numeric(0)
d <- read.csv(csv, colClasses = c(group = "character"), strip.white = FALSE, na.strings = character(0))
grouped <- "group" %in% names(d)
num <- function(x) ifelse(is.na(x) & !is.nan(x), "NA", sprintf("%.17g", x))
wr <- function(df, name) write.csv(df, file.path(out, name), row.names = FALSE, quote = TRUE)
fits <- list(all = survfit(Surv(time, event) ~ 1, data = d, conf.int = conf))
if (grouped) fits$groups <- survfit(Surv(time, event) ~ group, data = d, conf.int = conf)
# the label of each row of a fit or of one of its summaries
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
    n_event = s$n.event, n_censor = s$n.censor, surv = num(s$surv), std_err = num(s$std.err),
    std_err_log = num(f$std.err), lower = num(s$lower), upper = num(s$upper)))
  tb <- summary(f)$table
  if (!is.matrix(tb)) tb <- matrix(tb, nrow = 1, dimnames = list(NULL, names(tb)))
  cl <- colnames(tb)
  labels <- if (key == "all") "all" else if (is.null(f$strata)) d$group[1] else sub("^group=", "", rownames(tb))
  med <- rbind(med, data.frame(curve = labels, median = num(tb[, "median"]),
    lower = num(tb[, grep("LCL$", cl)]), upper = num(tb[, grep("UCL$", cl)])))
  if (length(hz) > 0) {
    h <- summary(f, times = hz, extend = TRUE)
    hor <- rbind(hor, data.frame(curve = lab(key, h), time = num(h$time), n_risk = h$n.risk,
      surv = num(h$surv), std_err = num(h$std.err), lower = num(h$lower), upper = num(h$upper)))
  }
}
wr(rows, "rows.csv"); wr(med, "medians.csv")
if (!is.null(hor)) wr(hor, "horizons.csv")
if (grouped && length(unique(d$group)) >= 2) {
  sd <- survdiff(Surv(time, event) ~ group, data = d)
  g <- sub("^group=", "", names(sd$n))
  wr(data.frame(group = g, n = as.vector(sd$n), observed = num(sd$obs), expected = num(sd$exp)), "logrank.csv")
  v <- sd$var; dimnames(v) <- NULL
  wr(data.frame(group = g, matrix(num(v), nrow = length(g))), "logrank_var.csv")
  wr(data.frame(chisq = num(sd$chisq), df = sum(sd$exp > 0) - 1, p = num(sd$pvalue)), "logrank_stat.csv")
}
EOF

# ---- the comparison --------------------------------------------------------
cat >"$TMP/compare.py" <<'EOF'
import csv, json, math, os, sys

fora_json, rdir, name = sys.argv[1], sys.argv[2], sys.argv[3]
d = json.load(open(fora_json))
REL = 1e-9
worst = {"rel": 0.0, "what": ""}
fails = []
compared = [0]

def rnum(s):
    s = s.strip()
    if s in ("NA", "NaN", "Inf", "-Inf", ""):
        return None
    return float(s)

def cmp(got, want, what):
    compared[0] += 1
    if want is None or got is None:
        if want is not None or got is not None:
            fails.append(f"{what}: fora {got} vs R {want}")
        return
    diff = abs(got - want)
    scale = max(abs(got), abs(want))
    rel = diff / scale if scale > 0 else 0.0
    if diff > 1e-15 and rel > worst["rel"]:
        worst["rel"], worst["what"] = rel, f"{what}: fora {got!r} vs R {want!r}"
    if not (diff <= REL * scale or diff <= 1e-15):
        fails.append(f"{what}: fora {got!r} vs R {want!r} (relative {rel:.3g})")

def rcsv(fname):
    path = os.path.join(rdir, fname)
    return list(csv.DictReader(open(path))) if os.path.exists(path) else None

curves = {"all": d["all"]}
for g in d["groups"]:
    curves[g["label"]] = g

# rows, in order, per curve
rrows = {}
for r in rcsv("rows.csv"):
    rrows.setdefault(r["curve"], []).append(r)
for label, want in rrows.items():
    if label not in curves:
        fails.append(f"curve {label!r} missing in fora's output")
        continue
    got = curves[label]["curve"]
    if len(got) != len(want):
        fails.append(f"{label}: {len(got)} rows, R has {len(want)}")
        continue
    for i, (g, w) in enumerate(zip(got, want)):
        for f in ("n_risk", "n_event", "n_censor"):
            if g[f] != int(w[f]):
                fails.append(f"{label} row {i} {f}: fora {g[f]} vs R {w[f]}")
        for f in ("time", "surv", "std_err", "std_err_log", "lower", "upper"):
            cmp(g[f], rnum(w[f]), f"{label} row {i} {f}")
        cmp(g["cum_event"], 1.0 - rnum(w["surv"]), f"{label} row {i} cum_event")
extra = set(curves) - set(rrows)
if extra:
    fails.append(f"curves only fora has: {sorted(extra)}")

for w in rcsv("medians.csv"):
    m = curves[w["curve"]]["median"]
    for f, rf in (("time", "median"), ("lower", "lower"), ("upper", "upper")):
        cmp(m[f], rnum(w[rf]), f"{w['curve']} median {f}")

hz = rcsv("horizons.csv")
if hz is not None:
    for w in hz:
        pts = [p for p in curves[w["curve"]]["horizons"] if p["time"] == rnum(w["time"])]
        if len(pts) != 1:
            fails.append(f"{w['curve']}: no horizon {w['time']}")
            continue
        p = pts[0]
        if p["n_risk"] != int(w["n_risk"]):
            fails.append(f"{w['curve']} horizon {w['time']} n_risk: fora {p['n_risk']} vs R {w['n_risk']}")
        for f in ("surv", "std_err", "lower", "upper"):
            cmp(p[f], rnum(w[f]), f"{w['curve']} horizon {w['time']} {f}")

lr_groups = rcsv("logrank.csv")
lr = d["logrank"]
if lr_groups is None:
    if len(d["groups"]) >= 2:
        fails.append("R ran no log-rank test but fora has 2+ groups")
    elif lr is not None:
        fails.append("fora has a log-rank test with fewer than 2 groups")
else:
    if lr is None:
        fails.append("fora has no log-rank test")
    else:
        at = {g: i for i, g in enumerate(lr["groups"])}
        if set(at) != {w["group"] for w in lr_groups}:
            fails.append(f"log-rank groups: fora {lr['groups']}")
        else:
            for w in lr_groups:
                i = at[w["group"]]
                if lr["n"][i] != int(w["n"]):
                    fails.append(f"log-rank n of {w['group']}")
                cmp(lr["observed"][i], rnum(w["observed"]), f"log-rank observed {w['group']}")
                cmp(lr["expected"][i], rnum(w["expected"]), f"log-rank expected {w['group']}")
            var = rcsv("logrank_var.csv")
            order = [w["group"] for w in var]
            for w in var:
                i = at[w["group"]]
                cols = [k for k in w if k != "group"]
                for c, k in enumerate(cols):
                    cmp(lr["variance"][i][at[order[c]]], rnum(w[k]),
                        f"log-rank variance {w['group']},{order[c]}")
            st = rcsv("logrank_stat.csv")[0]
            cmp(lr["chisq"], rnum(st["chisq"]), "log-rank chisq")
            if lr["df"] != int(st["df"]):
                fails.append(f"log-rank df: fora {lr['df']} vs R {st['df']}")
            cmp(lr["p"], rnum(st["p"]), "log-rank p")

print(f"{name}: {compared[0]} numbers compared, max relative deviation {worst['rel']:.3g}"
      + (f" ({worst['what']})" if worst["what"] else ""))
with open(os.path.join(os.path.dirname(rdir), "worst.txt"), "a") as f:
    f.write(f"{worst['rel']!r} {name}: {worst['what']}\n")
if fails:
    print(f"FAIL: {name}: {len(fails)} differences from R", file=sys.stderr)
    for x in fails[:40]:
        print("  " + x, file=sys.stderr)
    sys.exit(1)
EOF

# compare NAME CSV CONF HORIZONS: runs fora and R on CSV and compares them.
compare() {
    local name=$1 csv=$2 conf=$3 hz=$4
    local dir="$TMP/r-$name"
    mkdir -p "$dir"
    local args=(survival --csv "$csv" --conf "$conf")
    [ -n "$hz" ] && args+=(--horizons "$hz")
    expect_exit 0 "$fora" "${args[@]}"
    cp "$TMP/out" "$dir.json"
    Rscript "$TMP/ref.R" "$csv" "$dir" "$conf" "$hz" 2>"$dir.rerr" ||
        fail "$name: R failed: $(cat "$dir.rerr")"
    python3 "$TMP/compare.py" "$dir.json" "$dir" "$name" || fail "$name differs from R"
}

# ---- synthetic data, generated by R with fixed seeds ------------------------
cat >"$TMP/gen.R" <<'EOF'
args <- commandArgs(trailingOnly = TRUE)
set.seed(as.integer(args[2]))
n <- as.integer(args[3]); integer_times <- args[4] == "int"
group <- sample(c("alpha", "beta", "gamma"), n, replace = TRUE, prob = c(0.5, 0.3, 0.2))
rate <- c(alpha = 1 / 40, beta = 1 / 30, gamma = 1 / 22)[group]
life <- rexp(n, rate)
cens <- rexp(n, 1 / 20)            # heavy censoring: most lives are cut short
time <- pmin(life, cens)
if (integer_times) time <- floor(time) else time <- round(time, 6)   # ties, and time 0
event <- as.integer(life <= cens)
write.csv(data.frame(time = time, event = event, group = group), args[1],
          row.names = FALSE, quote = FALSE)
EOF
Rscript "$TMP/gen.R" "$TMP/synth_ties.csv" 20240517 3000 int
Rscript "$TMP/gen.R" "$TMP/synth_cont.csv" 7 20000 cont
# the same without the group column, and with a single group
cut -d, -f1,2 "$TMP/synth_ties.csv" >"$TMP/synth_nogroup.csv"
awk -F, 'NR == 1 || $3 == "beta"' "$TMP/synth_ties.csv" >"$TMP/synth_onegroup.csv"

censored_share=$(awk -F, 'NR > 1 { n++; c += ($2 == 0) } END { printf "%d", 100 * c / n }' \
    "$TMP/synth_ties.csv")
[ "$censored_share" -ge 50 ] || fail "synthetic data not heavily censored ($censored_share%)"
[ "$(awk -F, 'NR > 1 && $1 == 0' "$TMP/synth_ties.csv" | wc -l)" -gt 0 ] || fail "no time 0"

rm -f "$TMP/worst.txt"
compare aml "$data/aml.csv" 0.95 "5,30,200"
compare ties "$data/ties.csv" 0.95 "0,2,9,20"
compare censored "$data/censored.csv" 0.95 "1,12,30"
compare timefix "$data/timefix.csv" 0.95 "0.3,1"
compare halfway "$data/halfway.csv" 0.95 "3"
compare synth_ties "$TMP/synth_ties.csv" 0.95 "2,5,60,70"
compare synth_cont "$TMP/synth_cont.csv" 0.9 "2,5,60,70"
compare synth_nogroup "$TMP/synth_nogroup.csv" 0.99 ""
compare synth_onegroup "$TMP/synth_onegroup.csv" 0.95 "10"
echo "max relative deviation from R over all data sets: $(sort -g "$TMP/worst.txt" | tail -1)"

# the published aml result: chi-square 3.4 on 1 df, p = 0.07
OUT=$(cat "$TMP/r-aml.json")
[ "$(json "round(d['logrank']['chisq'], 1), d['logrank']['df'], round(d['logrank']['p'], 2)")" = \
    "3.4 1 0.07" ] || fail "aml log-rank: $(json "d['logrank']")"
[ "$(json "d['groups'][0]['median']")" = "{'time': 31.0, 'lower': 18.0, 'upper': None}" ] ||
    fail "aml Maintained median"

# ---- bad input: exit 3, file:line:field named -------------------------------
bad() { # bad NAME CONTENT EXPECTED-MESSAGE
    printf '%b' "$2" >"$TMP/$1.csv"
    expect_exit 3 "$fora" survival --csv "$TMP/$1.csv"
    contains "$ERR" "$TMP/$1.csv:$3"
    [ -z "$OUT" ] || fail "$1: output despite the error"
}
bad negative 'time,event\n1,1\n-2,0\n' '3: field "time": negative time "-2"'
bad event 'time,event,group\n1,1,a\n2,2,a\n' '3: field "event": "2" must be 0 (censored) or 1'
bad nonnumeric 'time,event\n1,1\n\n1.5x,0\n' '4: field "time": "1.5x" is not a finite number'
bad nan 'time,event\nnan,1\n' '2: field "time": "nan" is not a finite number'
bad missing 'time,group\n1,a\n' '1: required column "event" missing'
bad unknown 'time,event,grp\n1,1,a\n' '1: unknown column "grp"'
bad short 'time,event,group\n1,1,a\n2,0\n' '3: 2 fields where the header has 3'
bad emptylabel 'time,event,group\n1,1,\n' '2: field "group": empty label'
bad empty '' '1: empty file'
expect_exit 4 "$fora" survival --csv "$TMP/nonexistent.csv"
expect_exit 2 "$fora" survival --csv "$data/aml.csv" --conf 1.5
expect_exit 2 "$fora" survival --csv "$data/aml.csv" --horizons 1,-5
expect_exit 2 "$fora" survival

# a header alone: empty curves, no test, valid JSON without NaN
printf 'time,event,group\n' >"$TMP/header.csv"
expect_exit 0 "$fora" survival --csv "$TMP/header.csv" --horizons 1
[ "$(json "d['all']['n'], d['groups'], d['logrank'], d['all']['horizons'][0]['surv']")" = \
    "0 [] None 1.0" ] || fail "header only: $OUT"
for f in "$TMP"/r-*.json; do
    ! grep -qiE 'nan|infinity' "$f" || fail "NaN or Infinity in $f"
done
echo "survival: all comparisons with R passed"
