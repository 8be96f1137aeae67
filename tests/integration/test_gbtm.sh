# `fora trajectories fit` on crimCV's TO1adj (378 people x 31 years) against
# reference fits:
#  - Poisson GBTM, quadratic and cubic, K = 1..6, against the best of 10
#    random starts of R's flexmix (tests/data/gbtm/flexmix_TO1adj.tsv, made by
#    tests/gbtm/flexmix_reference.R; the command is in tests/data/gbtm/README.md):
#    fora's log-likelihood must equal or beat flexmix's to within 1e-3, and where
#    both reach the same optimum (|difference| <= 1e-3) the group shares must
#    agree to 1e-3;
#  - ZIP(tau) cubic, K = 2..6, against crimCV 1.0.0's log-likelihoods quoted in
#    issue 4 (crimCV(TO1adj, K, dpolyp = 3, dpolyl = 3, model = "ZIPt")): equal or
#    better to within 1e-2;
# then the JSON's shape (no NaN anywhere) and bad input: exit 3 naming file,
# line and column, exit 2 for bad options.
source "$(dirname "$0")/lib.sh"
fora=$FORA_BIN
data=$FORA_SOURCE_DIR/tests/data/gbtm
command -v python3 >/dev/null || fail "python3 not found"

for d in 2 3; do
    expect_exit 0 "$fora" trajectories fit --wide-csv "$data/TO1adj_wide.csv" --order $d \
        --groups 1-6 --starts 10 --quiet
    echo "$OUT" >"$TMP/fora_o$d.json"
done
python3 - "$data/flexmix_TO1adj.tsv" "$TMP" <<'PYEOF'
import json, math, sys
ref, tmp = sys.argv[1], sys.argv[2]
def no_nan(x):
    raise ValueError("non-finite number %s in the JSON" % x)
bad = 0
for line in open(ref):
    if line.startswith("order"):
        continue
    d, K, ll, npar, secs, shares = line.rstrip("\n").split("\t")
    d, K, ll, npar = int(d), int(K), float(ll), int(npar)
    doc = json.load(open("%s/fora_o%d.json" % (tmp, d)), parse_constant=no_nan)
    fit = [f for f in doc["fits"] if f["K"] == K][0]
    ours = sorted(g["pi"] for g in fit["groups"])
    theirs = [float(s) for s in shares.split(",")]
    diff = fit["loglik"] - ll
    same = abs(diff) <= 1e-3
    shares_ok = (not same) or all(abs(a - b) <= 1e-3 for a, b in zip(ours, theirs))
    ok = diff >= -1e-3 and shares_ok and fit["npar"] == npar and fit["converged"]
    print("order %d K %d: fora %.6f flexmix %.6f (%+.6f)%s%s" % (
        d, K, fit["loglik"], ll, diff, "" if same else " better optimum",
        "" if ok else "  <-- FAIL"))
    if not ok:
        bad += 1
    # diagnostics are there and sane
    for g in fit["groups"]:
        assert 0 < g["pi"] <= 1 and 0 <= g["assigned_share"] <= 1
        assert len(g["coef"]) == d + 1 and len(g["se"]) == d + 1
        assert len(g["trajectory"]) == 31
        if fit["se_defined"]:
            for p in g["trajectory"]:
                assert p["lower"] <= p["lambda"] <= p["upper"]
    assert fit["bic"] == -2 * fit["loglik"] + fit["npar"] * math.log(378) or \
        abs(fit["bic"] - (-2 * fit["loglik"] + fit["npar"] * math.log(378))) < 1e-6
    assert abs(fit["bic_person_periods"] - (-2 * fit["loglik"] + fit["npar"] * math.log(378 * 31))) < 1e-6
    assert abs(fit["aic"] - (-2 * fit["loglik"] + 2 * fit["npar"])) < 1e-6
sys.exit(1 if bad else 0)
PYEOF

