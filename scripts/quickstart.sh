#!/usr/bin/env bash
# One command from a fresh Debian 12 machine (as root) to a running one-machine cluster with a
# demo pod: install everything, then `mk up`.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install.sh
npm link --silent >/dev/null 2>&1 || true
exec node bin/run.js up "$@"
