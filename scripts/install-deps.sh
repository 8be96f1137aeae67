#!/usr/bin/env bash
# Installs what fora needs to build, test and run on Debian 12, idempotently:
# only packages that are missing are installed.  Runs apt-get as root (via
# sudo when not root).
set -euo pipefail

packages=(
    build-essential cmake pkg-config
    libigraph-dev libgsl-dev libmicrohttpd-dev libjansson-dev libpq-dev
    libexpat1-dev zlib1g-dev
    # CBLAS for the linking analysis's blocked products (optional in CMake)
    libopenblas-dev
    postgresql-15 postgresql-client-15
    curl python3 clang-format
    # the TLS test makes a self-signed certificate; the HTTP load benchmark
    openssl wrk
    r-base-core r-cran-survival r-cran-flexmix
    python3-networkx python3-scipy
    # api-docs/openapi.yaml -> JSON at build time; response validation in tests
    python3-yaml python3-jsonschema
    # the dashboard's browser test (headless, driven by playwright-core)
    chromium
)
# npm installs the Node tools (Redocly CLI, Redoc; the dashboard's Chart.js,
# Cytoscape.js and playwright-core) into the build folder (Debian 12: Node 18,
# npm 9).  A Node.js from elsewhere (e.g. NodeSource's, which bundles npm and
# conflicts with Debian's npm package) is kept.
if ! command -v npm >/dev/null 2>&1; then
    packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: all ${#packages[@]} packages present"
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# Debian's postgresql package would create and start a system-wide cluster;
# fora runs its own, so keep the package from creating one.
if [ ! -f /etc/postgresql-common/createcluster.conf ] || \
   ! grep -q '^create_main_cluster = false' /etc/postgresql-common/createcluster.conf 2>/dev/null; then
    $SUDO mkdir -p /etc/postgresql-common
    echo "create_main_cluster = false" | $SUDO tee -a /etc/postgresql-common/createcluster.conf >/dev/null
fi
$SUDO apt-get install -y -qq --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}"
echo "install-deps: done"
