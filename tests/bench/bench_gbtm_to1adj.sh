#!/usr/bin/env bash
# Benchmark of issue 4: Poisson GBTM of TO1adj (378 people x 31 years),
# K = 1..6, 10 starts each, fora side by side with R's flexmix in the same run,
# for quadratic and cubic trajectories; then fora's ZIP(tau) cubic K = 1..6
# (crimCV's times for comparison are quoted in tests/bench/RESULTS.md).
#
# flexmix runs as the issue states it: the best of 10 random starts of
#   flexmix(y ~ poly(t, d) | id, k = K, model = FLXMRglm(family = "poisson"),
#           control = list(minprior = 0))      (stepFlexmix, nrep = 10)
# with flexmix's default tolerance.  Usage: tests/bench/bench_gbtm_to1adj.sh
# Prints a Markdown table for tests/bench/RESULTS.md.  Needs Rscript and
# r-cran-flexmix (scripts/install-deps.sh).  Takes about ten minutes.
set -euo pipefail
cd "$(dirname "$0")/../.."
FORA_BUILD_DIR=build-release ./scripts/build.sh -DCMAKE_BUILD_TYPE=Release -DFORA_SANITIZE= >/dev/null
fora=$PWD/build-release/fora
data=tests/data/gbtm/TO1adj_wide.csv
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cat >"$work/flex.R" <<'REOF'
suppressPackageStartupMessages(library(flexmix))
args <- commandArgs(trailingOnly = TRUE)
wide <- read.csv(args[1]); d <- as.integer(args[2]); K <- as.integer(args[3])
y <- as.matrix(wide[, -1]); P <- ncol(y)
long <- data.frame(id = rep(wide[[1]], each = P), t = rep(0:(P - 1), times = nrow(y)),
                   y = as.vector(t(y)))
set.seed(K)
t0 <- proc.time()[["elapsed"]]
f <- stepFlexmix(y ~ poly(t, d) | id, data = long, k = K, nrep = 10, verbose = FALSE,
                 model = FLXMRglm(family = "poisson"), control = list(minprior = 0))
cat(sprintf("%.6f %.2f\n", as.numeric(logLik(f)), proc.time()[["elapsed"]] - t0))
REOF

echo "| model | order | K | flexmix loglik | flexmix s | fora loglik | fora s | speed-up |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
for d in 2 3; do
    tf=0; tr=0
    for K in 1 2 3 4 5 6; do
        read -r fll fs < <(Rscript "$work/flex.R" "$data" "$d" "$K")
        s0=$(date +%s.%N)
        $fora trajectories fit --wide-csv "$data" --order "$d" --groups "$K" --starts 10 --quiet >"$work/f.json"
        s1=$(date +%s.%N)
        rs=$(echo "$s1 - $s0" | bc -l)
        rll=$(python3 -c "import json,sys; print('%.6f' % json.load(open(sys.argv[1]))['fits'][0]['loglik'])" "$work/f.json")
        tf=$(echo "$tf + $fs" | bc -l); tr=$(echo "$tr + $rs" | bc -l)
        printf "| poisson | %d | %d | %s | %.2f | %s | %.3f | %.0fx |\n" "$d" "$K" "$fll" "$fs" "$rll" "$rs" "$(echo "$fs / $rs" | bc -l)"
    done
    printf "| poisson | %d | 1-6 | | **%.1f** | | **%.3f** | **%.0fx** |\n" "$d" "$tf" "$tr" "$(echo "$tf / $tr" | bc -l)"
done
for K in 1 2 3 4 5 6; do
    s0=$(date +%s.%N)
    $fora trajectories fit --wide-csv "$data" --model ziptau --order 3 --groups "$K" --starts 10 --quiet >"$work/z.json"
    s1=$(date +%s.%N)
    rll=$(python3 -c "import json,sys; print('%.6f' % json.load(open(sys.argv[1]))['fits'][0]['loglik'])" "$work/z.json")
    printf "| ziptau | 3 | %d | | | %s | %.3f | |\n" "$K" "$rll" "$(echo "$s1 - $s0" | bc -l)"
done
