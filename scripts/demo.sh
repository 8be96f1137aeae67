#!/usr/bin/env bash
# Quick start: installs dependencies, builds, starts the embedded PostgreSQL
# cluster under ./var, applies migrations, imports the bundled sample forum
# (Beer, Wine & Spirits Stack Exchange, structure only), recomputes its
# analyses and serves the API on http://127.0.0.1:8080/ until Ctrl-C.
# Running it again is safe: the import is idempotent and a new run is added.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh
fora=./build/fora
$fora db start
$fora migrate
$fora import --forum beer --format csv server/sample/beer
$fora recompute --forum beer
# a read token for this session (printed once; `fora token list` shows them all)
token=$($fora token create --quiet --name "demo $(date -u +%Y-%m-%dT%H:%M)")
port=${FORA_HTTP_PORT:-8080}
echo
echo "Dashboard: http://127.0.0.1:$port/#token=$token"
echo "Try:       curl -H 'Authorization: Bearer $token' http://127.0.0.1:$port/v1/forums/beer/keyplayers"
exec $fora serve --port "$port"
