#!/usr/bin/env bash
# Installs what mk needs on Debian 12 (run as root): the system packages (containerd, runc, CNI
# plugins, iptables, nats-server, busybox-static, gcc, nginx, python3 for the python function runtime,
# python3-pip for functions' requirements.txt, curl), the npm dependencies, and the build.
# `mk function deploy` runs `python3 -m pip install --target <copy of the code>`: Debian 12's pip
# refuses to install into the system environment (PEP 668, "externally-managed-environment") but
# allows --target, so PIP_BREAK_SYSTEM_PACKAGES / --break-system-packages are not needed.
# nginx is installed but never started by the package: it runs only as each node agent's child
# (the ingress proxy), so the package's own service is kept from starting and disabled.
# With --test it also installs what only the test suite needs: chromium, which the dashboard's
# browser tests drive headless through playwright-core.
set -euo pipefail
cd "$(dirname "$0")/.."

need=(containerd runc containernetworking-plugins iptables nats-server busybox-static gcc libc6-dev iproute2 util-linux openssl conntrack nginx python3 python3-pip curl)
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
  new_nginx=0
  for p in "${missing[@]}"; do [ "$p" = nginx ] && new_nginx=1; done
  policy=/usr/sbin/policy-rc.d
  policy_saved=""
  restore_policy() {
    if [ -n "$policy_saved" ]; then mv -f "$policy_saved" "$policy"; else rm -f "$policy"; fi
  }
  if [ "$new_nginx" = 1 ]; then
    # Exit 101 tells the packages' scripts not to start their services (nginx on port 80 of
    # this machine): removed after the install, also when it fails.
    # An existing policy (a file or a link) is moved aside, not written through, and put back.
    if [ -e "$policy" ] || [ -L "$policy" ]; then policy_saved=$(mktemp -u "$policy.mk-saved.XXXXXX"); mv "$policy" "$policy_saved"; fi
    trap restore_policy EXIT
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
  fi
  apt-get install -y -qq "${missing[@]}" >/dev/null
  if [ "$new_nginx" = 1 ]; then
    restore_policy
    trap - EXIT
    if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then systemctl disable nginx >/dev/null 2>&1 || true; fi
  fi
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
