# Lints api-docs/openapi.yaml with Redocly CLI (the "recommended" rules, which
# include checking every example against its schema).  Errors fail the test,
# and so do warnings: the description is kept free of both.
#
# Run by ctest from the build folder's node/ (where the build ran `npm ci`):
#   bash tests/openapi_lint.sh NODE_DIR SPEC
set -euo pipefail
node_dir=$1
spec=$2
cd "$node_dir"
# no telemetry, no update check: CI has no network beyond the registries
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true
out=$(npx --no-install redocly lint --format=stylish "$spec" 2>&1) || {
    echo "$out"
    echo "FAIL: redocly lint found errors"
    exit 1
}
echo "$out"
if grep -qiE '[0-9]+ warnings?|warning' <<<"$out"; then
    echo "FAIL: redocly lint gave warnings"
    exit 1
fi
grep -q 'Your API description is valid' <<<"$out" || { echo "FAIL: unexpected lint output"; exit 1; }
echo "openapi lint: passed"