expect_exit 0 "$fora" trajectories fit --wide-csv "$data/TO1adj_wide.csv" --model ziptau \
    --order 3 --groups 2-6 --starts 10 --quiet
echo "$OUT" >"$TMP/ziptau.json"
python3 - "$TMP/ziptau.json" <<'PYEOF'
import json, sys
crimcv = {2: -12183.746, 3: -11656.920, 4: -11384.103, 5: -11167.611, 6: -11036.706}
def no_nan(x):
    raise ValueError("non-finite number %s in the JSON" % x)
doc = json.load(open(sys.argv[1]), parse_constant=no_nan)
bad = 0
for fit in doc["fits"]:
    K = fit["K"]
    diff = fit["loglik"] - crimcv[K]
    ok = diff >= -1e-2 and fit["converged"]
    print("ziptau K %d: fora %.3f crimCV %.3f (%+.3f)%s" % (K, fit["loglik"], crimcv[K], diff,
                                                           "" if ok else "  <-- FAIL"))
    bad += not ok
    for g in fit["groups"]:
        assert g["tau"] > 0
        assert all(0 < p["zero_prob"] < 1 for p in g["trajectory"])
sys.exit(1 if bad else 0)
PYEOF

# ZIP (constant zero inflation) nests Poisson (p -> 0): its optimum can only be higher
expect_exit 0 "$fora" trajectories fit --wide-csv "$data/TO1adj_wide.csv" --model zip \
    --order 3 --groups 1-3 --starts 5 --quiet
echo "$OUT" >"$TMP/zip.json"
python3 - "$TMP/zip.json" "$TMP/fora_o3.json" <<'PYEOF'
import json, sys
z = {f["K"]: f for f in json.load(open(sys.argv[1]))["fits"]}
p = {f["K"]: f for f in json.load(open(sys.argv[2]))["fits"]}
for K in (1, 2, 3):
    assert z[K]["loglik"] >= p[K]["loglik"] - 1e-6, (K, z[K]["loglik"], p[K]["loglik"])
    assert z[K]["npar"] == p[K]["npar"] + K and z[K]["converged"]
    assert all(-30 < g["zero_logit"] < 30 for g in z[K]["groups"])
    print("zip K %d: %.3f >= poisson %.3f" % (K, z[K]["loglik"], p[K]["loglik"]))
PYEOF

# ZIP with a time-varying zero inflation nests the constant ZIP (g_1 = 0), and both zero-order
# fits report their logit coefficients
expect_exit 0 "$fora" trajectories fit --wide-csv "$data/TO1adj_wide.csv" --model zip \
    --zero-order 1 --order 3 --groups 1-3 --starts 5 --quiet
echo "$OUT" >"$TMP/zipt.json"
python3 - "$TMP/zipt.json" "$TMP/zip.json" <<'PYEOF'
import json, sys, math
z1 = {f["K"]: f for f in json.load(open(sys.argv[1]))["fits"]}
z0 = {f["K"]: f for f in json.load(open(sys.argv[2]))["fits"]}
for K in (1, 2, 3):
    assert z1[K]["loglik"] >= z0[K]["loglik"] - 1e-6, (K, z1[K]["loglik"], z0[K]["loglik"])
    assert z1[K]["npar"] == z0[K]["npar"] + K
    for g in z1[K]["groups"]:
        assert g["zero_order"] == 1 and len(g["zero_coef"]) == 2 and len(g["zero_se"]) == 2
        for p in g["trajectory"]:
            s = g["zero_coef"][0] + g["zero_coef"][1] * p["time"]
            assert abs(p["zero_prob"] - 1 / (1 + math.exp(-s))) < 1e-9
    print("zip zero-order 1, K %d: %.3f >= constant zip %.3f" % (K, z1[K]["loglik"], z0[K]["loglik"]))
PYEOF
expect_exit 2 "$fora" trajectories fit --wide-csv "$data/TO1adj_wide.csv" --zero-order 1
contains "$ERR" "--zero-order 1 needs --model zip"

