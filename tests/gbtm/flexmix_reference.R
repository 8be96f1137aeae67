# Reference Poisson GBTM fits of TO1adj with R's flexmix (Debian r-cran-flexmix).
#
# Usage: Rscript tests/gbtm/flexmix_reference.R WIDE_CSV OUT_TSV [orders] [Kmax] [nrep] [tol]
#   e.g. Rscript tests/gbtm/flexmix_reference.R tests/data/gbtm/TO1adj_wide.csv \
#            tests/data/gbtm/flexmix_TO1adj.tsv 2,3 6 10 1e-8
#
# For each polynomial order d and K = 1..Kmax: the best of `nrep` random starts of
#   flexmix(y ~ poly(t, d) | id, k = K, model = FLXMRglm(family = "poisson"),
#           control = list(minprior = 0, tolerance = tol, iter.max = 5000))
# (stepFlexmix keeps the start with the highest log-likelihood).  t = 0..P-1.
# Writes one row per (d, K): order, K, loglik, npar, seconds, the group shares
# (posterior-mean priors, sorted ascending, comma-separated).
suppressPackageStartupMessages(library(flexmix))
args <- commandArgs(trailingOnly = TRUE)
wide <- read.csv(args[1])
out <- args[2]
orders <- if (length(args) >= 3) as.integer(strsplit(args[3], ",")[[1]]) else c(2L, 3L)
kmax <- if (length(args) >= 4) as.integer(args[4]) else 6L
nrep <- if (length(args) >= 5) as.integer(args[5]) else 10L
tol <- if (length(args) >= 6) as.numeric(args[6]) else 1e-8
ids <- wide[[1]]
y <- as.matrix(wide[, -1])
P <- ncol(y)
long <- data.frame(id = rep(ids, each = P), t = rep(0:(P - 1), times = length(ids)),
                   y = as.vector(t(y)))
cat("order\tK\tloglik\tnpar\tseconds\tshares\n", file = out)
set.seed(20261201)
for (d in orders) {
  for (K in 1:kmax) {
    t0 <- proc.time()[["elapsed"]]
    f <- stepFlexmix(y ~ poly(t, d) | id, data = long, k = K, nrep = nrep, verbose = FALSE,
                     model = FLXMRglm(family = "poisson"),
                     control = list(minprior = 0, tolerance = tol, iter.max = 5000))
    secs <- proc.time()[["elapsed"]] - t0
    ll <- as.numeric(logLik(f))
    np <- attr(logLik(f), "df")
    sh <- sort(prior(f))
    cat(sprintf("%d\t%d\t%.6f\t%d\t%.1f\t%s\n", d, K, ll, np, secs,
                paste(sprintf("%.6f", sh), collapse = ",")), file = out, append = TRUE)
    message(sprintf("order %d K %d loglik %.6f (%.1f s)", d, K, ll, secs))
  }
}
