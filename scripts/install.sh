#!/usr/bin/env bash
# Installs what mk needs on Debian 12 (run as root): the system packages (containerd, runc, CNI
# plugins, iptables, nats-server, busybox-static, gcc), the npm dependencies, and the build.
# With --test it also installs what only the test suite needs: chromium, which the dashboard's
# browser tests drive headless through playwright-core.
set -euo pipefail
cd "$(dirname "$0")/.."

need=(containerd runc containernetworking-plugins iptables nats-server busybox-static gcc libc6-dev iproute2 util-linux openssl conntrack)
for arg in "$@"; do
  case "$arg" in
    --test) need+=(chromium) ;;
    *) echo "error: unknown option $arg (the only one is --test)" >&2; exit 2 ;;
  esac
done
missing=()
for p in "${need[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "==> installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  echo "error: mk needs Node.js 20 or newer (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi

echo "==> installing npm dependencies"
npm ci --no-audit --no-fund --loglevel=error
echo "==> building"
npm run build --silent
echo "==> done: run 'npx mk up' (or 'npm link' to put mk on your PATH)"