# one order per group (--order 3,2,2,1) for K = 4: the model lies between all-linear and
# all-cubic K = 4 (nested both ways); each group reports its order, the orders as given
expect_exit 0 "$fora" trajectories fit --wide-csv "$data/TO1adj_wide.csv" --order 3,2,2,1 \
    --groups 3-4 --starts 10 --quiet --no-se
echo "$OUT" >"$TMP/orders.json"
expect_exit 0 "$fora" trajectories fit --wide-csv "$data/TO1adj_wide.csv" --order 1 \
    --groups 4 --starts 10 --quiet --no-se
echo "$OUT" >"$TMP/lin4.json"
python3 - "$TMP/orders.json" "$TMP/lin4.json" "$TMP/fora_o3.json" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
f = {x["K"]: x for x in d["fits"]}
lin = json.load(open(sys.argv[2]))["fits"][0]
cub = {x["K"]: x for x in json.load(open(sys.argv[3]))["fits"]}
assert d["orders"] == [3, 2, 2, 1], d["orders"]
assert sorted(g["order"] for g in f[4]["groups"]) == [1, 2, 2, 3]
assert f[4]["npar"] == 3 + 4 + 3 + 3 + 2
assert all(g["order"] == 3 for g in f[3]["groups"])  # the other K: the largest order
assert abs(f[3]["loglik"] - cub[3]["loglik"]) < 1e-6
assert lin["loglik"] - 1e-6 <= f[4]["loglik"] <= cub[4]["loglik"] + 1e-6, (lin["loglik"], f[4]["loglik"], cub[4]["loglik"])
print("orders 3,2,2,1: K = 4 loglik %.3f in [%.3f, %.3f]" % (f[4]["loglik"], lin["loglik"], cub[4]["loglik"]))
PYEOF
expect_exit 2 "$fora" trajectories fit --wide-csv "$data/TO1adj_wide.csv" --order 3,2 --groups 3-4
contains "$ERR" "--order lists 2 orders, so K = 2 must lie in --groups"
expect_exit 2 "$fora" trajectories fit --wide-csv "$data/TO1adj_wide.csv" --order 3,,2 --groups 3
contains "$ERR" "--order must be a polynomial order 0..3 or a comma-separated list"

# --min-share: best_bic_K only among fits whose groups all have pi >= the share
python3 - "$TMP/fora_o3.json" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["best_bic_K"] == 6 and all(f["admissible"] for f in d["fits"])
PYEOF
expect_exit 0 "$fora" trajectories fit --wide-csv "$data/TO1adj_wide.csv" --order 3 --groups 1-6 \
    --min-share 0.05 --no-se --quiet
[ "$(json "[f['admissible'] for f in d['fits']]")" = "[True, True, True, True, False, False]" ] ||
    fail "admissible: $(json "[f['admissible'] for f in d['fits']]")"
[ "$(json "d['best_bic_K']")" = 4 ] || fail "best_bic_K with --min-share 0.05"
expect_exit 0 "$fora" trajectories fit --wide-csv "$data/TO1adj_wide.csv" --order 3 --groups 2 \
    --min-share 0.5 --no-se --quiet
[ "$(json "d['best_bic_K']")" = None ] || fail "no admissible fit: best_bic_K must be null"
expect_exit 2 "$fora" trajectories fit --wide-csv "$data/TO1adj_wide.csv" --min-share 1.5

# a fit stopped early is flagged, with finite numbers
expect_exit 0 "$fora" trajectories fit --wide-csv "$data/TO1adj_wide.csv" --model ziptau \
    --order 3 --groups 4 --starts 2 --max-iter 1
contains "$ERR" "(not converged)"
[ "$(json "d['fits'][0]['converged']")" = False ] || fail "an early stop must be flagged"
[ "$(json "d['fits'][0]['iterations']")" = 1 ] || fail "--max-iter 1"

# --members: one posterior row per member, summing to 1
expect_exit 0 "$fora" trajectories fit --wide-csv "$data/TO1adj_wide.csv" --groups 3 --starts 2 \
    --members --quiet
[ "$(json "len(d['fits'][0]['members'])")" = 378 ] || fail "members"
[ "$(json "all(abs(sum(m['posterior']) - 1) < 1e-9 for m in d['fits'][0]['members'])")" = True ] ||
    fail "posteriors do not sum to 1"
[ "$(json "d['fits'][0]['members'][0]['id']")" = 1 ] || fail "member id"

# ---- bad input ----------------------------------------------------------
printf 'id,a,b,c\n1,0,1,2\n2,0,1\n' >"$TMP/ragged.csv"
expect_exit 3 "$fora" trajectories fit --wide-csv "$TMP/ragged.csv" --groups 1
contains "$ERR" "ragged.csv:3: 3 fields where the header has 4"
printf 'id,a,b,c\n1,0,1,2\n2,0,-1,0\n' >"$TMP/neg.csv"
expect_exit 3 "$fora" trajectories fit --wide-csv "$TMP/neg.csv" --groups 1
contains "$ERR" "neg.csv:3: column \"b\" (field 3): negative count \"-1\""
printf 'id,a,b,c\n1,0,1,2.5\n' >"$TMP/frac.csv"
expect_exit 3 "$fora" trajectories fit --wide-csv "$TMP/frac.csv" --groups 1
contains "$ERR" "frac.csv:2: column \"c\" (field 4): \"2.5\" is not a whole count"
printf 'id,a,b,c\n1,0,x,2\n' >"$TMP/text.csv"
expect_exit 3 "$fora" trajectories fit --wide-csv "$TMP/text.csv" --groups 1
contains "$ERR" "text.csv:2: column \"b\" (field 3): \"x\" is not a number"
: >"$TMP/empty.csv"
expect_exit 3 "$fora" trajectories fit --wide-csv "$TMP/empty.csv"
contains "$ERR" "empty.csv:1: empty file"
printf 'id,a,b\n' >"$TMP/header.csv"
expect_exit 3 "$fora" trajectories fit --wide-csv "$TMP/header.csv"
contains "$ERR" "no members"
expect_exit 4 "$fora" trajectories fit --wide-csv "$TMP/missing.csv"
printf 'id,a,b,c\n1,0,1,2\n2,0,1,0\n3,1,1,1\n' >"$TMP/small.csv"
expect_exit 2 "$fora" trajectories fit --wide-csv "$TMP/small.csv" --groups 1-2 --order 2
contains "$ERR" "3 members are fewer than the 7 parameters of a 2-group poisson model"
expect_exit 2 "$fora" trajectories fit --wide-csv "$TMP/small.csv" --groups 0-3
contains "$ERR" "--groups must be A-B or K"
expect_exit 2 "$fora" trajectories fit --wide-csv "$TMP/small.csv" --groups 1-21
expect_exit 2 "$fora" trajectories fit --wide-csv "$TMP/small.csv" --order 4
contains "$ERR" "--order must be a whole number from 0 to 3"
expect_exit 2 "$fora" trajectories fit --wide-csv "$TMP/small.csv" --model negbin
contains "$ERR" "--model must be poisson, zip or ziptau"
expect_exit 2 "$fora" trajectories fit --wide-csv "$TMP/small.csv" --starts 0
expect_exit 2 "$fora" trajectories frobnicate
expect_exit 0 "$fora" trajectories --help
contains "$OUT" "--wide-csv FILE"
# one group on the small file: lambda = mean count (7 / 9) with order 0
expect_exit 0 "$fora" trajectories fit --wide-csv "$TMP/small.csv" --groups 1 --order 0 --quiet
[ "$(json "abs(d['fits'][0]['groups'][0]['trajectory'][0]['lambda'] - 7/9) < 1e-9")" = True ] ||
    fail "one-group mean"
[ "$(json "d['fits'][0]['entropy']")" = None ] || fail "entropy of one group must be null"
echo "ok"
